"""Closed model: N workers, each sending its next request as soon as the last one answered.

This is a fixed pool of busy clients (Locust, ab -c): the server's speed sets the throughput,
so a level answers "how fast with N at once", not "how does it hold a given arrival rate"
(that is the open model). The first ``ramp_up_s`` seconds warm connections, caches and the
server's pools; their requests are sent but not counted.
"""

from __future__ import annotations

import itertools
import sys
import time
from collections.abc import Callable, Iterator, Mapping

from ..redact import Redactor
from ..result import LevelResult
from ..scenario import Endpoint
from ..transport.base import Transport
from .base import Harness, Mix, Prepare, Step, TransportFactory, Worker

_perf_ns = time.perf_counter_ns
_NEVER = sys.maxsize


def run_closed(
    *,
    concurrency: int,
    factory: TransportFactory,
    prepare: Prepare,
    mix: Mix,
    endpoints: Mapping[str, Endpoint],
    redactor: Redactor,
    duration_s: float | None = None,
    requests: int | None = None,
    ramp_up_s: float = 1.0,
    tick: Callable[[str], None] | None = None,
) -> LevelResult:
    """One closed-model level: ``duration_s`` seconds or exactly ``requests`` counted requests.

    In requests mode the workers draw tickets from one shared counter rather than fixed
    quotas, so the total is exact even when a worker could not log in, and every worker stays
    busy to the end instead of the level finishing with fewer than N in flight. In duration
    mode a request started before the deadline is counted when it completes.
    Ctrl-C raises ``LevelInterrupted`` carrying what was measured.
    """
    if (duration_s is None) == (requests is None):
        raise ValueError("a closed level runs for duration_s or for requests: give exactly one")
    harness = Harness(
        workers=concurrency,
        factory=factory,
        prepare=prepare,
        mix=mix,
        endpoints=endpoints,
        redactor=redactor,
    )
    ramp_ns = int(ramp_up_s * 1e9)
    run_ns = _NEVER if duration_s is None else int(duration_s * 1e9)
    budget = _NEVER if requests is None else requests
    tickets = itertools.count()  # next() on it is atomic under the GIL
    stopped = harness.stop.is_set

    def body(worker: Worker, transport: Transport, steps: Iterator[Step]) -> None:
        send, take = transport.send, tickets.__next__
        measure_from = harness.start_ns + ramp_ns
        while not stopped() and _perf_ns() < measure_from:
            send(next(steps)[0])
            worker.rampup += 1
        deadline = min(measure_from + run_ns, _NEVER)
        while not stopped() and take() < budget:
            spec, result = next(steps)
            sent = _perf_ns()
            if sent >= deadline:
                return
            sample = send(spec)
            worker.count(result, sample, sent, _perf_ns())

    level = LevelResult("closed", concurrency, duration_s=duration_s, planned_requests=requests)
    return harness.run(level, body, label=f"{concurrency} concurrent", tick=tick)
