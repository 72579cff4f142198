"""What the concurrent load engines share: the endpoint mix and the worker harness.

The closed and the open model differ only in when each worker sends its next request. Every
other part is here, once: the threads, each with its own transport (so its own HTTP session,
or in-process its own database connection), the logins before measuring, the barrier that
starts every worker's clock together, the progress line, Ctrl-C, and the merge. Each worker
keeps its figures to itself while measuring and they are merged after the threads end, so the
per-request path takes no lock and shares no counter.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from django.db import connections

from ..conf import ConfigError
from ..redact import Redactor
from ..result import EndpointResult, LevelResult
from ..scenario import Endpoint
from ..transport.base import RequestSpec, Sample, Transport

_perf_ns = time.perf_counter_ns
#: How often the progress line is refreshed, in seconds.
TICK_S = 0.2


@dataclass(frozen=True)
class Mix:
    """Which endpoints a level sends, and in what proportion (positive weights)."""

    weights: tuple[tuple[str, float], ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.weights)

    @classmethod
    def parse(cls, text: str, endpoints: Sequence[Endpoint]) -> Mix:
        """``"Get Lessons=2,Get Profile=1"``: configured names in any case; weight 1 if omitted."""
        by_name = {e.name.casefold(): e.name for e in endpoints}
        weights: dict[str, float] = {}
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            raw_name, equals, raw_weight = part.rpartition("=")
            if not equals:
                raw_name, raw_weight = part, "1"
            name = by_name.get(raw_name.strip().casefold())
            if name is None:
                known = ", ".join(e.name for e in endpoints)
                raise ConfigError(
                    f"--mix names an unknown endpoint {raw_name.strip()!r}; known: {known}."
                )
            try:
                weight = float(raw_weight)
            except ValueError:
                weight = math.nan
            if not (weight > 0 and math.isfinite(weight)):
                raise ConfigError(
                    f"--mix weight for {name!r} must be a positive number, not {raw_weight!r}."
                )
            if name in weights:
                raise ConfigError(f"--mix names {name!r} twice; give each endpoint once.")
            weights[name] = weight
        if not weights:
            raise ConfigError("--mix names no endpoint; give name=weight pairs split by commas.")
        return cls(tuple(weights.items()))

    @classmethod
    def default(cls, endpoints: Sequence[Endpoint]) -> Mix:
        """Every endpoint but the login one, equally: logging in is a worker's setup, not load."""
        names = [e.name for e in endpoints if not e.is_login]
        if not names:
            raise ConfigError(
                "A load level needs an endpoint other than the login one; add one to "
                "PERFTEST['ENDPOINTS'] or name it with --mix."
            )
        return cls(tuple((name, 1.0) for name in names))

    def sequence(self, offset: int) -> Iterator[str]:
        """Endless endpoint names in proportion, spread evenly (nginx's smooth round-robin).

        Deterministic; ``offset`` skips that many picks so that workers started together do
        not all send the same endpoint at the same moment.
        """
        return itertools.islice(self._smooth(), offset, None)

    def _smooth(self) -> Iterator[str]:
        names = self.names
        weights = [weight for _, weight in self.weights]
        total = sum(weights)
        current = [0.0] * len(names)
        while True:
            for index, weight in enumerate(weights):
                current[index] += weight
            best = max(range(len(names)), key=current.__getitem__)
            current[best] -= total
            yield names[best]


@dataclass
class WorkerSetup:
    """What a worker got from ``prepare``: its requests, or why it has none."""

    specs: dict[str, RequestSpec] | None
    logins: int = 0
    failure: str = ""


TransportFactory = Callable[[], Transport]
#: Called in each worker's own thread with its index and its own transport, so a login
#: travels through the connection (in-process: the database connection) the worker then uses.
Prepare = Callable[[int, Transport], WorkerSetup]
#: One step of a worker's mix: the request to send and where its figures go.
Step = tuple[RequestSpec, EndpointResult]


class Worker:
    """One worker's private figures; only its own thread writes them while it measures."""

    def __init__(self, index: int, mix: Mix, endpoints: Mapping[str, Endpoint], redactor: Redactor):
        self.index, self.redactor = index, redactor
        self.results = {name: _empty(endpoints[name]) for name in mix.names}
        self.first_send_ns = 0
        self.last_done_ns = 0
        self.rampup = 0
        self.late = 0
        self.dropped = 0
        self.max_lateness_ns = 0
        self.logins = 0
        self.login_failed = False
        self.failure = ""

    def count(self, result: EndpointResult, sample: Sample, sent_ns: int, done_ns: int) -> None:
        """Record one counted request, sent at ``sent_ns`` and completed at ``done_ns``."""
        result.record(sample, self.redactor)
        if not self.first_send_ns:
            self.first_send_ns = sent_ns
        self.last_done_ns = done_ns


def _empty(endpoint: Endpoint) -> EndpointResult:
    return EndpointResult(endpoint.name, endpoint.method, endpoint.path, endpoint.expected_status)


def _one_line(exc: BaseException, redactor: Redactor) -> str:
    return redactor.text(" ".join(f"{type(exc).__name__}: {exc}".split()))


class LevelInterrupted(KeyboardInterrupt):
    """Ctrl-C during a level; ``result`` holds what was measured, marked interrupted."""

    def __init__(self, result: LevelResult):
        super().__init__("load level interrupted")
        self.result = result


