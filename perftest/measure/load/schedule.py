"""The one Schedule interface: when each worker sends its next request, and nothing else.

Every shape of load (sequential, closed, open; later distributed) is a ``Schedule`` built from
the plan. The harness owns the rest once: threads, transports, logins, the barrier that
starts every worker's clock together, Ctrl-C and the merge. A schedule names the level it
will fill (``describe``) and drives one worker (``drive``); one instance serves one level.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from perftest.measure.endpoint_result import EndpointResult
from perftest.measure.result import LevelResult
from perftest.measure.transport.base import RequestSpec, Sample
from perftest.redact import Redactor

#: One step of a worker's mix: the request to send and where its figures go.
Step = tuple[RequestSpec, EndpointResult]
Send = Callable[[RequestSpec], Sample]

_perf_ns = time.perf_counter_ns


@dataclass
class Clock:
    """What every worker of a level shares: the moment they were released, and the stop."""

    start_ns: int = 0
    stop: threading.Event = field(default_factory=threading.Event)
    #: The wall clock (``time.time_ns``) at the release, for a soak's warm-up end.
    started_unix_ns: int = 0


class WorkerState:
    """One worker's private figures; only its own thread writes them while it measures."""

    def __init__(self, index: int, redactor: Redactor):
        self.index, self.redactor = index, redactor
        self.first_send_ns = 0
        self.last_done_ns = 0
        self.rampup = 0
        self.late = 0
        #: Of ``late``: sent late although this worker was free before the slot was due and
        #: waiting for it (so not every worker was busy): the worker itself started late.
        self.late_while_idle = 0
        #: Time spent inside counted requests (open model), waiting on the server's answers.
        self.busy_ns = 0
        self.dropped = 0
        self.max_lateness_ns = 0
        self.logins = 0
        self.captures = 0
        self.login_failed = False
        self.failure = ""
        #: Held while this worker records a request, and by a soak's checkpoint while it
        #: copies this worker's figures: taken by no one else, so uncontended between them.
        self.lock = threading.Lock()

    def count(self, result: EndpointResult, sample: Sample, sent_ns: int, done_ns: int) -> None:
        """Record one counted request, sent at ``sent_ns`` and completed at ``done_ns``."""
        with self.lock:
            result.record(sample, self.redactor)
        if not self.first_send_ns:
            self.first_send_ns = sent_ns
        self.last_done_ns = done_ns

    def send_counted(self, send: Send, steps: Iterator[Step]) -> EndpointResult:
        """Send the next step now, count it from this moment, return where it was counted."""
        spec, result = next(steps)
        sent = _perf_ns()
        sample = send(spec)
        self.count(result, sample, sent, _perf_ns())
        return result


class Schedule(ABC):
    """When each request of a level is sent; ``workers`` threads drive it together."""

    #: "sequential", "closed" or "open": stored with the level, named in reports.
    model: str

    def __init__(self, workers: int):
        if workers < 1:
            raise ValueError(f"a level needs at least one worker, not {workers}")
        self.workers = workers

    @property
    @abstractmethod
    def label(self) -> str:
        """How progress lines and reports name the level, e.g. ``10 concurrent``."""

    @abstractmethod
    def describe(self) -> LevelResult:
        """The empty level this schedule fills, naming what was planned."""

    @abstractmethod
    def drive(self, clock: Clock, worker: WorkerState, send: Send, steps: Iterator[Step]) -> None:
        """One worker's loop: send ``steps`` until the schedule or ``clock.stop`` ends it."""
