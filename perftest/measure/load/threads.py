"""The thread engine: a level's workers as threads of this process (``ThreadEngine``).

The worker harness every schedule runs in: threads, transports, logins, barrier, merge.

A level is N worker threads, each with its own transport (so its own HTTP session, or in-process
its own database connection, closed with the transport), that log in, wait at a barrier that
starts every worker's clock together, follow the schedule, and are merged after they end. Each
worker keeps its figures to itself while measuring, so the per-request path shares no counter;
it takes only its worker's own lock, which nothing else takes but a soak's checkpoint copying
that worker's figures every interval. ``run_inline`` runs a one-worker schedule in the calling
thread, for the sequential pass.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass

from perftest.measure.endpoint_result import EndpointResult, row_key
from perftest.measure.machine import CpuUse, CpuWindow
from perftest.measure.result import LevelResult
from perftest.measure.soak import Checkpoints
from perftest.measure.transport.base import Transport
from perftest.plan.expressions import AbortRule
from perftest.plan.model import Endpoint, Mix
from perftest.redact import Redactor

from .engine import (
    TICK_S,
    Engine,
    LevelInterrupted,
    Prepare,
    Tick,
    correct_for_coordinated_omission,
)
from .schedule import Clock, Schedule, Step, WorkerState

_perf_ns = time.perf_counter_ns
#: After Ctrl-C, how long the level waits for its workers before leaving the stragglers (a
#: worker inside a login hashes a password and cannot be cut short).
STOP_GRACE_S = 2.0


@dataclass(frozen=True)
class WorkerKit:
    """What every worker of every level of a run gets: the same for each schedule."""

    factory: Callable[[], Transport]
    prepare: Prepare
    mix: Mix
    endpoints: Mapping[str, Endpoint]
    redactor: Redactor
    #: The measured server's pid over HTTP (None in-process, or when it is not known), so the
    #: CPU of other processes can be told apart from the target's and perftest's own.
    target_pid: int | None = None
    #: Thresholds marked ``abort``: checked on every progress tick, never per request.
    aborts: tuple[AbortRule, ...] = ()
    #: The roles a level's per-endpoint rows are split by, in order; () for one role.
    roles: tuple[str, ...] = ()
    #: Whether ``prepare`` logs each worker in (the progress line then says "logged in").
    logs_in: bool = True

    def empty(self, name: str, role: str = "") -> EndpointResult:
        return EndpointResult.empty(self.endpoints[name], role)


def _one_line(exc: BaseException, redactor: Redactor) -> str:
    return redactor.text(" ".join(f"{type(exc).__name__}: {exc}".split()))


class _Worker(WorkerState):
    """A worker thread's state plus the results it fills, one per endpoint of the mix."""

    def __init__(self, index: int, kit: WorkerKit):
        super().__init__(index, kit.redactor)
        self.results = {name: kit.empty(name) for name in kit.mix.names}


