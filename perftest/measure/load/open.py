"""Open model: requests arrive on a fixed schedule, whether or not the server keeps up.

Request i is due at t0 + i/rate, as wrk2 and k6's constant-arrival-rate schedule it. A
closed loop would wait for a slow answer before sending the next request and so hide the
queue a slow server builds (coordinated omission); here latency runs from the request's
intended send time, so time spent waiting for a free worker is part of it. A request that
no worker could start within the level's window is dropped, never sent late past it, which
bounds the level's length.

Why a request was late is told from the workers' own state. Workers take slots in order, each
as soon as it is free, so a slot taken after it was due found every worker in a request; a
slot taken before it was due had a worker idle and waiting for it, and only the worker's own
start was late (its process busy). The time each worker spends inside requests says whether
the pool was busy throughout (too small for the rate) or mostly idle, filled only while the
server was slow to answer. There is no ramp-up: the schedule itself is the load, and
counting only part of it would change the rate that was asked for.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Iterator

from perftest.measure.result import LevelResult
from perftest.plan.model import LoadPlan
from perftest.text import level_label_of

from .schedule import Clock, Schedule, Send, Step, WorkerState

_perf_ns = time.perf_counter_ns
#: A request sent later than its intended time by more than this is counted late.
LATE_TOLERANCE_S = 0.005


class Open(Schedule):
    """floor(rate * duration_s) requests due at a steady ``rate``, sent by ``workers`` threads.

    Every slot is either sent and counted or dropped (sent + dropped == slots), except after
    Ctrl-C or a worker failure, which leave slots untaken.
    """

    model = "open"

    def __init__(self, workers: int, *, rate: float, duration_s: float):
        if not (rate > 0 and duration_s > 0):
            raise ValueError(f"an open level needs rate and duration above 0: {rate}, {duration_s}")
        super().__init__(workers)
        self.rate, self.duration_s = rate, duration_s
        self.slots_total = math.floor(rate * duration_s + 1e-9)
        self._slots = itertools.count()  # next() on it is atomic under the GIL

    @classmethod
    def from_plan(cls, load: LoadPlan, workers: int) -> Open:
        assert load.rate is not None and load.duration_s is not None
        return cls(workers, rate=load.rate, duration_s=load.duration_s)

    @property
    def label(self) -> str:
        return level_label_of(self.model, self.workers, self.rate)

    def describe(self) -> LevelResult:
        return LevelResult(
            self.model,
            self.workers,
            rate=self.rate,
            duration_s=self.duration_s,
            planned_requests=self.slots_total,
        )

    def drive(self, clock: Clock, worker: WorkerState, send: Send, steps: Iterator[Step]) -> None:
        take, stop, t0 = self._slots.__next__, clock.stop, clock.start_ns
        period_ns, end = 1e9 / self.rate, t0 + int(self.duration_s * 1e9)
        tolerance_ns = int(LATE_TOLERANCE_S * 1e9)
        while not stop.is_set():
            slot = take()
            if slot >= self.slots_total:
                return
            intended = t0 + int(slot * period_ns)
            now = _perf_ns()
            if now >= end:
                worker.dropped += 1
                continue
            waiting = now < intended  # this worker was free before the slot was due
            if waiting:
                if stop.wait((intended - now) / 1e9):
                    return
                now = _perf_ns()
            lateness = now - intended
            worker.max_lateness_ns = max(worker.max_lateness_ns, lateness)
            late = lateness > tolerance_ns
            worker.late += late
            worker.late_while_idle += late and waiting
            spec, result = next(steps)
            sample = send(spec)
            done = _perf_ns()
            worker.busy_ns += done - now
            sample.elapsed_ns = done - intended
            worker.count(result, sample, now, done)
