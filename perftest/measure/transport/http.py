"""HTTP transport: requests over a real socket, one keep-alive connection per worker.

The client's own CPU per request is what caps one process's request rate and what hides in
the latency of a fast endpoint, so the wire work is ``http1.Connection`` (a few µs beyond the
system calls, where urllib3 took about 0.11 ms) and each distinct request is turned into
bytes once. Nothing is retried and no redirect is followed, because a failed request is a
data point: a failure becomes a ``Sample`` whose ``error`` names its class ("timeout",
"connection refused", ...). The success path does no bookkeeping beyond the timer and a
search of the header block for the session cookie's name (its key is kept for clean-up); the
answer's headers are decoded only for answers of 400 and above, whose Retry-After and
excerpt the result keeps. No cookie is sent back: each login opens a session of its own.

Given the run's timing token, every request carries it (``timing_header.HEADER``, written once
into the prepared bytes) and each answer's header block is searched for ``Server-Timing``, read
only on a hit: the server's own account of the request (``Sample.server``). Without a token
the answers are not searched.
"""

from __future__ import annotations

import ssl
import time
from urllib.parse import quote

from perftest.plan.target import parse_base_url
from perftest.timing_header import HEADER, ServerTiming, parse_server_timing

from .base import RequestSpec, Sample, SessionKeys, Transport
from .http1 import Connection, ConnectTimeout, PeerClosed

_perf_ns = time.perf_counter_ns
#: The peer went away mid-exchange: a reset, a broken pipe, or a close before the full answer.
_RESET = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError, PeerClosed)
#: Characters a request target may carry as they are; anything else is percent-encoded, as
#: urllib3 encodes it ("%" is kept, so an encoded path is not encoded twice). A fragment
#: ("#...") is the client's own and is not sent.
_TARGET_SAFE = "!$%&'()*+,/:;=?@[]~"
#: Methods whose request has a body by definition: without one they say ``Content-Length: 0``.
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
#: How many distinct requests a transport keeps prepared; more (a path per request) start over.
PREPARED_KEPT = 256
_TIMING_FIELD = b"\r\nserver-timing:"


def classify(exc: BaseException) -> str:
    """The failure class of a request that got no answer, as reports group them."""
    if isinstance(exc, ConnectTimeout):
        return "connect timeout"
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, _RESET):
        return "connection reset"
    return f"other: {type(exc).__name__}"


def _host_header(host: str, port: int, scheme: str) -> str:
    default = 443 if scheme == "https" else 80
    name = f"[{host}]" if ":" in host else host.encode("idna").decode("ascii")
    return name if port == default else f"{name}:{port}"


def _header_line(name: str, value: str) -> str:
    if not name or any(c in name for c in ":\r\n \t") or any(c in value for c in "\r\n\0"):
        raise ValueError(f"the request header {name!r} is not a valid header line")
    return f"{name}: {value}\r\n"


def set_cookies(fields: bytes, name: str) -> list[str]:
    """The values the answer's ``Set-Cookie`` fields give the cookie ``name`` (each field is
    one cookie: fields are never joined, since an ``Expires`` date holds a comma)."""
    wanted, values = name.encode("latin-1"), []
    for line in fields.split(b"\r\n")[1:]:
        field_name, _, value = line.partition(b":")
        if field_name.strip(b" \t").lower() != b"set-cookie":
            continue
        cookie_name, equals, cookie = value.split(b";", 1)[0].partition(b"=")
        cookie = cookie.strip(b" \t").strip(b'"')
        if equals and cookie_name.strip(b" \t") == wanted and cookie:
            values.append(cookie.decode("latin-1"))
    return values


def server_timing(fields: bytes) -> ServerTiming | None:
    """The server's own account in the answer's ``Server-Timing`` fields (the name in any
    case, several fields joined as one list), or None when it gave none."""
    lowered = fields.lower()
    at = lowered.find(_TIMING_FIELD)
    if at < 0:
        return None
    values = []
    while at >= 0:
        start = at + len(_TIMING_FIELD)
        end = lowered.find(b"\r\n", start)
        values.append(fields[start : end if end >= 0 else len(fields)].strip(b" \t"))
        at = lowered.find(_TIMING_FIELD, start)
    return parse_server_timing(b", ".join(values).decode("latin-1"))


