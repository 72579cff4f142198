"""Sequential schedule: one request at a time, warmup excluded, then N measured iterations."""

from __future__ import annotations

from collections.abc import Callable

from ..redact import Redactor
from ..result import EndpointResult
from ..transport.base import RequestSpec, Transport


def measure(
    transport: Transport,
    spec: RequestSpec,
    result: EndpointResult,
    *,
    iterations: int,
    warmup: int,
    redactor: Redactor,
    tick: Callable[[str], None] | None = None,
) -> EndpointResult:
    """Send ``warmup`` unrecorded requests, then record ``iterations`` into ``result``.

    A KeyboardInterrupt leaves ``result`` marked interrupted with what was recorded so far.
    """
    result.planned = iterations
    try:
        for done in range(warmup):
            transport.send(spec)
            if tick:
                tick(f"{result.name}: warmup {done + 1}/{warmup}")
        for done in range(iterations):
            result.record(transport.send(spec), redactor)
            if tick:
                tick(f"{result.name}: {done + 1}/{iterations}")
    except KeyboardInterrupt:
        result.interrupted = True
        raise
    return result
