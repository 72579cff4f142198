"""One run's lifecycle: begin → seed → sample → measure → save → analyse → clean up.

A ``--baseline`` is resolved before the run begins, and a completed run is compared with it
right after it is stored, so the findings include the changes. Whatever ends the run
(completion, Ctrl-C, an error), what was measured so far is stored with
the matching status before the seeded data is removed, and the findings are computed once
from the stored rows and stored with them, then the verdict they add up to. Only this module
joins the measuring core to storage and analysis.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType, TracebackType

from django.conf import settings
from django.utils import timezone

from perftest import environment
from perftest.analysis import verdict
from perftest.analysis.compare import compare
from perftest.analysis.engine import analyse
from perftest.conf import ConfigError
from perftest.measure.resources import ResourceSampler, own_process_sampler
from perftest.measure.result import RunResult
from perftest.measure.session import Session, mark_unreached, measure
from perftest.measure.transport.inprocess import quiet_request_log
from perftest.models import Run
from perftest.plan.model import RunPlan
from perftest.plan.target import describe_process, find_server_pid
from perftest.redact import Redactor
from perftest.seeding import Seeding, reclaim_leftovers
from perftest.store import read, write


def target_of(plan: RunPlan) -> str:
    """What a run of ``plan`` measures, as stored runs name it (a baseline must match it)."""
    target = f"URLconf {settings.ROOT_URLCONF}"
    if plan.http is not None:
        target = plan.http.base_url if plan.mode == "http" else f"{target} and {plan.http.base_url}"
    return target


def _new_result(plan: RunPlan, redactor: Redactor) -> RunResult:
    return RunResult(
        mode=plan.mode,
        target=target_of(plan),
        label=plan.label,
        iterations=plan.iterations,
        warmup=plan.warmup,
        config=redactor.mapping(plan.snapshot()),
        environment=environment.describe(),
        started_at=timezone.now(),
    )


def _sampler(plan: RunPlan) -> ResourceSampler:
    """In-process: this process. Over HTTP: the server process tree, or the reason it can't."""
    if plan.http is None:
        return own_process_sampler(plan.resource_interval)
    if plan.http.server_pid is not None:
        pid, description = plan.http.server_pid, describe_process(plan.http.server_pid)
    else:
        pid, description = find_server_pid(plan.http.base_url)
    sampler = ResourceSampler(pid, plan.resource_interval, description, children=True)
    if pid is None:
        sampler.series.unavailable = description
    return sampler


def _nothing_measured(result: RunResult) -> bool:
    sequential = [*result.endpoints, *result.http_endpoints]
    return not any(ep.requests for ep in sequential) and not any(
        level.overall.requests for level in result.levels
    )


class Termination:
    """While in effect, SIGTERM ends a run exactly as Ctrl-C does (KeyboardInterrupt in the
    main thread): what was measured is stored as interrupted, the report written, the seeded
    data removed. ``signal`` says which of the two stopped the run; a repeated SIGTERM while
    the run is already stopping is ignored so that the cleanup can finish."""

    def __init__(self) -> None:
        self.signal = signal.SIGINT
        self._previous: signal.Handlers | Callable | int | None = None
        self._installed = False

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        if self.signal == signal.SIGTERM:
            return
        self.signal = signal.Signals(signum)
        raise KeyboardInterrupt

    def __enter__(self) -> Termination:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGTERM, self._stop)
            self._installed = True
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._installed:
            signal.signal(signal.SIGTERM, self._previous)

    @property
    def exit_code(self) -> int:
        """130, "interrupted", whichever signal stopped the run: perftest's documented code
        for a run that was stopped and stored as interrupted (the message names the signal)."""
        return 128 + signal.SIGINT


