"""One HTTP/1.1 keep-alive connection on a plain (or TLS) socket: one request, one answer.

The thread engine pays its client's CPU on one interpreter for every request it sends, and
that CPU caps how many requests one process can send: urllib3 cost about 0.11 ms per request
and ``http.client`` about 0.04 ms (its headers go through the ``email`` package), where this
module costs a few µs beyond the system calls. It does only what a measuring client needs:
send a request prepared once as bytes, read exactly one answer framed as RFC 9112 frames it
(Content-Length, chunked, or until the server closes; no body for HEAD, 1xx, 204 and 304),
and keep the connection only when the answer says it may be kept.

Nothing is retried. An idle connection the server has closed is noticed before anything is
sent on it (as urllib3 checks a pooled connection) and replaced; once a request is sent, any
failure is the caller's to count, and the connection is closed. Proxy settings in the
environment are ignored, as urllib3's connection pools ignore them: the target is reached
directly.
"""

from __future__ import annotations

import select
import socket
import ssl

#: Bytes asked of the socket per read: a 9 KB answer takes one read once it has arrived.
RECV_BYTES = 65536
#: The status line and headers together, and one chunk-size or trailer line, at most.
MAX_HEAD_BYTES = 65536
MAX_LINE_BYTES = 8192
_HEX_DIGITS = b"0123456789abcdefABCDEF"
#: Answers that never have a body, whatever their headers say.
_NO_BODY = frozenset({204, 304})

#: One answer: its status, its header fields as received (each ``b"\r\nName: value"``, so
#: the block is empty or starts with CRLF), and its body.
Answer = tuple[int, bytes, bytes]


class ConnectTimeout(TimeoutError):
    """The TCP connect (or the TLS handshake) took longer than the connect timeout."""


class PeerClosed(ConnectionError):
    """The server closed the connection before its answer was complete."""


class BadAnswer(Exception):
    """What the server sent is not an HTTP/1.x answer this client can frame."""