#: What an engine runs in each worker thread once every worker is ready.
Body = Callable[[Worker, Transport, Iterator[Step]], None]


class Harness:
    """Runs one level: N worker threads that log in, start together, measure, and merge.

    ``start_ns`` (perf_counter_ns) is the moment the barrier released every worker; engines
    schedule from it. ``stop`` is set by Ctrl-C; a worker checks it between requests.
    """

    def __init__(
        self,
        *,
        workers: int,
        factory: TransportFactory,
        prepare: Prepare,
        mix: Mix,
        endpoints: Mapping[str, Endpoint],
        redactor: Redactor,
    ):
        if workers < 1:
            raise ValueError(f"a level needs at least one worker, not {workers}")
        self.factory, self.prepare, self.mix, self.redactor = factory, prepare, mix, redactor
        self.endpoints = endpoints
        self.workers = [Worker(index, mix, endpoints, redactor) for index in range(workers)]
        self.stop = threading.Event()
        self.start_ns = 0
        self._start_cpu = 0.0
        self._barrier = threading.Barrier(workers + 1, action=self._start_clock)

    def _start_clock(self) -> None:
        self.start_ns = _perf_ns()
        self._start_cpu = time.process_time()

    def run(
        self,
        level: LevelResult,
        body: Body,
        *,
        label: str,
        tick: Callable[[str], None] | None = None,
    ) -> LevelResult:
        """Run ``body`` in every worker and merge into ``level``; Ctrl-C raises LevelInterrupted."""
        threads = [
            threading.Thread(
                target=self._work, args=(worker, body), name=f"perftest-{label}-{worker.index + 1}"
            )
            for worker in self.workers
        ]
        for thread in threads:
            thread.start()
        try:
            self._barrier.wait()
            self._follow(threads, label, tick)
        except KeyboardInterrupt:
            self.stop.set()
            self._barrier.abort()
            for thread in threads:
                thread.join()
            self._merge(level)
            level.interrupted = True
            raise LevelInterrupted(level) from None
        return self._merge(level)

    def _follow(
        self, threads: list[threading.Thread], label: str, tick: Callable[[str], None] | None
    ) -> None:
        """Wait for the workers, refreshing the progress line while they run."""
        for thread in threads:
            while thread.is_alive():
                thread.join(TICK_S)
                if tick is not None:
                    tick(self._status(label))

    def _status(self, label: str) -> str:
        """Elapsed time, requests and errors so far, read racily: for the progress line only."""
        elapsed = (_perf_ns() - self.start_ns) / 1e9
        results = [r for worker in self.workers for r in worker.results.values()]
        done = sum(r.latency.count for r in results)
        errors = done - sum(r.ok for r in results)
        return f"{label}: {elapsed:.1f}s, {done} counted requests, {errors} errors"

    def _work(self, worker: Worker, body: Body) -> None:
        """One worker thread, start to end; whatever goes wrong becomes one line, not a crash."""
        transport: Transport | None = None
        steps: Iterator[Step] | None = None
        try:
            try:
                transport = self.factory()
                steps = self._prepare(worker, transport)
            finally:
                # Reached whatever happened, so the other workers are never left waiting.
                self._barrier.wait()
            if steps is not None and not self.stop.is_set():
                body(worker, transport, steps)
        except threading.BrokenBarrierError:
            pass  # interrupted before measuring started
        except BaseException as exc:  # a worker thread has no caller to raise to
            worker.failure = f"worker {worker.index + 1}: {_one_line(exc, self.redactor)}"
        finally:
            if transport is not None:
                try:
                    transport.close()
                except Exception as exc:
                    worker.failure = worker.failure or (
                        f"worker {worker.index + 1}: closing: {_one_line(exc, self.redactor)}"
                    )
            connections.close_all()  # this thread's own database connections

    def _prepare(self, worker: Worker, transport: Transport) -> Iterator[Step] | None:
        setup = self.prepare(worker.index, transport)
        worker.logins = setup.logins
        if setup.specs is None:
            worker.login_failed = True
            worker.failure = setup.failure or f"worker {worker.index + 1}: login failed"
            return None
        pairs = {name: (setup.specs[name], worker.results[name]) for name in self.mix.names}
        return map(pairs.__getitem__, self.mix.sequence(worker.index))

    def _merge(self, level: LevelResult) -> LevelResult:
        """Fold every worker's figures into ``level``: exact, whatever the order."""
        level.generator_cpu_s = time.process_time() - self._start_cpu if self.start_ns else 0.0
        level.wall_s = (_perf_ns() - self.start_ns) / 1e9 if self.start_ns else 0.0
        level.endpoints = {name: _empty(self.endpoints[name]) for name in self.mix.names}
        for worker in self.workers:
            for name, result in worker.results.items():
                level.endpoints[name].merge(result)
            level.rampup_requests += worker.rampup
            level.late += worker.late
            level.dropped += worker.dropped
            level.max_lateness_ns = max(level.max_lateness_ns, worker.max_lateness_ns)
            level.login_requests += worker.logins
            level.login_failures += worker.login_failed
            if worker.failure:
                level.worker_failures.append(worker.failure)
        for result in level.endpoints.values():
            level.overall.merge(result)
        sends = [w.first_send_ns for w in self.workers if w.first_send_ns]
        if sends:
            level.window_ns = max(w.last_done_ns for w in self.workers) - min(sends)
        return level