@contextmanager
def _finishing() -> Iterator[None]:
    """Once measuring is over, SIGTERM no longer stops the run: storing it and removing its
    data take seconds, and stopping halfway would leave it ``running`` with its data behind.
    (Ctrl-C still works, for a user who really wants out; the next run then tidies up.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class RunInterrupted(Exception):
    """Ctrl-C or SIGTERM ended the run; ``stored`` is the run, stored as interrupted."""

    def __init__(self, stored: read.StoredRun):
        super().__init__(f"run #{stored.pk} interrupted")
        self.stored = stored


def _conclude(result: RunResult) -> None:
    """A run that completed without measuring anything has failed, and says why."""
    if result.status == Run.Status.COMPLETED and _nothing_measured(result):
        result.status = Run.Status.FAILED
        failed_logins = [a.reason for a in result.logins if not a.ok]
        result.failure = "nothing could be measured" + (
            f": login failed ({failed_logins[0]})" if failed_logins else ""
        )


def _baseline(plan: RunPlan, result: RunResult) -> int | None:
    """The id of the run ``--baseline`` names, resolved before anything runs: a refused
    baseline is a ConfigError with nothing recorded. ``latest`` finding none is a note, and
    the run goes on uncompared (a pipeline's first run establishes the baseline)."""
    if not plan.baseline:
        return None
    try:
        row = read.baseline_for(
            plan.baseline, result.target, read.PlanSnapshot.parse(result.config)
        )
    except read.BaselineRefused as exc:
        raise ConfigError(str(exc)) from None
    if row is None:
        result.notes.append(read.NO_BASELINE)
        return None
    return row.pk


def judge(run: Run) -> read.StoredRun:
    """Compute the findings of a stored run from its rows and store them, then the verdict they
    add up to (on the run's row, for lists of runs); return the run as stored.

    The row is read back first: what is analysed and rendered is then the row as the database
    keeps it (PostgreSQL's jsonb orders an object's keys its own way), so the report written
    at the end of the run and ``perftest_report`` are the same byte for byte."""
    run.refresh_from_db()
    write.save_findings(run, analyse(read.StoredRun.of(run)))
    stored = read.StoredRun.of(run)
    write.save_verdict(run, verdict.of(stored))
    return stored


def execute(plan: RunPlan, tick: Callable[[str], None] = lambda text: None) -> read.StoredRun:
    """Run the plan and return the stored run (findings and baseline comparison included).

    Raises ConfigError (exit code 2) before anything is recorded when ``--baseline`` names a
    run this one cannot be compared with, or when the identities cannot be seeded (fields the
    user model lacks, an account already using a test identity's name); otherwise ConfigError
    or RunInterrupted only after the run is stored. Only a completed run is compared.
    """
    redactor = Redactor()
    result = _new_result(plan, redactor)
    baseline = _baseline(plan, result)
    Seeding(plan.identity, None, None).refuse_before_run(plan.identity_count, plan.roles)
    run = write.begin(result, host=socket.gethostname(), pid=os.getpid())
    seeding = Seeding(plan.identity, plan.seeder, run)
    sampler = _sampler(plan)
    pending: ConfigError | None = None
    try:
        with quiet_request_log():
            result.notes.extend(reclaim_leftovers(run, plan.stale_run_after_s))
            tick("seeding test data")
            identities = seeding.create_identities(plan.identity_count, plan.roles)
            sampler.start()
            measure(Session(plan, identities, result, redactor, tick, target_pid=sampler.pid))
    except KeyboardInterrupt:  # before measuring began: nothing was reached
        result.status = Run.Status.INTERRUPTED
        mark_unreached(plan, result)
    except ConfigError as exc:
        result.status, result.failure = Run.Status.FAILED, str(exc)
        pending = exc
    except Exception as exc:  # noqa: BLE001 - any failure is stored with its reason
        result.status = Run.Status.FAILED
        result.failure = redactor.text(f"{type(exc).__name__}: {exc}")
    _conclude(result)
    if baseline is not None and result.status != Run.Status.COMPLETED:
        result.notes.append(f"not compared with run #{baseline}: this run is {result.status}")
        baseline = None
    with _finishing():
        result.resources = sampler.stop()
        result.finished_at = timezone.now()
        if plan.keep_data:
            result.notes.append(f"test data kept (--keep-data), seeding batch {seeding.batch}")
        else:
            tick("removing test data")
            result.notes.extend(seeding.cleanup())
        write.save(run, result)
        if baseline is not None:
            write.save_comparison(run, baseline, compare(read.load(baseline), read.load(run.pk)))
        stored = judge(run)
    if pending is not None:
        raise pending
    if result.status == Run.Status.INTERRUPTED:
        raise RunInterrupted(stored)
    return stored
