"""The HTTP transport's own HTTP/1.1 client against scripted servers on loopback.

Each server here reads real requests from a real socket and answers each with the next reply
of its script, byte for byte as written, recording which connection every request came on;
so a test sees exactly what was sent, how often, and on which connection. Together they
prove what the client must keep from urllib3: exact framing (Content-Length, chunked, until
close, none for HEAD/204/1xx), a failure counted once and never retried, timeouts, the
headers of unexpected answers (Retry-After), verified TLS, and proxies ignored.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
import trustme

from perftest.measure.endpoint_result import EndpointResult
from perftest.measure.transport.base import RequestSpec, Sample
from perftest.measure.transport.http import HttpTransport
from perftest.plan.model import Endpoint
from perftest.redact import Redactor
from tests.support.live_server import free_port

GET = RequestSpec("Get", "GET", "/thing/")
HEAD = RequestSpec("Head", "HEAD", "/thing/")
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

#: A reply: what the server does with the connection after reading one request.
Reply = Callable[[socket.socket, "Script"], None]


def answer(raw: bytes, pieces: int = 1) -> Reply:
    """Send ``raw`` as it is (in ``pieces`` writes), and keep the connection."""

    def reply(conn: socket.socket, script: Script) -> None:
        step = -(-len(raw) // pieces)
        for start in range(0, len(raw), step):
            conn.sendall(raw[start : start + step])

    return reply


def answer_then_close(raw: bytes) -> Reply:
    """Send ``raw``, then close the connection (FIN) while the client is idle."""

    def reply(conn: socket.socket, script: Script) -> None:
        conn.sendall(raw)
        conn.close()
        script.closed.set()

    return reply


def close_without_answer(conn: socket.socket, script: Script) -> None:
    conn.close()


def stall_after(raw: bytes) -> Reply:
    """Send ``raw`` (part of an answer), then send nothing more until the test ends."""

    def reply(conn: socket.socket, script: Script) -> None:
        conn.sendall(raw)
        script.release.wait(10)
        conn.close()

    return reply


@dataclass
class Script:
    """The replies in order, and what the server saw: (connection number, request head)."""

    replies: list[Reply]
    requests: list[tuple[int, bytes]] = field(default_factory=list)
    connections: int = 0
    closed: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


def _read_request(conn: socket.socket, pending: bytearray) -> bytes | None:
    """One request's head (its body, if any, read and dropped); None when the client closed."""
    while b"\r\n\r\n" not in pending:
        data = conn.recv(65536)
        if not data:
            return None
        pending += data
    end = pending.index(b"\r\n\r\n") + 4
    head = bytes(pending[:end])
    del pending[:end]
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            size = int(line.split(b":", 1)[1])
            while len(pending) < size:
                pending += conn.recv(65536)
            del pending[:size]
    return head


def _serve(conn: socket.socket, number: int, script: Script, lock: threading.Lock) -> None:
    pending = bytearray()
    with conn:
        while conn.fileno() != -1:
            try:
                head = _read_request(conn, pending)
            except OSError:
                return
            if head is None:
                return
            with lock:
                script.requests.append((number, head))
                reply = script.replies[len(script.requests) - 1]
            reply(conn, script)


@contextmanager
def scripted(
    replies: list[Reply], tls: ssl.SSLContext | None = None, host: str = "127.0.0.1"
) -> Iterator[tuple[str, Script]]:
    """A server on a free loopback port following ``replies``: its base URL and script."""
    script, lock = Script(replies), threading.Lock()
    listener = socket.create_server((host, 0))
    listener.settimeout(10)
    workers: list[threading.Thread] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            if tls is not None:
                try:
                    conn = tls.wrap_socket(conn, server_side=True)
                except ssl.SSLError:
                    conn.close()
                    continue
            with lock:
                script.connections += 1
                number = script.connections
            worker = threading.Thread(target=_serve, args=(conn, number, script, lock))
            workers.append(worker)
            worker.start()

    acceptor = threading.Thread(target=accept)
    acceptor.start()
    scheme = "https" if tls is not None else "http"
    try:
        yield f"{scheme}://{host}:{listener.getsockname()[1]}", script
    finally:
        script.release.set()
        listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close() alone does not
        listener.close()
        acceptor.join(10)
        for worker in workers:
            worker.join(10)


@contextmanager
def client(base_url: str, **timeouts: float) -> Iterator[HttpTransport]:
    with HttpTransport(base_url, **timeouts) as transport:
        yield transport


def send_all(
    replies: list[Reply], specs: list[RequestSpec], tls: ssl.SSLContext | None = None, **timeouts
) -> tuple[list[Sample], Script]:
    """Send ``specs`` in turn on one transport to a server following ``replies``."""
    with scripted(replies, tls) as (url, script), client(url, **timeouts) as transport:
        samples = [transport.send(spec) for spec in specs]
    return samples, script


