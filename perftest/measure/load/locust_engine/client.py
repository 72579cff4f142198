"""One Locust user's HTTP connection: geventhttpclient, keep-alive, no retry, no redirect.

geventhttpclient is the client Locust's own FastHttpUser is built on, used here directly: a
perftest user records its figures itself, so Locust's request events and statistics would
only cost CPU. As with perftest's thread engine, a failed request is a ``Sample`` whose
``error`` names its class, never an exception and never a retry, and a redirect is an answer.
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

# geventhttpclient re-sends an idempotent request once when it finds its keep-alive connection
# closed; perftest never retries (a failed request is a data point and the server's own count
# must equal perftest's), so that is switched off where geventhttpclient decides it.
if not hasattr(geventhttpclient.client, "_may_retry_after_send_error"):
    raise ImportError("this geventhttpclient cannot be kept from retrying; install 2.3 or later")
geventhttpclient.client._may_retry_after_send_error = lambda method: False

_perf_ns = time.perf_counter_ns
_RESET = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError, HTTPConnectionClosed)


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

    def __init__(self, base_url: str, connect_timeout: float, read_timeout: float):
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

    def send(self, spec: RequestSpec) -> Sample:
        key = (spec.headers, spec.content_type)
        headers = self._headers.get(key)
        if headers is None:
            headers = self._headers[key] = dict(spec.headers)
            if spec.content_type:
                headers["Content-Type"] = spec.content_type
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
        if status < 400:
            return Sample(spec.endpoint, elapsed, status, len(body), None, body)
        wait = response.get("Retry-After")
        answer = {"Retry-After": wait} if wait is not None else {}
        return Sample(spec.endpoint, elapsed, status, len(body), None, body, headers=answer)

    def close(self) -> None:
        self._client.close()