def answer_headers(fields: bytes) -> dict[str, str]:
    """An answer's headers as a dict: each name as first received, repeated fields joined."""
    headers: dict[str, str] = {}
    names: dict[str, str] = {}
    for line in fields.split(b"\r\n")[1:]:  # the block starts with CRLF
        raw_name, _, raw_value = line.partition(b":")
        name, value = raw_name.decode("latin-1"), raw_value.strip(b" \t").decode("latin-1")
        first = names.setdefault(name.lower(), name)
        headers[first] = f"{headers[first]}, {value}" if first in headers else value
    return headers


class HttpTransport(Transport):
    """Sends requests to ``base_url`` over one keep-alive connection; one instance per thread.

    An https target is verified as urllib3 verifies it by default: the system's CA
    certificates and the host name (``ssl.create_default_context``).
    """

    kind = "http"

    def __init__(
        self,
        base_url: str,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        sessions: SessionKeys | None = None,
        timing_token: str = "",
    ):
        target = parse_base_url(base_url)
        tls = ssl.create_default_context() if target.scheme == "https" else None
        self._connection = Connection(target.host, target.port, tls, connect_timeout, read_timeout)
        self._prefix = target.prefix
        self._host = _host_header(target.host, target.port, target.scheme)
        #: id(spec) -> (spec, the request as bytes, whether it is a HEAD request). The spec is
        #: kept so its id cannot be reused by another spec while the entry exists.
        self._prepared: dict[int, tuple[RequestSpec, bytes, bool]] = {}
        #: Where the session keys the answers set go, for clean-up (None: not gathered); the
        #: answer's headers are searched for the cookie's name only (a few ns), parsed on a hit.
        self._sessions = sessions
        self._session_marker = f"{sessions.cookie_name}=".encode("latin-1") if sessions else b""
        #: The run's signed timing header line ("" : none sent, answers not searched).
        self._timing = _header_line(HEADER, timing_token) if timing_token else ""

    def _prepare(self, spec: RequestSpec) -> tuple[RequestSpec, bytes, bool]:
        """The request as bytes: what urllib3 sent for the same spec, built once."""
        given = {name.lower() for name, _ in spec.headers}
        target = quote((self._prefix + spec.path).split("#", 1)[0], safe=_TARGET_SAFE)
        lines = [f"{spec.method} {target} HTTP/1.1\r\n"]
        if "host" not in given:
            lines.append(f"Host: {self._host}\r\n")
        if "accept-encoding" not in given:
            lines.append("Accept-Encoding: identity\r\n")
        if "user-agent" not in given:
            lines.append("User-Agent: perftest\r\n")
        if self._timing:
            lines.append(self._timing)
        lines.extend(_header_line(name, value) for name, value in spec.headers)
        if spec.content_type and "content-type" not in given:
            lines.append(_header_line("Content-Type", spec.content_type))
        if "content-length" not in given and (spec.body or spec.method in _BODY_METHODS):
            lines.append(f"Content-Length: {len(spec.body or b'')}\r\n")
        lines.append("\r\n")
        request = "".join(lines).encode("latin-1") + (spec.body or b"")
        if len(self._prepared) >= PREPARED_KEPT:
            self._prepared.clear()
        prepared = self._prepared[id(spec)] = (spec, request, spec.method == "HEAD")
        return prepared

    def send(self, spec: RequestSpec) -> Sample:
        prepared = self._prepared.get(id(spec))
        start = _perf_ns()
        try:
            if prepared is None or prepared[0] is not spec:
                prepared = self._prepare(spec)
            status, fields, body = self._connection.exchange(prepared[1], prepared[2])
        except Exception as exc:  # every failure is a data point, never an exception
            return Sample(spec.endpoint, _perf_ns() - start, None, error=classify(exc))
        elapsed = _perf_ns() - start
        if self._sessions is not None and self._session_marker in fields:
            self._sessions.add(set_cookies(fields, self._sessions.cookie_name))
        server = server_timing(fields) if self._timing else None
        if status < 400:
            return Sample(spec.endpoint, elapsed, status, len(body), None, body, server=server)
        headers = answer_headers(fields)
        return Sample(
            spec.endpoint, elapsed, status, len(body), None, body, headers=headers, server=server
        )

    def close(self) -> None:
        self._connection.close()
