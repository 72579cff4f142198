"""One run's lifecycle: begin → seed → sample → measure → save → analyse → clean up.

A ``--baseline`` is resolved before the run begins, and a completed run is compared with it
right after it is stored, so the findings include the changes. Whatever ends the run
(completion, Ctrl-C, SIGTERM, an error), its seeded data and the sessions its logins opened
are removed and what was measured so far is stored with the matching status; the findings
are computed once from the stored rows and stored with them, then the verdict they add up
to. A signal stops seeding and measuring only: storing and removing always finish
(``Termination``). Only this module joins the measuring core to storage and analysis.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from django.conf import settings
from django.utils import timezone

from perftest import environment
from perftest.analysis import verdict
from perftest.analysis.compare import compare
from perftest.analysis.findings import analyse
from perftest.conf import ConfigError
from perftest.lifecycle.checkpoints import CheckpointStore, place_warmup_end
from perftest.lifecycle.seeding import Removal, Seeding, reclaim_leftovers, removal_notes
from perftest.measure.resources import ResourceSampler, own_process_sampler
from perftest.measure.result import RunResult
from perftest.measure.session import Session, mark_unreached, measure
from perftest.measure.transport.base import SessionKeys
from perftest.measure.transport.inprocess import quiet_request_log
from perftest.models import Run
from perftest.plan.model import RunPlan
from perftest.plan.server_process import read_server
from perftest.plan.target import describe_process, find_server_pid, parse_base_url
from perftest.redact import Redactor
from perftest.store import baselines, read, write


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
        config=redactor.mapping(plan.to_dict()),
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


def _record_server(plan: RunPlan, pid: int | None, result: RunResult) -> None:
    """Over HTTP, the found server's workers and threads (``environment["server"]``), what
    says whether its workers were the limit. Not for a server in perftest's own process,
    whose threads cannot be told from perftest's."""
    if plan.http is None or pid is None or pid == os.getpid():
        return
    slots = read_server(pid, parse_base_url(plan.http.base_url).port)
    if slots is not None:
        result.environment["server"] = slots.to_dict()


def _nothing_measured(result: RunResult) -> bool:
    sequential = [*result.endpoints, *result.http_endpoints]
    return not any(ep.requests for ep in sequential) and not any(
        level.overall.requests for level in result.levels
    )


def _say(line: str) -> None:
    """One line on stderr, written from a signal handler: straight to the file descriptor,
    since the interrupted code may be in the middle of writing through ``sys.stderr``."""
    lead = "\n" if os.isatty(2) else ""  # past a progress line redrawn in place
    os.write(2, f"{lead}{line}\n".encode(errors="replace"))


class Termination:
    """For a whole run: what SIGINT (Ctrl-C) and SIGTERM do.

    Inside ``stoppable()`` (seeding and measuring) the first of them stops the run: a
    ``KeyboardInterrupt`` in the main thread, so what was measured is stored as interrupted.
    Anywhere else (storing the run, removing its test data, writing its report) and after the
    first, a signal stops nothing: it is deferred, the run ends ``interrupted`` once stored
    and cleaned up, and each deferred signal prints one line saying what is still being done
    (``doing``), so that a second Ctrl-C can never leave users, rows or sessions behind.
    ``signal`` is the first signal received (None: none yet).
    """

    def __init__(self) -> None:
        self.signal: signal.Signals | None = None
        #: What the run is doing, for the line a deferred signal prints.
        self.doing: Callable[[], str] = lambda: "starting the run"
        self._stoppable = False
        self._previous: dict[int, Any] = {}

    def _received(self, signum: int, frame: FrameType | None) -> None:
        if self.signal is None:
            self.signal = signal.Signals(signum)
            if self._stoppable:
                raise KeyboardInterrupt
        _say(
            f"{signal.Signals(signum).name}: still {self.doing()}; perftest stops by itself "
            "when that is done"
        )

    @contextmanager
    def stoppable(self) -> Iterator[None]:
        """A signal stops what runs in the block (one received before it stops it at once);
        the caller catches the ``KeyboardInterrupt``, which may come from this block's own
        exit."""
        self._stoppable = True
        try:
            if self.signal is not None:
                raise KeyboardInterrupt
            yield
        finally:
            self._stoppable = False

    def __enter__(self) -> Termination:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self._received)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()

    @property
    def exit_code(self) -> int:
        """130, "interrupted", whichever signal stopped the run: perftest's documented code
        for a run that was stopped and stored as interrupted (the message names the signal)."""
        return 128 + signal.SIGINT


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
        row = baselines.baseline_for(plan.baseline, result.target, plan)
    except baselines.BaselineRefused as exc:
        raise ConfigError(str(exc)) from None
    if row is None:
        result.notes.append(baselines.NO_BASELINE)
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


