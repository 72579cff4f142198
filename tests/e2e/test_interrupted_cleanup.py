"""Clean-up always finishes: a SIGINT or SIGTERM in any phase of a run (seeding, logins,
measuring, storing, removal) ends it ``interrupted`` with exit 130 and its report, never a
traceback, and leaves no perftest user, seeded row, token or session behind; once measuring
is over a signal is deferred, and a second one says what is still being removed. A SIGKILL
in the middle of the removal leaves what the next run's clean-up completes.

Each run is a real ``manage.py perftest`` process (``tests.support.signalled_manage``) that sends
itself the signal at a chosen call: the phase is certain, no sleep decides it. Its login
opens a Django session too (``tests.support.session_login_settings``), so sessions are among what
must not stay.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from rest_framework.authtoken.models import Token

from perftest.models import Run, SeededObject
from perftest.text import quantity
from tests.support.live_server import shared_database_url  # noqa: F401
from tests.support.signalled_manage import SIGNALS_ENV

ROOT = Path(__file__).resolve().parents[2]
#: One endpoint twice in the sequential pass, then a level of three workers, each logging in.
#: A run of one endpoint and one closed level; it ends with the level's request count.
RUN = (
    *("--endpoints", "Get Profile", "--iterations", "2", "--warmup", "0"),
    *("--concurrency", "3", "--ramp-up", "0", "--requests", "30"),
)
STILL_REMOVING = re.compile(
    r"^SIGINT: still removing test data: ([\d,]+) recorded rows? left \((.+) now\); "
    r"perftest stops by itself when that is done$"
)


def signalled_run(
    database_url: str, output: Path, *signals: dict, args: tuple[str, ...] = RUN
) -> subprocess.CompletedProcess:
    """``manage.py perftest`` with the session login, sending itself ``signals``."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.support.signalled_manage",
            "perftest",
            "--output",
            str(output),
        ]
        + list(args),
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "tests.support.session_login_settings",
            SIGNALS_ENV: json.dumps(list(signals)),
        },
        capture_output=True,
        text=True,
        timeout=300,
    )


def _rows() -> dict[str, int]:
    """Rows of every table a run seeds or its logins write: users, the stand-in's data,
    tokens, sessions, and perftest's records of what it seeded."""
    models = [*apps.get_app_config("standin").get_models(), Token, Session, SeededObject]
    return {model._meta.label: model._default_manager.count() for model in models}


def assert_nothing_left(before: dict[str, int]) -> None:
    assert _rows() == before
    assert not get_user_model().objects.filter(email__endswith="@perftest.invalid").exists()
    assert not SeededObject.objects.exists() and not Session.objects.exists()


def assert_interrupted(result: subprocess.CompletedProcess, signal_name: str, output: Path) -> Run:
    """Exit 130, no traceback, the last line names the signal; the run is stored
    interrupted, finished, with its report written."""
    assert result.returncode == 130, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    run = Run.objects.get()
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(
        f"CommandError: Interrupted by {signal_name}: run #{run.pk} stored as interrupted"
    ), result.stderr
    assert run.status == Run.Status.INTERRUPTED and run.finished_at is not None
    assert run.verdict == Run.Verdict.INTERRUPTED
    assert (output / f"run-{run.pk}.md").exists()
    return run


def _at(where: str, signal_name: str, call: int = 1, when: str = "after") -> dict:
    return {"at": where, "call": call, "signal": signal_name, "when": when}


@pytest.fixture
def interrupted(shared_database_url, tmp_path):  # noqa: F811
    """``interrupted(signal_name, *hooks)``: a run sent ``signal_name`` at ``hooks`` (``_at``),
    proven to end interrupted, stored, with nothing of it left; the run and the process."""

    def run(
        signal_name: str, *hooks: dict, args: tuple[str, ...] = RUN
    ) -> tuple[Run, subprocess.CompletedProcess]:
        before = _rows()
        result = signalled_run(shared_database_url, tmp_path, *hooks, args=args)
        stored = assert_interrupted(result, signal_name, tmp_path)
        assert_nothing_left(before)
        return stored, result

    return run


@pytest.mark.django_db(transaction=True)
def test_a_signal_while_seeding_stores_the_run_interrupted_with_nothing_seeded_left(
    interrupted, tmp_path
):
    # The seeder has created its rows and the users exist: the signal comes before they are
    # recorded, inside the seeding's transaction.
    run, result = interrupted("SIGINT", _at("perftest.lifecycle.seeding:seeded", "SIGINT"))
    # Nothing was measured: the run stores the endpoints it never reached, and says so.
    (row,) = run.endpoints.all()  # no level began
    assert row.requests == 0 and row.not_measured == "the run was interrupted before this endpoint"
    assert not run.levels.exists() and run.logins == []
    assert (
        "the run was interrupted before this endpoint"
        in (tmp_path / f"run-{run.pk}.md").read_text()
    )


@pytest.mark.django_db(transaction=True)
def test_a_signal_while_the_workers_log_in_removes_their_sessions_and_tokens(interrupted):
    # The first worker of the level has logged in (a token and a session exist): SIGTERM.
    run, result = interrupted("SIGTERM", _at("perftest.measure.setup:log_in", "SIGTERM", call=1))
    # The sequential pass was measured and is kept; the level stopped while it started.
    assert run.endpoints.get(phase="sequential").requests == 2
    level = run.levels.get()
    assert level.interrupted and level.requests < 30
    assert any(note.startswith("removed ") and "session" in note for note in run.notes), run.notes


