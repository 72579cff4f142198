"""Runs are isolated and always end: concurrent runs keep to their own identities and data,
SIGTERM stops a run as Ctrl-C does, a crashed run is marked abandoned by the next one, and
an interruption while many workers start ends within seconds."""

from __future__ import annotations

import _thread
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from perftest.analysis import verdict
from perftest.measure.load.closed import Closed
from perftest.measure.load.engine import LevelInterrupted, WorkerSetup
from perftest.measure.load.threads import WorkerKit, run_level
from perftest.measure.transport.base import RequestSpec, Sample, Transport
from perftest.models import EndpointResult, Run, SeededObject
from perftest.plan.model import Endpoint, Mix
from perftest.redact import Redactor
from perftest.store import read
from perftest.text import quantity
from tests.support.commands import assert_usage_error
from tests.support.live_server import shared_database_url  # noqa: F401
from tests.support.terminal import TerminalRun

#: A generous bound for "within a few seconds" on a shared two-core machine.
PROMPT_S = 15.0


class NoNetwork(Transport):
    """Workers of the start-up test never send: they are still logging in when stopped."""

    kind = "in-process"

    def send(self, spec: RequestSpec) -> Sample:  # pragma: no cover - never reached
        raise AssertionError("no request is sent before the barrier")

    def close(self) -> None:
        pass


@pytest.mark.slow
def test_ctrl_c_while_hundreds_of_workers_log_in_ends_within_seconds():
    release = threading.Event()
    logging_in = []
    lock = threading.Lock()

    def stuck_login(index: int, transport: Transport) -> WorkerSetup:
        with lock:
            logging_in.append(index)
            if len(logging_in) == 100:
                _thread.interrupt_main()  # Ctrl-C while the rest are still being started
        release.wait(120)
        return WorkerSetup(None, 1, "released")

    endpoint = Endpoint("Slow", "GET", "/test/slow/", 200, auth=False)
    kit = WorkerKit(
        NoNetwork, stuck_login, Mix.parse("Slow", [endpoint]), {"Slow": endpoint}, Redactor()
    )
    began = time.monotonic()
    try:
        with pytest.raises(LevelInterrupted) as raised:
            run_level(kit, Closed(400, duration_s=5))
        elapsed = time.monotonic() - began
    finally:
        release.set()
    assert elapsed < PROMPT_S
    level = raised.value.result
    assert level.interrupted and level.overall.requests == 0
    assert any("left behind" in failure for failure in level.worker_failures)


def test_concurrency_above_the_thread_maximum_is_a_usage_error_naming_the_alternatives(manage):
    result = manage("perftest", "--concurrency", "10,501")
    assert_usage_error(result, "--concurrency 501 is above the thread engine's maximum of 500")
    assert "--rate" in result.stderr and "several perftest processes" in result.stderr


def _seed_for(run: Run | None, email: str) -> object:
    """A user recorded as seeded by ``run``, as a run's seeding records it."""
    user = get_user_model().objects.create_user(username=email, email=email, password="x-12345")
    SeededObject.objects.create(
        batch=f"batch-of-{email}"[:32],
        run=run,
        content_type=ContentType.objects.get_for_model(user),
        object_pk=str(user.pk),
    )
    return user


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _running(pid: int) -> Run:
    return Run.objects.create(
        status=Run.Status.RUNNING,
        mode="in-process",
        target="URLconf",
        started_at=timezone.now(),
        host=socket.gethostname(),
        pid=pid,
    )