def _stopped_after_measuring(result: RunResult, termination: Termination) -> bool:
    """A signal deferred while the run was stored ends a completed run as interrupted
    (every figure is kept: measuring had finished). True when that changed the result."""
    if termination.signal is None or result.status != Run.Status.COMPLETED:
        return False
    result.status = Run.Status.INTERRUPTED
    result.notes.append(
        f"{termination.signal.name} arrived after measuring had completed: every figure is "
        "complete, the run was stored and its test data removed before it stopped"
    )
    return True


def _store(
    run: Run,
    result: RunResult,
    baseline: int | None,
    termination: Termination,
    tick: Callable[[str], None],
) -> read.StoredRun:
    """Store the run, its comparison, findings and verdict. A signal that arrives meanwhile
    is deferred; the run is then stored once more as interrupted."""
    tick(f"storing run #{run.pk}")
    termination.doing = lambda: f"storing run #{run.pk} (its test data is removed)"
    _stopped_after_measuring(result, termination)
    write.save(run, result)
    if baseline is not None and result.status == Run.Status.COMPLETED:
        write.save_comparison(run, baseline, compare(read.load(baseline), read.load(run.pk)))
    stored = judge(run)
    if _stopped_after_measuring(result, termination):
        write.save(run, result)
        write.save_comparison(run, None, {})
        stored = judge(run)
    termination.doing = lambda: f"writing the report of run #{run.pk} (stored, data removed)"
    return stored


def execute(
    plan: RunPlan, termination: Termination, tick: Callable[[str], None] = lambda text: None
) -> read.StoredRun:
    """Run the plan and return the stored run (findings and baseline comparison included).

    Raises ConfigError (exit code 2) before anything is recorded when ``--baseline`` names a
    run this one cannot be compared with, or when the identities cannot be seeded (fields the
    user model lacks, an account already using a test identity's name); otherwise ConfigError
    or RunInterrupted only after the run is stored and its test data removed. Only a completed
    run is compared. A signal stops seeding and measuring; storing and removing finish
    whatever arrives (``termination``, installed by the caller for the whole run).
    """
    redactor = Redactor()
    result = _new_result(plan, redactor)
    baseline = _baseline(plan, result)
    Seeding(plan.identity, None, None).refuse_before_run(plan.identity_count, plan.roles)
    run = write.begin(result, host=socket.gethostname(), pid=os.getpid())
    seeding = Seeding(plan.identity, plan.seeder, run)
    sessions = SessionKeys(settings.SESSION_COOKIE_NAME, keeper=seeding.record_sessions)
    removal = Removal(tick)
    termination.doing = removal.describe
    result.notes.extend(reclaim_leftovers(run, plan.stale_run_after_s, removal))
    sampler = _sampler(plan)
    _record_server(plan, sampler.pid, result)
    pending: ConfigError | None = None
    termination.doing = lambda: f"stopping run #{run.pk}, then storing it and removing its data"
    try:
        with quiet_request_log(), termination.stoppable():
            tick("seeding test data")
            identities = seeding.create_identities(plan.identity_count, plan.roles)
            sampler.start()
            session = Session(
                plan,
                identities,
                result,
                redactor,
                tick,
                target_pid=sampler.pid,
                sessions=sessions,
                checkpoint=CheckpointStore(run, result, sampler),
            )
            measure(session)
    except KeyboardInterrupt:  # before measuring began: nothing was reached
        result.status = Run.Status.INTERRUPTED
        mark_unreached(plan, result)
    except ConfigError as exc:
        result.status, result.failure = Run.Status.FAILED, str(exc)
        pending = exc
    except Exception as exc:  # noqa: BLE001 - any failure is stored with its reason
        result.status = Run.Status.FAILED
        result.failure = redactor.text(f"{type(exc).__name__}: {exc}")
    # From here on a signal is deferred: the run is stored and its data removed, always.
    _conclude(result)
    if baseline is not None and result.status != Run.Status.COMPLETED:
        result.notes.append(f"not compared with run #{baseline}: this run is {result.status}")
        baseline = None
    result.resources = sampler.stop()
    for level in result.levels:
        place_warmup_end(level, sampler)
    result.finished_at = timezone.now()
    sessions.keep()
    if plan.keep_data:
        result.notes.append(f"test data kept (--keep-data), seeding batch {seeding.batch}")
    else:
        removal = Removal(tick)
        termination.doing = removal.describe
        seeding.cleanup(removal)
        result.notes.extend(removal_notes(removal))
    stored = _store(run, result, baseline, termination, tick)
    if pending is not None:
        raise pending
    if result.status == Run.Status.INTERRUPTED:
        raise RunInterrupted(stored)
    return stored
