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
from collections.abc import Iterator

from perftest.measure.result import LevelResult
from perftest.plan.model import LoadPlan
from perftest.text import level_label_of

from .schedule import Clock, Schedule, Send, Step, WorkerState

_perf_ns = time.perf_counter_ns
_NEVER = sys.maxsize


class Closed(Schedule):
    """One closed-model level: ``duration_s`` seconds or exactly ``requests`` counted requests.

    In requests mode the workers draw tickets from one shared counter rather than fixed
    quotas, so the total is exact even when a worker could not log in, and every worker stays
    busy to the end instead of the level finishing with fewer than N in flight. In duration
    mode a request started before the deadline is counted when it completes.
    """

    model = "closed"

    def __init__(
        self,
        workers: int,
        *,
        duration_s: float | None = None,
        requests: int | None = None,
        ramp_up_s: float = 1.0,
    ):
        if (duration_s is None) == (requests is None):
            raise ValueError("a closed level runs for duration_s or for requests: give exactly one")
        super().__init__(workers)
        self.duration_s, self.requests, self.ramp_up_s = duration_s, requests, ramp_up_s
        self._tickets = itertools.count()  # next() on it is atomic under the GIL

    @classmethod
    def from_plan(cls, load: LoadPlan, workers: int) -> Closed:
        return cls(
            workers, duration_s=load.duration_s, requests=load.requests, ramp_up_s=load.ramp_up_s
        )

    @property
    def label(self) -> str:
        return level_label_of(self.model, self.workers, None)

    def describe(self) -> LevelResult:
        return LevelResult(
            self.model, self.workers, duration_s=self.duration_s, planned_requests=self.requests
        )

    def drive(self, clock: Clock, worker: WorkerState, send: Send, steps: Iterator[Step]) -> None:
        stopped, take = clock.stop.is_set, self._tickets.__next__
        budget = _NEVER if self.requests is None else self.requests
        measure_from = clock.start_ns + int(self.ramp_up_s * 1e9)
        while not stopped() and _perf_ns() < measure_from:
            send(next(steps)[0])
            worker.rampup += 1
        run_ns = _NEVER if self.duration_s is None else int(self.duration_s * 1e9)
        deadline = min(measure_from + run_ns, _NEVER)
        while not stopped() and take() < budget and _perf_ns() < deadline:
            worker.send_counted(send, steps)
