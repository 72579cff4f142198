"""A yardstick for the machine itself, so a slower machine is told apart from slower code.

Two runs of unchanged code on a shared machine can differ by more than the noise within
either run: another program, a throttled CPU, a neighbour on the same host. Every run
therefore times the same fixed work again and again while it measures, and stores it:

- the **reference workload**: pure-Python, deterministic arithmetic in the measuring process,
  timed in wall-clock time, so it slows down with the CPU it is given (preemption, a lower
  clock, a busy neighbour's cache) and with nothing perftest measures;
- the **trivial request**: a request for ``TRIVIAL_PATH`` (routed nowhere, so answered 404)
  through Django's handler and middleware stack in the measuring process, in every mode. It
  never reaches a served target, so a server's access log and the run's counts are unchanged,
  and it needs nothing of the target's URLs or data; over HTTP it tells the measuring
  machine's drift, not the remote server's.

Samples are interleaved with the endpoints (one before the sequential pass, one after each
endpoint, one before each load level), outside every timed window. A sample keeps the fastest
of ``TIMINGS_PER_SAMPLE`` timings of each yardstick: the fastest is what the machine can do,
which is what drifts between runs (a lower clock, a slower host); a slower timing is a
moment's interference, which the phase's CPU window reads as other load. The comparison
reads the ratio of the medians of the samples (``analysis.machine``). ``Calibration.phase``
reads the machine's CPU over a sequential pass the way a load level reads it over its window
(``machine.CpuWindow``).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from typing import Any

from .machine import CpuWindow
from .transport.base import RequestSpec
from .transport.inprocess import InProcessTransport

#: Rounds of the reference workload: about half a millisecond of pure Python on a 2020s core.
REFERENCE_ROUNDS = 20_000
#: The trivial request's path: routed nowhere, so Django answers 404 through its whole stack.
TRIVIAL_PATH = "/__perftest_calibration__/"
#: Timings of each yardstick in one sample, of which the fastest is kept.
TIMINGS_PER_SAMPLE = 3
_TRIVIAL = RequestSpec("calibration", "GET", TRIVIAL_PATH)


def reference_workload(rounds: int = REFERENCE_ROUNDS) -> int:
    """Fixed integer arithmetic in a Python loop: the same bytecode every time, no memory
    growth, no I/O. Returns its checksum so the work cannot be skipped."""
    total = 0
    for number in range(rounds):
        total = (total * 31 + number) % 1_000_003
    return total


class _CalibrationNotFound(logging.Filter):
    """Keeps Django's "Not Found" warning for the trivial request out of the logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        return getattr(request, "path", None) != TRIVIAL_PATH


class Calibration:
    """The run's calibration samples and each sequential phase's CPU window, as plain data."""

    def __init__(self) -> None:
        self.reference_ns: list[int] = []
        self.trivial_ns: list[int] = []
        self.trivial_status: int | None = None
        self.phases: dict[str, dict[str, Any]] = {}

    def sample(self) -> None:
        """One sample of each yardstick, now (between two endpoints or before a level, never
        inside a timed window): the fastest of ``TIMINGS_PER_SAMPLE`` timings each."""
        timings = []
        for _ in range(TIMINGS_PER_SAMPLE):
            start = time.perf_counter_ns()
            reference_workload()
            timings.append(time.perf_counter_ns() - start)
        self.reference_ns.append(min(timings))
        quiet = _CalibrationNotFound()
        logger = logging.getLogger("django.request")
        logger.addFilter(quiet)
        try:
            with InProcessTransport() as transport:
                answers = [transport.send(_TRIVIAL) for _ in range(TIMINGS_PER_SAMPLE)]
        finally:
            logger.removeFilter(quiet)
        self.trivial_ns.append(min(answer.elapsed_ns for answer in answers))
        self.trivial_status = answers[-1].status

    @contextlib.contextmanager
    def phase(self, name: str, target_pid: int | None) -> Iterator[None]:
        """Read the machine's CPU over a sequential pass (``name`` is its stored phase)."""
        window = CpuWindow(target_pid)
        window.start()
        try:
            yield
        finally:
            self.phases[name] = window.stop().to_dict()

    def to_dict(self) -> dict[str, Any]:
        """What the run stores (``Run.environment["calibration"]``)."""
        return {
            "reference_rounds": REFERENCE_ROUNDS,
            "timings_per_sample": TIMINGS_PER_SAMPLE,
            "reference_ns": list(self.reference_ns),
            "trivial_path": TRIVIAL_PATH,
            "trivial_status": self.trivial_status,
            "trivial_ns": list(self.trivial_ns),
            "phases": {name: dict(use) for name, use in self.phases.items()},
        }
