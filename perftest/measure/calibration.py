"""A yardstick for the machine itself, so a slower machine is told apart from slower code.

Two runs of unchanged code on a shared machine can differ by more than the noise within
either run: another program, a throttled CPU, a neighbour on the same host. Every run
therefore times the same fixed work again and again while it measures, and stores it:

- the **reference workload**: pure-Python, deterministic arithmetic in the measuring process,
  timed in wall-clock time, so it slows down with the CPU it is given (preemption, a lower
  clock, a busy neighbour's cache) and with nothing perftest measures;
- the **trivial request**: a GET of ``TRIVIAL_PATH`` through Django's test client and request
  handler in the measuring process (as the in-process transport sends), resolved against this
  module's one route to a view answering ``ok``, with no middleware. The project's code never
  runs: a change to the project's middleware or URLs must read as slower code, never as a
  slower machine. It never reaches the target (a served one, or the project's own handler), so
  no server log or count sees it; over HTTP it tells the measuring machine's drift, not the
  remote server's.

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
import time
from collections.abc import Iterator
from typing import Any

from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.test.client import ClientHandler
from django.urls import path, set_urlconf

from .machine import CpuWindow

#: Rounds of the reference workload: about half a millisecond of pure Python on a 2020s core.
REFERENCE_ROUNDS = 20_000
#: The trivial request's path, routed by this module's ``urlpatterns`` only.
TRIVIAL_PATH = "/__perftest_calibration__/"
#: Timings of each yardstick in one sample, of which the fastest is kept.
TIMINGS_PER_SAMPLE = 3


def reference_workload(rounds: int = REFERENCE_ROUNDS) -> int:
    """Fixed integer arithmetic in a Python loop: the same bytecode every time, no memory
    growth, no I/O. Returns its checksum so the work cannot be skipped."""
    total = 0
    for number in range(rounds):
        total = (total * 31 + number) % 1_000_003
    return total


def _trivial(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path(TRIVIAL_PATH.strip("/") + "/", _trivial)]


class _TrivialHandler(ClientHandler):
    """Django's test handler without the project's middleware, resolving against this
    module's ``urlpatterns`` (Django's per-request ``urlconf``)."""

    def load_middleware(self, is_async: bool = False) -> None:
        self._view_middleware: list = []
        self._template_response_middleware: list = []
        self._exception_middleware: list = []
        self._middleware_chain = convert_exception_to_response(self._get_response)

    def _get_response(self, request: HttpRequest) -> HttpResponse:
        request.urlconf = __name__
        return super()._get_response(request)


def trivial_request() -> tuple[int, int]:
    """One trivial request: its status and the nanoseconds it took."""
    client = Client()
    client.handler = _TrivialHandler(enforce_csrf_checks=False)
    try:
        start = time.perf_counter_ns()
        response = client.get(TRIVIAL_PATH)
        elapsed = time.perf_counter_ns() - start
    finally:
        set_urlconf(None)  # this thread resolves the project's URLs again
    return response.status_code, elapsed


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
        answers = [trivial_request() for _ in range(TIMINGS_PER_SAMPLE)]
        self.trivial_status = answers[-1][0]
        self.trivial_ns.append(min(elapsed for _, elapsed in answers))

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