class _Level:
    """One level of a schedule: its workers, its clock, and the merge of their figures."""

    def __init__(self, kit: WorkerKit, schedule: Schedule, checkpoints: Checkpoints | None = None):
        self.kit, self.schedule, self.checkpoints = kit, schedule, checkpoints
        self.workers = [_Worker(index, kit) for index in range(schedule.workers)]
        self.clock = Clock()
        self.aborted = ""
        self._aborts = [r for r in kit.aborts if r.applies_to(schedule.workers)]
        self._cpu = CpuWindow(kit.target_pid)
        self._barrier = threading.Barrier(schedule.workers + 1, action=self._start_clock)
        #: Released once by each worker whose set-up (login, captures) is over.
        self._set_up = threading.Semaphore(0)

    def _start_clock(self) -> None:
        if self.checkpoints is not None:  # first: neither its GC nor its snapshot is timed
            self.checkpoints.start()
        self._cpu.start()
        self.clock.start_ns = _perf_ns()
        self.clock.started_unix_ns = time.time_ns()

    def _cpu_use(self) -> CpuUse | None:
        """CPU from the release of the workers to their end; None when they were never released."""
        return self._cpu.stop() if self.clock.start_ns else None

    def run(self, tick: Tick | None) -> LevelResult:
        label = self.schedule.label
        # Daemon threads: a worker still logging in when Ctrl-C comes is left behind after
        # STOP_GRACE_S instead of holding the process (1000 logins hash 1000 passwords).
        threads = [
            threading.Thread(
                target=self._work,
                args=(worker,),
                name=f"perftest-{label}-{worker.index + 1}",
                daemon=True,
            )
            for worker in self.workers
        ]
        try:
            for thread in threads:
                thread.start()
            self._await_set_up(label, tick)
            self._barrier.wait()
            self._follow(threads, label, tick)
        except KeyboardInterrupt:
            self.clock.stop.set()
            self._barrier.abort()
            left = self._join_within(threads, STOP_GRACE_S)
            level = self._merge(self._cpu_use(), left)
            level.interrupted, level.aborted = True, self.aborted
            if left:
                level.worker_failures.append(
                    f"{len(left)} workers were still busy (logging in, or in a request) when the "
                    f"level was interrupted and were left behind after {STOP_GRACE_S:g} s; "
                    "their figures are not counted"
                )
            raise LevelInterrupted(level) from None
        finally:
            if self.checkpoints is not None:
                self.checkpoints.stop()
        level = self._merge(self._cpu_use())
        level.aborted = self.aborted
        return level

    @staticmethod
    def _join_within(threads: list[threading.Thread], seconds: float) -> set[int]:
        """Join the started threads until ``seconds`` pass; the indexes of those still alive."""
        deadline = time.monotonic() + seconds
        for thread in threads:
            if thread.ident is not None:
                thread.join(max(0.0, deadline - time.monotonic()))
        return {index for index, thread in enumerate(threads) if thread.is_alive()}

    def _await_set_up(self, label: str, tick: Tick | None) -> None:
        """Wait for every worker's set-up, telling how many have logged in (and how many
        failed to): 500 logins hash 500 passwords, a minute that would otherwise pass in
        silence."""
        total, done = len(self.workers), 0
        what = "logged in" if self.kit.logs_in else "workers ready"
        while True:
            if tick is not None:
                # Read racily: a worker counts as failed once its set-up said so.
                failed = min(done, sum(worker.login_failed for worker in self.workers))
                told = f"{label}, set-up: {what} {done - failed}/{total}"
                tick(told + (f", {failed} failed" if failed else ""))
            if done == total:
                return
            done += self._set_up.acquire(timeout=TICK_S)

    def _follow(self, threads: list[threading.Thread], label: str, tick: Tick | None) -> None:
        """Wait for the workers, refreshing the progress line and checking the abort rules
        while they run."""
        for thread in threads:
            while thread.is_alive():
                thread.join(TICK_S)
                if tick is not None:
                    tick(self._status(label))
                if self._aborts and not self.aborted:
                    self._check_aborts()
                if self.checkpoints is not None:
                    self.checkpoints.poll(lambda: self._merge(None))

    def _counts(self) -> tuple[int, int]:
        """Counted requests and answers as expected so far, read racily between requests."""
        results = [r for worker in self.workers for r in worker.results.values()]
        return sum(r.requests for r in results), sum(r.ok for r in results)

    def _check_aborts(self) -> None:
        """Stop every worker when an abort rule breaks (``aborted`` says why and when)."""
        requests, ok = self._counts()
        elapsed = (_perf_ns() - self.clock.start_ns) / 1e9
        for rule in self._aborts:
            why = rule.breach(requests, ok, elapsed)
            if why:
                self.aborted = why
                self.clock.stop.set()
                return

    def _status(self, label: str) -> str:
        """Elapsed time, requests and errors so far, read racily: for the progress line only."""
        elapsed = (_perf_ns() - self.clock.start_ns) / 1e9
        done, ok = self._counts()
        errors = done - ok
        return f"{label}: {elapsed:.1f}s, {done} counted requests, {errors} errors"

    def _work(self, worker: _Worker) -> None:
        """One worker thread, start to end; whatever goes wrong becomes one line, not a crash."""
        transport: Transport | None = None
        steps: Iterator[Step] | None = None
        try:
            try:
                if self.clock.stop.is_set():  # interrupted before this worker began
                    return
                transport = self.kit.factory()
                steps = self._prepare(worker, transport)
            finally:
                # Reached whatever happened, so the other workers are never left waiting.
                self._set_up.release()
                self._barrier.wait()
            if steps is not None and not self.clock.stop.is_set():
                self.schedule.drive(self.clock, worker, transport.send, steps)
        except threading.BrokenBarrierError:
            pass  # interrupted before measuring started
        except BaseException as exc:  # a worker thread has no caller to raise to
            worker.failure = f"worker {worker.index + 1}: {_one_line(exc, self.kit.redactor)}"
        finally:
            if transport is not None:
                try:
                    transport.close()
                except Exception as exc:
                    worker.failure = worker.failure or (
                        f"worker {worker.index + 1}: closing: {_one_line(exc, self.kit.redactor)}"
                    )

    def _prepare(self, worker: _Worker, transport: Transport) -> Iterator[Step] | None:
        setup = self.kit.prepare(worker.index, transport)
        worker.logins, worker.captures = setup.logins, setup.captures
        for result in worker.results.values():
            result.role = setup.role
        if setup.specs is None:
            worker.login_failed = True
            worker.failure = setup.failure or f"worker {worker.index + 1}: login failed"
            return None
        mix = self.kit.mix
        pairs = {name: (setup.specs[name], worker.results[name]) for name in mix.names}
        if len(pairs) == 1:  # the same step every time, without the mix's per-request choice
            return itertools.repeat(*pairs.values())
        return map(pairs.__getitem__, mix.sequence(worker.index))

    def _rows(self, workers: list[_Worker]) -> dict[str, EndpointResult]:
        """The level's empty per-endpoint rows: one per endpoint of the mix, or with several
        roles one per endpoint and role that some worker measured, endpoint by endpoint."""
        roles = self.kit.roles or ("",)
        present = {result.role for worker in workers for result in worker.results.values()}
        return {
            row_key(name, role): self.kit.empty(name, role)
            for name in self.kit.mix.names
            for role in roles
            if role in present or not self.kit.roles
        }

    def _merge(self, cpu: CpuUse | None, left_behind: Collection[int] = ()) -> LevelResult:
        """Fold every worker's figures into the schedule's level: exact, whatever the order.

        Workers ``left_behind`` after an interruption are still running: their figures are
        left out rather than read while they change.
        """
        level = self.schedule.describe()
        if cpu is not None:  # one process generates the load: this one
            level.generator_cpu_s, level.wall_s = cpu.generator_cpu_s, cpu.wall_s
            level.generator_processes = 1
            cpu.machine_into(level)
        workers = [w for w in self.workers if w.index not in left_behind]
        level.endpoints = self._rows(workers)
        level.started_unix_ns = self.clock.started_unix_ns
        for worker in workers:
            with worker.lock:  # a soak's checkpoint merges while the worker measures
                for name, result in worker.results.items():
                    # A worker stopped before it was prepared has no role and measured nothing.
                    row = level.endpoints.get(row_key(name, result.role))
                    if row is not None:
                        row.merge(result)
            level.rampup_requests += worker.rampup
            level.late += worker.late
            level.late_while_idle += worker.late_while_idle
            level.dropped += worker.dropped
            level.max_lateness_ns = max(level.max_lateness_ns, worker.max_lateness_ns)
            level.login_requests += worker.logins
            level.capture_requests += worker.captures
            level.login_failures += worker.login_failed
            if worker.failure:
                level.worker_failures.append(worker.failure)
        for result in level.endpoints.values():
            level.overall.merge(result)
        if level.model == "open":
            level.busy_ns = sum(worker.busy_ns for worker in workers)
        sends = [w.first_send_ns for w in workers if w.first_send_ns]
        if sends:
            level.window_ns = max(w.last_done_ns for w in workers) - min(sends)
        if level.model == "closed" and level.overall.requests:
            correct_for_coordinated_omission(level)
        return level