@pytest.mark.django_db(transaction=True)
def test_a_signal_while_measuring_keeps_what_was_measured_and_removes_the_rest(interrupted):
    # Call 10 of the in-process transport is a request of the level (the sequential pass
    # sends 3, the level's logins 3). The level plans 3,000 requests: the workers go on
    # sending while the signal reaches the main thread, and 30 could all be sent meanwhile.
    planned = 3000
    run, result = interrupted(
        "SIGINT",
        _at("perftest.measure.transport.inprocess:InProcessTransport.send", "SIGINT", call=10),
        args=(*RUN[:-1], str(planned)),
    )
    level = run.levels.get()
    assert level.interrupted and 0 < level.requests < planned


@pytest.mark.django_db(transaction=True)
def test_a_signal_while_the_run_is_stored_is_deferred_until_it_is_stored_and_cleaned(interrupted):
    run, result = interrupted("SIGTERM", _at("perftest.store.write:save", "SIGTERM", when="before"))
    # Measuring had completed: every figure is stored, and the run says why it is interrupted.
    assert run.endpoints.get(phase="sequential").requests == 2 and run.levels.get().requests == 30
    assert not run.levels.get().interrupted
    assert any(
        note.startswith("SIGTERM arrived after measuring had completed") for note in run.notes
    )
    assert result.stderr.count("SIGTERM: still storing run") == 1, result.stderr


@pytest.mark.django_db(transaction=True)
def test_signals_while_test_data_is_removed_are_deferred_and_a_second_says_what_is_left(
    interrupted,
):
    removing = "perftest.lifecycle.seeding:Removal._remove"
    run, result = interrupted(
        "SIGINT", _at(removing, "SIGINT", call=1), _at(removing, "SIGINT", call=2)
    )
    assert run.levels.get().requests == 30
    told = [STILL_REMOVING.match(line) for line in result.stderr.strip().splitlines()[:-1]]
    assert len(told) == 2 and all(told), result.stderr
    first, second = (int(match.group(1).replace(",", "")) for match in told)
    assert first > second > 0


def _names_a_row_still_there(record: SeededObject) -> bool:
    if record.content_type.natural_key() == ("sessions", "session"):
        return Session.objects.filter(session_key=record.object_pk).exists()
    model = record.content_type.model_class()
    return model._default_manager.filter(pk=record.object_pk).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("at", "when", "call", "sessions_left"),
    [
        ("perftest.measure.levels:Levels.run_all", "before", 1, True),
        ("perftest.lifecycle.seeding:Removal._remove", "before", 1, True),
        ("perftest.lifecycle.seeding:Removal._remove", "after", 2, False),
    ],
    ids=["before-the-level", "as-removal-begins", "mid-removal"],
)
def test_a_sigkill_leaves_what_the_next_run_removes(
    shared_database_url,  # noqa: F811
    tmp_path,
    at,
    when,
    call,
    sessions_left,
):
    before = _rows()
    killed = signalled_run(shared_database_url, tmp_path, _at(at, "SIGKILL", call=call, when=when))
    assert killed.returncode == -9, killed.stderr
    dead = Run.objects.get()
    assert dead.status == Run.Status.RUNNING
    # Every record left names a row (or session) still there; the run's users are among them.
    # The sessions of the sequential pass were recorded when it ended; recorded last, they
    # are removed first: killed mid-removal, they are already gone.
    records = list(SeededObject.objects.all())
    assert records and all(_names_a_row_still_there(record) for record in records)
    assert get_user_model().objects.filter(email__startswith=f"perftest-{dead.pk}-").count() == 3
    left = Session.objects.count()
    assert (left > 0) == sessions_left

    follow_up = signalled_run(
        shared_database_url, tmp_path, args=("--endpoints", "Get Profile", "--iterations", "1")
    )

    assert follow_up.returncode == 0, follow_up.stderr
    dead.refresh_from_db()
    assert dead.status == Run.Status.ABANDONED
    assert_nothing_left(before)
    notes = Run.objects.latest("pk").notes
    assert "removed data left by 1 earlier perftest run(s)" in notes
    # The dead run's sessions are counted with its leftovers; the follow-up's own login
    # opened one session, removed with its own data.
    sessions = "the target created for perftest's identities"
    expected = ["removed data left by 1 earlier perftest run(s)", f"removed 1 session {sessions}"]
    if left:
        expected.insert(0, f"removed {quantity(left, 'session')} {sessions}")
    assert [note for note in notes if note.startswith("removed ")] == expected, notes


@pytest.mark.django_db(transaction=True)
def test_a_signal_during_check_is_deferred_until_its_seeded_identity_is_removed(
    shared_database_url,  # noqa: F811
    tmp_path,
):
    before, runs = _rows(), Run.objects.count()
    # The check's identity has logged in (a token and a session exist) when Ctrl-C comes.
    result = signalled_run(
        shared_database_url,
        tmp_path,
        _at("perftest.lifecycle.check:log_in", "SIGINT"),
        args=("--check", "--endpoints", "Get Profile"),
    )

    assert result.returncode == 130, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "SIGINT: still checking the plan and removing what the check seeded; perftest stops "
        "by itself when that is done",
        "CommandError: Interrupted by SIGINT once it had finished checking the plan and "
        "removing what the check seeded.",
    ]
    assert "Get Profile" in result.stdout  # the check finished and printed its plan
    assert_nothing_left(before)
    assert Run.objects.count() == runs