@pytest.mark.slow
@pytest.mark.django_db
def test_a_crashed_run_is_marked_abandoned_and_its_leftovers_removed_live_ones_kept(
    run_perftest,
):
    crashed = _running(_dead_pid())
    _seed_for(crashed, "left-by-crash@perftest.invalid")
    live = _running(os.getpid())  # this process: alive, so its identities are in use
    live_user = _seed_for(live, "in-use@perftest.invalid")

    run, report = run_perftest("--endpoints", "Get Profile", "--iterations", "1", "--warmup", "0")

    crashed.refresh_from_db()
    assert crashed.status == Run.Status.ABANDONED and crashed.finished_at is not None
    assert f"pid {crashed.pid} on {crashed.host}) is gone" in crashed.failure
    users = get_user_model().objects
    assert not users.filter(email="left-by-crash@perftest.invalid").exists()
    assert not SeededObject.objects.filter(run=crashed).exists()
    assert f"marked run(s) #{crashed.pk}" in report
    live.refresh_from_db()
    assert live.status == Run.Status.RUNNING
    assert (
        users.filter(pk=live_user.pk).exists()
        and SeededObject.objects.filter(run=live).count() == 1
    )
    assert run.status == Run.Status.COMPLETED


def _no_401(run: Run) -> None:
    statuses = [row.status_counts for row in EndpointResult.objects.filter(run=run)]
    assert statuses and all("401" not in counts for counts in statuses), statuses
    assert all(login["ok"] for login in run.logins), run.logins


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_on_one_database_both_complete_without_touching_each_other(
    shared_database_url,  # noqa: F811
    tmp_path,
):
    common = ["--endpoints", "Get Profile,Get Notifications", "--iterations", "2", "--warmup", "0"]
    first = TerminalRun(
        "--output", str(tmp_path), *common, "--concurrency", "2", "--duration", "8",
        "--ramp-up", "0", "--label", "first", database_url=shared_database_url,
        awaited="level 1/1",
    )  # fmt: skip
    assert first.reached.wait(PROMPT_S * 4), first.finish()
    second = TerminalRun(
        "--output", str(tmp_path), *common, "--label", "second",
        database_url=shared_database_url, awaited="sequential pass",
    )  # fmt: skip
    # The second run has cleaned up leftovers and seeded: the first must still be measuring.
    assert second.reached.wait(PROMPT_S * 4), second.finish()
    assert first.process.poll() is None, "the two runs did not overlap"
    second_code, _, second_err = second.finish()
    first_code, _, first_err = first.finish()

    assert (first_code, second_code) == (0, 0), (first_err, second_err)
    runs = {run.label: run for run in Run.objects.all()}
    assert {runs["first"].status, runs["second"].status} == {Run.Status.COMPLETED}
    _no_401(runs["first"])
    _no_401(runs["second"])
    assert runs["first"].levels.get().requests > 0
    assert not any("earlier perftest run" in note for note in runs["second"].notes)
    assert not SeededObject.objects.exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_sigterm_ends_a_run_like_ctrl_c(shared_database_url, tmp_path):  # noqa: F811
    users_before = get_user_model().objects.count()
    run = TerminalRun(
        "--output", str(tmp_path), "--endpoints", "Get Profile", "--iterations", "1",
        "--warmup", "0", "--concurrency", "2", "--duration", "60",
        database_url=shared_database_url, awaited="level 1/1",
    )  # fmt: skip
    assert run.reached.wait(PROMPT_S * 4), run.finish()
    run.process.send_signal(signal.SIGTERM)
    code, _, stderr = run.finish(timeout=PROMPT_S * 2)

    assert code == 130 and "Interrupted by SIGTERM" in stderr, stderr
    stored = Run.objects.get()
    reasons = quantity(len(verdict.of(read.load(stored.pk)).reasons), "reason")
    assert stderr.strip().splitlines() == [
        f"CommandError: Interrupted by SIGTERM: run #{stored.pk} stored as interrupted; "
        f"{reasons} above."
    ]
    assert stored.status == Run.Status.INTERRUPTED and stored.finished_at is not None
    assert stored.levels.get().interrupted
    assert (tmp_path / f"run-{stored.pk}.md").exists()
    assert not SeededObject.objects.exists()
    assert get_user_model().objects.count() == users_before
