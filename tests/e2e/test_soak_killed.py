"""A soak SIGKILLed after two checkpoints keeps what they stored: the next run marks it
abandoned, and its report shows the stored minutes and says the run ended without finishing.

The soak is a real ``manage.py perftest --soak`` process (``tests.support.signalled_manage``)
that sends itself SIGKILL right after its second checkpoint is stored: the moment is
certain, no sleep decides it, and nothing of perftest runs after it (no handler, no clean-up).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
from django.core.management import call_command

from perftest.models import Run
from tests.support.commands import ROOT
from tests.support.live_server import shared_database_url  # noqa: F401
from tests.support.signalled_manage import SIGNALS_ENV

SOAK = (
    *("--endpoints", "Get Profile", "--iterations", "2", "--warmup", "0"),
    *("--soak", "1m", "--soak-warmup", "2s", "--rate", "10", "--concurrency", "2"),
)


@pytest.fixture
def killed_soak(shared_database_url, tmp_path) -> Run:  # noqa: F811
    """The run of a soak killed right after its second checkpoint."""
    kill = {"at": "perftest.store.write:checkpoint", "call": 2, "signal": "SIGKILL"}
    result = subprocess.run(
        [sys.executable, "-m", "tests.support.signalled_manage", "perftest"]
        + ["--output", str(tmp_path), *SOAK],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": shared_database_url,
            "DJANGO_SETTINGS_MODULE": "tests.support.soak_settings",
            SIGNALS_ENV: json.dumps([{**kill, "when": "after"}]),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == -signal.SIGKILL, (result.returncode, result.stderr)
    return Run.objects.get()


@pytest.mark.django_db(transaction=True)
def test_a_killed_soak_is_abandoned_by_the_next_run_and_reported_from_its_checkpoints(
    killed_soak, tmp_path, capsys
):
    # What the second checkpoint stored: the run still running, its level in progress.
    assert killed_soak.status == Run.Status.RUNNING
    level = killed_soak.levels.get()
    assert level.soak["checkpoints"] == 2 and level.interrupted
    assert 0 < level.requests < 600 and level.duration_s == 62
    assert killed_soak.resource_samples.exists()
    stored_requests, covered = level.requests, level.soak["covered_s"]

    # The next run, any run on the database, marks it abandoned and keeps what it stored.
    call_command("perftest", "--output", str(tmp_path), "--endpoints", "Get Profile")
    killed_soak.refresh_from_db()
    assert killed_soak.status == Run.Status.ABANDONED
    assert killed_soak.failure.startswith("abandoned: its process (pid ")
    assert killed_soak.levels.get().requests == stored_requests

    capsys.readouterr()
    call_command("perftest_report", str(killed_soak.pk), "--stdout")
    report = capsys.readouterr().out
    assert "Status: **abandoned**" in report
    assert "The run ended without finishing and was abandoned (its process (pid " in report
    assert (
        "the figures are those its last checkpoint stored (2 checkpoints, one every 0.5 s), "
        f"covering {covered:.1f} s of the soak's planned 1 min 2 s (2 s of warm-up, then 1 min "
        "steady)."
    ) in report
    # The summary counts the level's requests the checkpoint stored, of the soak's slots.
    assert f"Requests, load levels (1): {stored_requests} of 620 planned" in report
