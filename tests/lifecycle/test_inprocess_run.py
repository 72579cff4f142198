"""A whole in-process run against the stand-in: measured, stored, reported, cleaned up."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings
from rest_framework.authtoken.models import Token

from perftest.models import Finding, Run, SeededObject
from tests.support import views
from thebot_settings.settings import PERFTEST as THEBOT

pytestmark = pytest.mark.django_db

TEST_ENDPOINTS = [
    {"name": "Slow", "method": "GET", "path": "/test/slow/", "expected_status": 200},
    {"name": "N plus one", "method": "GET", "path": "/test/n-plus-one/", "expected_status": 200},
    {"name": "Broken", "method": "GET", "path": "/test/broken/", "expected_status": 200},
]
PATHOLOGICAL = {**THEBOT, "ENDPOINTS": TEST_ENDPOINTS, "SEEDER": None}


def ms(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


@pytest.mark.slow
def test_default_run_measures_the_seven_endpoints_and_reports_stored_numbers(run_perftest):
    run, report = run_perftest("--iterations", "5", "--warmup", "1")

    assert run.status == Run.Status.COMPLETED
    rows = list(run.endpoints.order_by("position"))
    assert [r.name for r in rows] == [e["name"] for e in THEBOT["ENDPOINTS"]]
    for row in rows:
        assert row.requests == 5 and row.ok == 5, (row.name, row.errors)
        assert row.status_counts == {"200": 5}
        assert row.p50_ms > 0 and row.min_ms <= row.p50_ms <= row.p95_ms <= row.max_ms
        assert row.mean_bytes > 0
        assert row.sql_captured and row.queries_max >= 1
        line = next(x for x in report.splitlines() if x.startswith(f"| {row.name} |"))
        for figure in (row.p50_ms, row.p95_ms, row.p99_ms):
            assert ms(figure) in line, (figure, line)
    list_rows = [r for r in rows if r.path not in ("/api/auth/login/", "/api/profile/me/")]
    # A non-empty page: the seeded rows fill at least one page of 20 for the test user.
    assert all(r.mean_bytes > 2000 for r in list_rows), [(r.name, r.mean_bytes) for r in rows]
    assert run.resource_samples.count() >= 2
    assert run.findings.filter(kind=Finding.Kind.THRESHOLD).exists()


@pytest.mark.slow
@override_settings(ROOT_URLCONF="tests.support.urls", PERFTEST=PATHOLOGICAL)
def test_pathological_views_show_delay_n_plus_one_and_exception(run_perftest):
    run, report = run_perftest("--iterations", "4", "--warmup", "0", exit_code=1)

    slow = run.endpoints.get(name="Slow")
    assert slow.p50_ms >= views.SLOW_VIEW_SECONDS * 1000

    n_plus_one = run.endpoints.get(name="N plus one")
    groups = {g["sql"]: g for g in n_plus_one.duplicate_queries}
    raw = groups["SELECT ?"]
    assert raw["max_per_request"] == views.N_PLUS_ONE_ROWS and raw["requests"] == 4
    orm = next(sql for sql in groups if "django_content_type" in sql)
    assert groups[orm]["max_per_request"] == views.N_PLUS_ONE_ROWS
    assert orm in report and f"{views.N_PLUS_ONE_ROWS}" in report

    broken = run.endpoints.get(name="Broken")
    assert broken.ok == 0 and broken.status_counts == {"500": 4}
    (error,) = broken.errors
    assert error["reason"] == "HTTP 500 ZeroDivisionError" and error["count"] == 4
    assert "the stand-in divided by zero" in error["example"]
    assert "ZeroDivisionError" in report
    assert run.findings.filter(rule__contains="server", subject="Broken").exists()


@pytest.mark.slow
@override_settings(
    PERFTEST={
        **THEBOT,
        "LOGIN": {**THEBOT["LOGIN"], "BODY": {"email": "{email}", "password": "no"}},
    }
)
def test_wrong_login_config_reports_login_failure_and_skips_authenticated_endpoints(run_perftest):
    run, report = run_perftest("--iterations", "2", exit_code=1)

    assert run.status == Run.Status.COMPLETED
    assert run.logins[0]["status"] == 401 and not run.logins[0]["ok"]
    login = run.endpoints.get(name="Login")
    assert login.requests == 2 and login.ok == 0 and login.errors[0]["reason"] == "HTTP 401"
    others = run.endpoints.exclude(name="Login")
    assert others.count() == 6
    for row in others:
        assert row.requests == 0 and row.not_measured.startswith("login failed (HTTP 401")
        assert f"| {row.name} |" in report
    assert "not measured: login failed (HTTP 401" in report
    assert not run.findings.filter(rule__contains="slow").exists()


@pytest.mark.slow
@override_settings(
    PERFTEST={
        **THEBOT,
        "IDENTITY": {**THEBOT["IDENTITY"], "EMAIL": "perftest-{n}@perftest.invalid"},
    }
)
def test_seeding_refuses_a_foreign_account_with_a_test_email_and_leaves_it_untouched(tmp_path):
    from django.core.management import CommandError, call_command

    user_model = get_user_model()
    stranger = user_model.objects.create_user(
        username="someone", email="perftest-1@perftest.invalid", password="their-own"
    )
    before = user_model.objects.values().get(pk=stranger.pk)

    with pytest.raises(CommandError) as raised:
        call_command("perftest", "--output", str(tmp_path), "--iterations", "1")

    assert raised.value.returncode == 2
    assert "already exists and was not created by perftest" in str(raised.value)
    assert user_model.objects.values().get(pk=stranger.pk) == before
    assert user_model.objects.count() == 1 and SeededObject.objects.count() == 0


@pytest.mark.slow
def test_everything_seeded_is_removed_after_a_run_unless_kept(run_perftest):
    user_model = get_user_model()
    users_before = user_model.objects.count()

    run, _ = run_perftest("--iterations", "1", "--warmup", "0")
    assert run.status == Run.Status.COMPLETED
    assert user_model.objects.count() == users_before
    assert SeededObject.objects.count() == 0 and Token.objects.count() == 0

    run_perftest("--iterations", "1", "--warmup", "0", "--keep-data")
    kept = SeededObject.objects.count()
    assert kept > 1 and user_model.objects.filter(email__endswith="-1@perftest.invalid").exists()

    # The next run removes what an earlier run kept (it created it) and measures normally.
    run, _ = run_perftest("--iterations", "1", "--warmup", "0")
    assert run.status == Run.Status.COMPLETED and "earlier perftest run" in " ".join(run.notes)
    assert user_model.objects.count() == users_before and SeededObject.objects.count() == 0


@pytest.mark.slow
def test_neither_password_nor_token_reaches_stored_rows_or_report(run_perftest, monkeypatch):
    from perftest.measure import auth

    seen: dict[str, str] = {}
    real_log_in = auth.log_in

    def spying_log_in(transport, spec, credentials, redactor):
        attempt, headers = real_log_in(transport, spec, credentials, redactor)
        seen["password"] = credentials.password
        seen["header"] = headers[0][1]
        return attempt, headers

    monkeypatch.setattr("perftest.measure.sequential_pass.log_in", spying_log_in)
    run, report = run_perftest("--iterations", "2", "--warmup", "0", "--keep-data")

    token = seen["header"].split()[-1]
    assert len(token) == 40 and len(seen["password"]) >= 20
    stored = json.dumps(
        [
            list(Run.objects.filter(pk=run.pk).values()),
            list(run.endpoints.values()),
            list(run.findings.values()),
        ],
        default=str,
    )
    for secret in (seen["password"], token):
        assert secret not in stored
        assert secret not in report


@pytest.mark.slow
@override_settings(
    ROOT_URLCONF="tests.support.urls",
    PERFTEST={
        **THEBOT,
        "ENDPOINTS": [
            {"name": "Get Profile", "method": "GET", "path": "/api/profile/me/"},
            {"name": "Interrupt", "method": "GET", "path": "/test/interrupt/"},
            {"name": "Get Lessons", "method": "GET", "path": "/api/scheduling/lessons/"},
        ],
    },
)
def test_ctrl_c_stores_an_interrupted_run_with_what_was_measured(tmp_path):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError) as raised:
        call_command("perftest", "--output", str(tmp_path), "--iterations", "3", "--warmup", "0")

    assert raised.value.returncode == 130
    run = Run.objects.latest("pk")
    assert run.status == Run.Status.INTERRUPTED and run.finished_at is not None
    profile, interrupted, lessons = run.endpoints.order_by("position")
    assert profile.requests == 3 and profile.ok == 3
    assert interrupted.interrupted and interrupted.requests == 0
    assert lessons.not_measured == "the run was interrupted before this endpoint"
    assert (tmp_path / f"run-{run.pk}.md").exists()
    assert SeededObject.objects.count() == 0


@pytest.mark.slow
def test_perftest_report_rerenders_the_stored_run_byte_for_byte(run_perftest, tmp_path):
    from django.core.management import call_command

    run, report = run_perftest("--iterations", "2", "--warmup", "0")
    again = tmp_path / "again"
    call_command("perftest_report", str(run.pk), "--output", str(again))
    assert (again / f"run-{run.pk}.md").read_text() == report
