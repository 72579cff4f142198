"""One Locust user's HTTP connection: geventhttpclient, keep-alive, no retry, no redirect.

geventhttpclient is the client Locust's own FastHttpUser is built on, used here directly: a
perftest user records its figures itself, so Locust's request events and statistics would
only cost CPU. As with perftest's thread engine, a failed request is a ``Sample`` whose
``error`` names its class, never an exception and never a retry, and a redirect is an answer.
Given the run's timing token, every request carries it and the answer's ``Server-Timing`` (one
look-up in the headers geventhttpclient has parsed, read only when present) is the server's
own account of the request (``Sample.server``), as over perftest's own HTTP transport.
"""

from __future__ import annotations

import errno
import socket
import time

import geventhttpclient.client
from geventhttpclient import HTTPClient
from geventhttpclient.response import HTTPConnectionClosed

from perftest.measure.transport.base import RequestSpec, Sample
from perftest.plan.target import parse_base_url
from perftest.timing_header import ANSWER, HEADER, ServerTiming, parse_server_timing

# geventhttpclient re-sends an idempotent request once when it finds its keep-alive connection
# closed; perftest never retries (a failed request is a data point and the server's own count
# must equal perftest's), so that is switched off where geventhttpclient decides it.
if not hasattr(geventhttpclient.client, "_may_retry_after_send_error"):
    raise ImportError("this geventhttpclient cannot be kept from retrying; install 2.3 or later")
geventhttpclient.client._may_retry_after_send_error = lambda method: False

_perf_ns = time.perf_counter_ns
_RESET = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError, HTTPConnectionClosed)


def server_timing(value: str | list[str] | None) -> ServerTiming | None:
    """The server's own account in the answer's ``Server-Timing`` (several fields come as a
    list), or None when it gave none."""
    if not value:
        return None
    return parse_server_timing(value if isinstance(value, str) else ", ".join(value))


def classify(exc: BaseException) -> str:
    """The failure class of a request that got no answer, named as the thread engine names it."""
    if isinstance(exc, (TimeoutError, socket.timeout)) or "timed out" in str(exc):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, _RESET) or getattr(exc, "errno", None) in (errno.ECONNRESET, errno.EPIPE):
        return "connection reset"
    return f"other: {type(exc).__name__}"


class UserConnection:
    """Sends one request at a time to ``base_url`` over one keep-alive connection."""

    def __init__(
        self, base_url: str, connect_timeout: float, read_timeout: float, timing_token: str = ""
    ):
        target = parse_base_url(base_url)
        self._client = HTTPClient(
            target.host,
            target.port,
            ssl=target.scheme == "https",
            connection_timeout=connect_timeout,
            network_timeout=read_timeout,
            concurrency=1,
        )
        self._prefix = target.prefix
        self._headers: dict[tuple, dict[str, str]] = {}
        #: The run's signed timing header ("": none sent, answers not read for it).
        self._timing = timing_token

    def send(self, spec: RequestSpec) -> Sample:
        key = (spec.headers, spec.content_type)
        headers = self._headers.get(key)
        if headers is None:
            headers = self._headers[key] = dict(spec.headers)
            if spec.content_type:
                headers["Content-Type"] = spec.content_type
            if self._timing:
                headers[HEADER] = self._timing
        start = _perf_ns()
        try:
            response = self._client.request(
                spec.method, self._prefix + spec.path, body=spec.body, headers=headers
            )
            body = response.read()
        except Exception as exc:  # every failure is a data point, never an exception
            return Sample(spec.endpoint, _perf_ns() - start, None, error=classify(exc))
        elapsed = _perf_ns() - start
        status = response.status_code
        server = server_timing(response.get(ANSWER)) if self._timing else None
        if status < 400:
            return Sample(spec.endpoint, elapsed, status, len(body), None, body, server=server)
        wait = response.get("Retry-After")
        answer = {"Retry-After": wait} if wait is not None else {}
        return Sample(
            spec.endpoint, elapsed, status, len(body), None, body, headers=answer, server=server
        )

    def close(self) -> None:
        self._client.close()
