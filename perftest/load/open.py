"""Open model: requests arrive on a fixed schedule, whether or not the server keeps up.

Request i is due at t0 + i/rate, as wrk2 and k6's constant-arrival-rate schedule it. A
closed loop would wait for a slow answer before sending the next request and so hide the
queue a slow server builds (coordinated omission); here latency runs from the request's
intended send time, so time spent waiting for a free worker is part of it. A request that
no worker could start within the level's window is dropped, never sent late past it, which
bounds the level's length. There is no ramp-up: the schedule itself is the load, and
counting only part of it would change the rate that was asked for.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Iterator, Mapping

from ..redact import Redactor
from ..result import LevelResult
from ..scenario import Endpoint
from ..transport.base import Transport
from .base import Harness, Mix, Prepare, Step, TransportFactory, Worker

_perf_ns = time.perf_counter_ns
#: A request sent later than its intended time by more than this is counted late.
LATE_TOLERANCE_S = 0.005


def run_open(
    *,
    rate: float,
    duration_s: float,
    workers: int,
    factory: TransportFactory,
    prepare: Prepare,
    mix: Mix,
    endpoints: Mapping[str, Endpoint],
    redactor: Redactor,
    tick: Callable[[str], None] | None = None,
) -> LevelResult:
    """floor(rate * duration_s) requests due at a steady ``rate``, sent by ``workers`` threads.

    Every slot is either sent and counted or dropped (sent + dropped == slots), except after
    Ctrl-C (``LevelInterrupted``) or a worker failure, which leave slots untaken.
    """
    if not (rate > 0 and duration_s > 0):
        raise ValueError(f"an open level needs rate and duration above 0, not {rate}, {duration_s}")
    slots_total = math.floor(rate * duration_s + 1e-9)
    harness = Harness(
        workers=workers,
        factory=factory,
        prepare=prepare,
        mix=mix,
        endpoints=endpoints,
        redactor=redactor,
    )
    period_ns = 1e9 / rate
    window_ns = int(duration_s * 1e9)
    tolerance_ns = int(LATE_TOLERANCE_S * 1e9)
    slots = itertools.count()  # next() on it is atomic under the GIL
    stop = harness.stop

    def body(worker: Worker, transport: Transport, steps: Iterator[Step]) -> None:
        send, take, t0 = transport.send, slots.__next__, harness.start_ns
        end = t0 + window_ns
        while not stop.is_set():
            slot = take()
            if slot >= slots_total:
                return
            intended = t0 + int(slot * period_ns)
            now = _perf_ns()
            if now >= end:
                worker.dropped += 1
                continue
            if now < intended:
                if stop.wait((intended - now) / 1e9):
                    return
                now = _perf_ns()
            lateness = now - intended
            if lateness > worker.max_lateness_ns:
                worker.max_lateness_ns = lateness
            if lateness > tolerance_ns:
                worker.late += 1
            spec, result = next(steps)
            sample = send(spec)
            done = _perf_ns()
            sample.elapsed_ns = done - intended
            worker.count(result, sample, now, done)

    level = LevelResult(
        "open", workers, rate=rate, duration_s=duration_s, planned_requests=slots_total
    )
    return harness.run(
        level, body, label=f"{rate:g} req/s open, {workers} worker{'s' * (workers != 1)}", tick=tick
    )