def run_level(
    kit: WorkerKit,
    schedule: Schedule,
    tick: Tick | None = None,
    checkpoints: Checkpoints | None = None,
) -> LevelResult:
    """Run ``schedule`` with its workers and return the merged level.

    Ctrl-C raises ``LevelInterrupted`` carrying what was measured, marked interrupted.
    """
    return _Level(kit, schedule, checkpoints).run(tick)


class ThreadEngine(Engine):
    """Each level in worker threads of this process, set up by ``kit.prepare`` per worker."""

    def __init__(self, kit: WorkerKit):
        self.kit = kit

    def run_level(
        self, schedule: Schedule, tick: Tick, checkpoints: Checkpoints | None = None
    ) -> LevelResult:
        return run_level(self.kit, schedule, tick, checkpoints)


def run_inline(
    schedule: Schedule,
    transport: Transport,
    step: Step,
    redactor: Redactor,
) -> EndpointResult:
    """Drive a one-worker ``schedule`` in the calling thread, every step the same ``step``.

    The calling thread keeps its own database connection (and, under a test, its transaction).
    A KeyboardInterrupt leaves ``result`` marked interrupted with what was recorded so far.
    """
    result = step[1]
    try:
        schedule.drive(Clock(), WorkerState(0, redactor), transport.send, itertools.repeat(step))
    except KeyboardInterrupt:
        result.interrupted = True
        raise
    return result
