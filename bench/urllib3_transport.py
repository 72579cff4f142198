"""The HTTP transport perftest had before its own HTTP/1.1 client: kept for the bench only.

``bench/thread_engine_cpu.py`` measures the thread engine on it and on today's transport in
the same run, so the CPU each costs per request is compared side by side. Its original note:

urllib3 is used directly rather than requests, which costs about three times the CPU per
request: on a fast endpoint the client's own overhead would be measured as server latency.
Nothing is retried and no redirect is followed (``retries=False`` covers both), because a
failed request is a data point. Failures become a ``Sample`` whose ``error`` names the cause
("timeout", "connection refused", ...), found by walking the exception's causes; the success
path does no bookkeeping beyond the timer.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from http.client import IncompleteRead, RemoteDisconnected

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)

from perftest.measure.transport.base import RequestSpec, Sample, Transport
from perftest.plan.target import parse_base_url

_perf_ns = time.perf_counter_ns
# The peer went away mid-exchange: a reset, a broken pipe, or a close before the full answer.
_RESET = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError, RemoteDisconnected)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what caused it, outermost first (urllib3 wraps socket errors twice over)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        following = current.__cause__ or current.__context__
        if following is None and isinstance(current, ProtocolError) and len(current.args) > 1:
            wrapped = current.args[1]
            following = wrapped if isinstance(wrapped, BaseException) else None
        current = following


def classify(exc: BaseException) -> str:
    """The failure class of a request that got no response, as reports group them."""
    for cause in _causes(exc):
        if isinstance(cause, ReadTimeoutError):
            return "timeout"
        if isinstance(cause, ConnectTimeoutError) and not isinstance(cause, NewConnectionError):
            return "connect timeout"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, (*_RESET, IncompleteRead)):
            return "connection reset"
    if isinstance(exc, ProtocolError) and len(exc.args) > 1:
        exc = exc.args[1] if isinstance(exc.args[1], BaseException) else exc
    return f"other: {type(exc).__name__}"


class Urllib3Transport(Transport):
    """Sends requests to ``base_url`` over one keep-alive connection; one instance per thread."""

    kind = "http"

    def __init__(self, base_url: str, connect_timeout: float = 5.0, read_timeout: float = 30.0):
        target = parse_base_url(base_url)
        pool_class = (
            urllib3.HTTPSConnectionPool if target.scheme == "https" else urllib3.HTTPConnectionPool
        )
        self._pool = pool_class(
            target.host,
            target.port,
            timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
            maxsize=1,
            block=False,
            retries=False,
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
        pool = self._pool
        url = self._prefix + spec.path
        start = _perf_ns()
        try:
            response = pool.urlopen(
                spec.method, url, body=spec.body, headers=headers, redirect=False
            )
            body = response.data
        except Exception as exc:  # every failure is a data point, never an exception
            return Sample(spec.endpoint, _perf_ns() - start, None, error=classify(exc))
        elapsed = _perf_ns() - start
        status = response.status
        if status < 400:
            return Sample(spec.endpoint, elapsed, status, len(body), None, body)
        return Sample(
            spec.endpoint, elapsed, status, len(body), None, body, headers=dict(response.headers)
        )

    def close(self) -> None:
        self._pool.close()