class Connection:
    """One connection to ``host``:``port``, opened on first use and reopened after a close.

    ``tls`` is the context for an https target (None for http). Every socket operation after
    the connect waits at most ``read_timeout`` seconds, as urllib3's read timeout does.
    """

    def __init__(
        self,
        host: str,
        port: int,
        tls: ssl.SSLContext | None,
        connect_timeout: float,
        read_timeout: float,
    ):
        self._address = (host, port)
        self._tls = tls
        self._connect_timeout, self._read_timeout = connect_timeout, read_timeout
        self._sock: socket.socket | None = None
        #: Tells whether the idle socket has something to read (``select.poll`` where there is
        #: one: half the cost of ``select.select``).
        self._poller = select.poll() if hasattr(select, "poll") else None
        #: Bytes received but not yet consumed by the answer being read.
        self._buf = b""

    def exchange(self, request: bytes, head_only: bool) -> Answer:
        """Send ``request`` and read its answer; ``head_only`` for a HEAD request.

        Raises whatever ended the exchange (``ConnectTimeout``, ``TimeoutError``,
        ``ConnectionRefusedError``, ``PeerClosed``, ``BadAnswer``, any ``OSError``), after
        closing the connection, so the next exchange starts on a fresh one.
        """
        sock = self._sock
        if sock is None or not self._idle_and_open(sock):
            self.close()
            sock = self._connect()
        try:
            sock.sendall(request)
            status, fields, body, keep = self._read_answer(sock, head_only)
        except BaseException:
            self.close()
            raise
        if not keep or self._buf:  # bytes after the answer: its framing cannot be trusted
            self.close()
        return status, fields, body

    def close(self) -> None:
        sock, self._sock, self._buf = self._sock, None, b""
        if sock is not None:
            if self._poller is not None:
                self._poller.unregister(sock)
            sock.close()

    def _connect(self) -> socket.socket:
        try:
            sock = socket.create_connection(self._address, timeout=self._connect_timeout)
        except TimeoutError as exc:
            raise ConnectTimeout(f"no connection within {self._connect_timeout:g} s") from exc
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._tls is not None:
                try:  # the handshake is part of connecting, under the connect timeout
                    sock = self._tls.wrap_socket(sock, server_hostname=self._address[0])
                except TimeoutError as exc:
                    raise ConnectTimeout(
                        f"no TLS handshake within {self._connect_timeout:g} s"
                    ) from exc
            sock.settimeout(self._read_timeout)
        except BaseException:
            sock.close()
            raise
        if self._poller is not None:
            self._poller.register(sock, select.POLLIN)
        self._sock = sock
        return sock

    def _idle_and_open(self, sock: socket.socket) -> bool:
        """False when the server closed the idle connection (or sent what nobody asked for).

        A plain socket that is readable while no request is out is closed or broken. A TLS
        socket may instead hold session tickets the server sent after the handshake: a
        non-blocking read consumes them and tells the two apart.
        """
        if self._poller is not None:
            readable = self._poller.poll(0)
        else:
            readable = select.select((sock,), (), (), 0)[0]
        if not readable:
            return True
        if self._tls is None:
            return False
        sock.setblocking(False)
        try:
            sock.recv(1)
        except (BlockingIOError, ssl.SSLWantReadError):
            return True
        except OSError:
            return False
        finally:
            sock.settimeout(self._read_timeout)
        return False  # the server closed it, or sent bytes before any request

    def _read_answer(self, sock: socket.socket, head_only: bool) -> tuple[int, bytes, bytes, bool]:
        """The final answer (interim 1xx answers skipped) and whether the connection stays."""
        status, http11, fields = self._read_head(sock)
        while 100 <= status < 200 and status != 101:
            status, http11, fields = self._read_head(sock)
        length, chunked, keep = _framing(fields, http11)
        if head_only or status in _NO_BODY or status < 200:
            return status, fields, b"", keep and status != 101
        if chunked:
            return status, fields, self._read_chunked(sock), keep
        if length is not None:
            return status, fields, self._read_exactly(sock, length), keep
        return status, fields, self._read_to_close(sock), False

    def _recv(self, sock: socket.socket) -> bytes:
        data = sock.recv(RECV_BYTES)
        if not data:
            raise PeerClosed("the server closed the connection before a complete answer")
        return data

    def _read_head(self, sock: socket.socket) -> tuple[int, bool, bytes]:
        """The status, whether the server speaks HTTP/1.1, and the header fields."""
        buf, end = self._until(sock, b"\r\n\r\n", MAX_HEAD_BYTES, "end of the headers")
        self._buf = buf[end + 4 :]
        first_end = buf.find(b"\r\n", 0, end)
        if first_end < 0:
            first_end = end
        first = buf[:first_end]
        if (
            first[:7] != b"HTTP/1."
            or first[8:9] != b" "
            or not first[9:12].isdigit()
            or first[12:13] not in (b" ", b"")
        ):
            raise BadAnswer(f"not an HTTP/1.x status line: {first[:40]!r}")
        return int(first[9:12]), first[7:8] != b"0", buf[first_end:end]

    def _line(self, sock: socket.socket) -> bytes:
        buf, end = self._until(sock, b"\r\n", MAX_LINE_BYTES, "end of a chunked-body line")
        self._buf = buf[end + 2 :]
        return buf[:end]

    def _until(self, sock: socket.socket, mark: bytes, limit: int, what: str) -> tuple[bytes, int]:
        """What was read with more until it holds ``mark``, and where ``mark`` starts; an answer
        without it in its first ``limit`` bytes is a ``BadAnswer`` naming ``what`` is missing."""
        buf = self._buf
        end = buf.find(mark)
        while end < 0:
            if len(buf) > limit:
                raise BadAnswer(f"no {what} within {limit} bytes")
            searched = max(len(buf) - len(mark) + 1, 0)
            buf += self._recv(sock)
            end = buf.find(mark, searched)
        return buf, end

    def _read_exactly(self, sock: socket.socket, size: int) -> bytes:
        buf = self._buf
        if len(buf) >= size:
            self._buf = buf[size:]
            return buf[:size]
        body = bytearray(size)
        body[: len(buf)] = buf
        self._buf = b""
        view, got = memoryview(body), len(buf)
        while got < size:
            received = sock.recv_into(view[got:])
            if not received:
                raise PeerClosed(f"the server closed the connection after {got} of {size} bytes")
            got += received
        view.release()
        return bytes(body)

    def _read_chunked(self, sock: socket.socket) -> bytes:
        parts = []
        while True:
            size_field = self._line(sock).split(b";", 1)[0].strip(b" \t")
            if not size_field or size_field.strip(_HEX_DIGITS):
                raise BadAnswer(f"not a chunk size: {size_field[:20]!r}")
            size = int(size_field, 16)
            if size == 0:
                break
            parts.append(self._read_exactly(sock, size))
            if self._read_exactly(sock, 2) != b"\r\n":
                raise BadAnswer("a chunk not followed by CRLF")
        while self._line(sock):  # trailer fields, up to the empty line: read and dropped
            pass
        return b"".join(parts)

    def _read_to_close(self, sock: socket.socket) -> bytes:
        parts = [self._buf]
        self._buf = b""
        while data := sock.recv(RECV_BYTES):
            parts.append(data)
        return b"".join(parts)


def _values(fields: bytes, name: bytes) -> list[bytes]:
    """Every value of the field ``name`` (lower case, colon included) in lowered ``fields``."""
    values = []
    at = fields.find(name)
    while at >= 0:
        start = at + len(name)
        end = fields.find(b"\r\n", start)
        values.append(fields[start : end if end >= 0 else len(fields)].strip(b" \t"))
        at = fields.find(name, start)
    return values


def _framing(fields: bytes, http11: bool) -> tuple[int | None, bool, bool]:
    """Content-Length (None when absent), chunked or not, and whether the connection stays.

    Only the three fields that frame the answer are looked for, by searching the lowered
    block rather than splitting every line. A Transfer-Encoding overrides Content-Length
    (RFC 9112 §6.3); one that does not end in chunked runs until the server closes. HTTP/1.1
    keeps the connection unless told to close it; HTTP/1.0 closes it unless told to keep it.
    """
    lowered = fields.lower()
    keep = http11
    for value in _values(lowered, b"\r\nconnection:"):
        tokens = {token.strip(b" \t") for token in value.split(b",")}
        if b"close" in tokens:
            keep = False
        elif b"keep-alive" in tokens:
            keep = True
    encodings = _values(lowered, b"\r\ntransfer-encoding:")
    if encodings:
        chunked = encodings[-1].rsplit(b",", 1)[-1].strip(b" \t") == b"chunked"
        return None, chunked, keep and chunked
    lengths = set(_values(lowered, b"\r\ncontent-length:"))
    if not lengths:
        return None, False, keep
    length = lengths.pop()
    if lengths or not length.isdigit():  # two different lengths frame nothing either
        raise BadAnswer(f"a Content-Length that frames nothing: {length[:20]!r}")
    return int(length), False, keep