def connections_used(script: Script) -> list[int]:
    """The connection each request came on, in order."""
    return [number for number, _ in script.requests]


def test_keep_alive_answers_are_framed_by_content_length_on_one_connection():
    samples, script = send_all([answer(OK), answer(OK, pieces=3), answer(OK)], [GET] * 3)
    assert [(s.status, s.body, s.size, s.error) for s in samples] == [(200, b"ok", 2, None)] * 3
    assert connections_used(script) == [1, 1, 1]


def test_the_request_is_encoded_and_framed_as_urllib3_sent_it():
    token = (("Authorization", "Token t"),)
    spec = RequestSpec("Post", "POST", "/a b/ü?q=1#top", token, b'{"a":1}', "application/json")
    with scripted([answer(OK)]) as (url, script), client(url + "/api/") as transport:
        assert transport.send(spec).status == 200
    port = url.rsplit(":", 1)[1].encode()
    assert script.requests[0][1] == (
        b"POST /api/a%20b/%C3%BC?q=1 HTTP/1.1\r\nHost: 127.0.0.1:" + port + b"\r\n"
        b"Accept-Encoding: identity\r\nUser-Agent: perftest\r\nAuthorization: Token t\r\n"
        b"Content-Type: application/json\r\nContent-Length: 7\r\n\r\n"
    )


def test_chunked_answers_with_extensions_and_trailers_are_read_exactly():
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;note=first\r\nWiki\r\n"
        b"5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-Trailer: t\r\n\r\n"
    )
    (first, second), script = send_all([answer(chunked, pieces=9), answer(OK)], [GET] * 2)
    assert (first.status, first.body, first.size) == (200, b"Wikipedia in\r\n\r\nchunks.", 23)
    assert second.body == b"ok"  # the trailer was consumed: the next answer is framed right
    assert connections_used(script) == [1, 1]


def test_large_bodies_arrive_whole_by_length_and_by_chunks():
    body = bytes(range(256)) * 12_000  # 3 MB
    by_length = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    chunks = b"".join(
        b"%x\r\n" % len(body[i : i + 65_536]) + body[i : i + 65_536] + b"\r\n"
        for i in range(0, len(body), 65_536)
    )
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n"
    replies = [answer(by_length, pieces=50), answer(chunked, pieces=50), answer(OK)]
    samples, script = send_all(replies, [GET] * 3)
    assert samples[0].body == body and samples[0].size == len(body)
    assert samples[1].body == body and samples[1].size == len(body)
    assert samples[2].body == b"ok"
    assert connections_used(script) == [1, 1, 1]


