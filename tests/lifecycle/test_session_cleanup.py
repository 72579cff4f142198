"""perftest's own sessions are removed: against a platform whose login view opens a Django
session (``django.contrib.auth.login``), every session the target's answers set for perftest's
identities is deleted at clean-up through the session engine, the report counts them, and no
session key reaches the stored run, its reports or the admin."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core import serializers
from django.core.management import CommandError, call_command
from django.test import Client, override_settings

from perftest.lifecycle import seeding
from perftest.models import Run, SeededObject
from perftest.reports import formats
from tests.support.live_server import run_gunicorn, shared_database_url  # noqa: F401
from tests.support.session_login_settings import PERFTEST as SESSION_LOGIN
from tests.support.session_login_settings import SESSION_LOGIN_PATH

#: The login measured as an endpoint too: each of its answers opens a session as well.
PLAN = {
    **SESSION_LOGIN,
    "ENDPOINTS": [
        {"name": "Session Login", "method": "POST", "path": SESSION_LOGIN_PATH},
        {"name": "Get Profile", "method": "GET", "path": "/api/profile/me/"},
    ],
}
REMOVED = re.compile(r"^removed (\d+) sessions? the target created for perftest's identities$")


@pytest.fixture
def session_keys(monkeypatch) -> list[str]:
    """Every session key the run records for its clean-up, as it records them."""
    keys: list[str] = []
    record = seeding.Seeding.record_sessions

    def spy(self, recorded):
        recorded = list(recorded)
        keys.extend(recorded)
        record(self, recorded)

    monkeypatch.setattr(seeding.Seeding, "record_sessions", spy)
    return keys


@pytest.fixture
def sessions_before_removal(monkeypatch) -> list[int]:
    """How many sessions exist when each clean-up starts removing."""
    counts: list[int] = []
    run = seeding.Removal.run

    def counting(self, records):
        counts.append(Session.objects.count())
        run(self, records)

    monkeypatch.setattr(seeding.Removal, "run", counting)
    return counts


def removed_sessions(run: Run) -> int:
    (count,) = [int(m.group(1)) for note in run.notes if (m := REMOVED.match(note))]
    return count


def assert_no_key_anywhere(run: Run, keys: list[str], tmp_path) -> None:
    """No session key in the stored run's rows, in any report, or on its admin page."""
    stored = serializers.serialize(
        "json",
        [run, *run.endpoints.all(), *run.levels.all(), *run.findings.all()],
    )
    written = list(tmp_path.glob(f"run-{run.pk}*"))
    assert len(written) == len(formats.FORMATS), written
    reports = "".join(path.read_text() for path in written)
    admin = get_user_model().objects.create_superuser("admin", "admin@example.invalid", "pw-1234")
    client = Client()
    client.force_login(admin)
    page = client.get(f"/admin/perftest/run/{run.pk}/change/")
    assert page.status_code == 200
    for key in keys:
        assert key not in stored and key not in reports and key not in page.content.decode()
    assert not SeededObject.objects.exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_sessions_opened_by_perftests_http_logins_are_removed_and_counted(
    shared_database_url,  # noqa: F811
    tmp_path,
    session_keys,
):
    with (
        run_gunicorn(
            shared_database_url, settings="tests.support.session_login_settings"
        ) as server,
        override_settings(ROOT_URLCONF="tests.support.urls", PERFTEST=PLAN),
    ):
        call_command(
            "perftest",
            "--output",
            str(tmp_path),
            "--format",
            ",".join(formats.FORMATS),
            "--exit-zero",
            "--base-url",
            server.base_url,
            "--iterations",
            "2",
            "--warmup",
            "0",
            "--concurrency",
            "2",
            "--requests",
            "10",
            "--ramp-up",
            "0",
            "--mix",
            "Session Login,Get Profile",
        )

    run = Run.objects.get()
    assert run.status == Run.Status.COMPLETED
    # Over HTTP no cookie goes back: every successful login answer opened a session of its
    # own (identities' logins, the workers' logins, and the measured login endpoint's).
    level = run.levels.get()
    measured = sum(row.ok for row in run.endpoints.filter(name="Session Login"))
    logins = len(run.logins) + level.login_requests - level.login_failures + measured
    assert measured > 0 and level.login_requests > 0
    assert removed_sessions(run) == len(session_keys) == logins
    assert not Session.objects.exists()
    report = (tmp_path / f"run-{run.pk}.md").read_text()
    assert f"removed {logins} sessions the target created for perftest's identities" in report
    assert_no_key_anywhere(run, session_keys, tmp_path)


@pytest.mark.slow
@pytest.mark.django_db
@override_settings(ROOT_URLCONF="tests.support.urls", PERFTEST=PLAN)
def test_sessions_of_in_process_logins_are_removed_and_counted(
    run_perftest, tmp_path, session_keys, sessions_before_removal
):
    run, report = run_perftest(
        "--format", ",".join(formats.FORMATS), "--iterations", "3", "--warmup", "0", "--exit-zero"
    )

    # The test client sends its session cookie back, so a new login replaces the old session:
    # what is removed is what exists when the clean-up starts, counted by the clean-up.
    (existing,) = sessions_before_removal[-1:]
    assert existing > 0 and removed_sessions(run) == existing
    assert f"removed {existing} session" in report
    assert not Session.objects.exists()
    assert session_keys
    assert_no_key_anywhere(run, session_keys, tmp_path)


@pytest.mark.slow
@pytest.mark.django_db
@override_settings(ROOT_URLCONF="tests.support.urls", PERFTEST=PLAN)
def test_the_session_of_checks_login_is_removed_with_its_identity(session_keys):
    try:
        call_command("perftest", "--check", stdout=io.StringIO())
    except CommandError as exc:  # a plan that needs fixing: the login was still tried
        assert exc.returncode == 2

    assert len(session_keys) == 1  # the check's one login opened a session
    assert not Session.objects.exists() and not SeededObject.objects.exists()