def test_head_204_and_interim_answers_have_no_body_and_keep_the_connection():
    replies = [
        answer(b"HTTP/1.1 200 OK\r\nContent-Length: 9000\r\n\r\n"),  # HEAD: a GET's length
        answer(b"HTTP/1.1 204 No Content\r\n\r\n"),
        answer(b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n" + OK),
        answer(OK),
    ]
    (head, empty, hinted, last), script = send_all(replies, [HEAD, GET, GET, GET])
    assert (head.status, head.body, head.size) == (200, b"", 0)
    assert (empty.status, empty.body) == (204, b"")
    assert (hinted.status, hinted.body) == (200, b"ok")
    assert last.body == b"ok"
    assert script.requests[0][1].startswith(b"HEAD /thing/ HTTP/1.1\r\n")
    assert connections_used(script) == [1, 1, 1, 1]


def test_an_answer_framed_by_the_close_is_read_to_the_end_and_the_next_connects_anew():
    replies = [
        answer_then_close(b"HTTP/1.0 200 OK\r\n\r\nuntil the end"),
        answer(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"),
        answer(OK),
    ]
    samples, script = send_all(replies, [GET] * 3)
    assert [s.body for s in samples] == [b"until the end", b"ok", b"ok"]
    assert connections_used(script) == [1, 2, 3]


def test_a_connection_closed_mid_keep_alive_is_one_error_never_retried():
    samples, script = send_all([answer(OK), close_without_answer, answer(OK)], [GET] * 3)
    assert [(s.status, s.error) for s in samples] == [
        (200, None),
        (None, "connection reset"),
        (200, None),
    ]
    # The failed request was sent once, on the first connection; only the next one used a new.
    assert connections_used(script) == [1, 1, 2]


def test_an_idle_connection_the_server_closed_is_replaced_before_sending():
    with scripted([answer_then_close(OK), answer(OK)]) as (url, script), client(url) as transport:
        first = transport.send(GET)
        assert script.closed.wait(10)
        second = transport.send(GET)
    assert (first.body, second.body, second.error) == (b"ok", b"ok", None)
    assert connections_used(script) == [1, 2]  # nothing was sent on the closed one


def test_an_answer_cut_short_is_a_reset_and_the_next_request_connects_anew():
    part = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part"
    samples, script = send_all([answer_then_close(part), answer(OK)], [GET] * 2)
    assert [(s.status, s.error) for s in samples] == [(None, "connection reset"), (200, None)]
    assert connections_used(script) == [1, 2]


def test_an_answer_that_stalls_midway_is_a_timeout_sent_once():
    part = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part"
    (sample,), script = send_all([stall_after(part)], [GET], read_timeout=0.2)
    assert (sample.status, sample.error) == (None, "timeout")
    assert len(script.requests) == 1


def test_an_http10_answer_that_asks_to_be_kept_alive_keeps_its_connection():
    kept = b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok"
    samples, script = send_all([answer(kept), answer(OK)], [GET] * 2)
    assert [s.body for s in samples] == [b"ok", b"ok"]
    assert connections_used(script) == [1, 1]


@pytest.mark.parametrize(
    "raw",
    [
        b"SSH-2.0-OpenSSH_9.2\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
        b"HTTP/1.1 200 OK\r\nContent-Length: two\r\n\r\nok",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ],
    ids=["not-http", "two-lengths", "length-not-a-number", "bad-chunk-size"],
)
def test_what_cannot_be_framed_is_an_error_of_its_own(raw):
    (sample,), _ = send_all([answer(raw)], [GET])
    assert (sample.status, sample.error) == (None, "other: BadAnswer")


def test_an_unexpected_answer_keeps_its_headers_retry_after_and_body():
    throttled = (
        b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 30\r\nVary: Accept\r\n"
        b'vary: Cookie\r\nContent-Length: 27\r\n\r\n{"detail": "slow down now"}'
    )
    (refused, fine), _ = send_all([answer(throttled), answer(OK)], [GET] * 2)
    assert refused.status == 429 and refused.body == b'{"detail": "slow down now"}'
    assert refused.headers["Retry-After"] == "30"
    assert refused.headers["Vary"] == "Accept, Cookie"
    assert fine.headers == {}  # expected answers carry no headers: nothing reads them

    result = EndpointResult.empty(Endpoint("Get", "GET", "/thing/", 200, auth=False))
    for sample in (refused, fine):
        result.record(sample, Redactor())
    group = result.errors["HTTP 429"]
    assert (result.requests, result.ok, group.count, group.retry_after) == (2, 1, 1, {"30": 1})
    assert group.example == 'Retry-After: 30 | {"detail": "slow down now"}'


def test_a_header_that_would_break_the_request_is_an_error_and_nothing_is_sent():
    bad = RequestSpec("Bad", "GET", "/", (("X-Note", "one\r\nX-Injected: two"),))
    (refused, fine), script = send_all([answer(OK)], [bad, GET])
    assert (refused.status, refused.error) == (None, "other: ValueError")
    assert fine.status == 200 and len(script.requests) == 1


def test_a_connect_that_gets_no_answer_is_a_connect_timeout():
    """A listener whose accept queue is full drops further connection attempts on Linux."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    address = listener.getsockname()
    fillers = []
    try:
        for _ in range(3):  # fill the queue; later attempts wait in SYN_SENT
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(address)
            fillers.append(filler)
        with client(f"http://127.0.0.1:{address[1]}", connect_timeout=0.2) as transport:
            sample = transport.send(GET)
    finally:
        for filler in fillers:
            filler.close()
        listener.close()
    assert (sample.status, sample.error) == (None, "connect timeout")


def test_proxy_settings_in_the_environment_are_ignored(monkeypatch):
    nowhere = f"http://127.0.0.1:{free_port()}"
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.setenv(name, nowhere)
    (sample,), script = send_all([answer(OK)], [GET])
    assert sample.status == 200 and len(script.requests) == 1


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


def server_context(authority: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    return context


def test_https_is_verified_and_keeps_one_connection(authority, tmp_path, monkeypatch):
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))  # where the client reads the system's CAs
    samples, script = send_all([answer(OK)] * 3, [GET] * 3, tls=server_context(authority))
    assert [(s.status, s.body) for s in samples] == [(200, b"ok")] * 3
    assert connections_used(script) == [1, 1, 1]


def test_https_with_a_certificate_nobody_vouches_for_is_refused(authority):
    (sample,), script = send_all([answer(OK)], [GET], tls=server_context(authority))
    assert (sample.status, sample.error) == (None, "other: SSLCertVerificationError")
    assert script.requests == []
