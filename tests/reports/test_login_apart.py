"""The login is set apart from the endpoints under test: its password hash, slow on purpose,
is never the "slowest endpoint" or a run list's "worst p95", and it gets a line of its own
with its times and the share one hash takes; unless the plan puts it under test
(``PERFTEST["LOGIN"]["UNDER_TEST"]``), when it is judged as any endpoint.

One real in-process run proves the stored rows and every surface end to end; rows built with
the stored-row builders prove both settings on known figures.
"""

from __future__ import annotations

from importlib import import_module

import pytest
from django.apps import apps
from django.core.management import call_command
from django.test import override_settings

from perftest import models
from perftest.analysis.metrics import P50
from perftest.analysis.rules import endpoints as rules
from perftest.plan.model import RunPlan
from perftest.reports import markdown
from perftest.store import read
from tests.support.admin_pages import LIST, cell, user
from tests.support.passwords import PROJECT_HASHERS
from tests.support.stored_rows import add_endpoint, analyzed, make_run, of_rule
from tests.support.text_tables import cells

pytestmark = pytest.mark.django_db

#: One password hash of 400 ms, as ``environment.password_hash`` stores it.
HASH = {"algorithm": "pbkdf2_sha256", "iterations": 1_000_000, "ms": 400.0}


def run_with_login(under_test: bool) -> models.Run:
    """A run whose login (p50 500 ms, p95 2500 ms, 7 queries per request) is far slower and
    busier than its two endpoints under test, stored as ``store.write`` stores it: set apart
    unless the plan puts it under test."""
    plan = {
        "thresholds": {"RESPONSE_TIME_P95_MS": 2000},
        "login": {"method": "POST", "path": "/api/auth/login/", "under_test": under_test},
        "endpoints": [
            {"name": "Login", "method": "POST", "path": "/api/auth/login/", "is_login": True},
            {"name": "Get Profile", "method": "GET", "path": "/api/get-profile/"},
            {"name": "Get Lessons", "method": "GET", "path": "/api/get-lessons/"},
        ],
    }
    run = make_run(config=plan, environment={"host": "box", "password_hash": HASH})
    add_endpoint(
        run, "Login", method="POST", path="/api/auth/login/", p50_ms=500.0, p95_ms=2500.0,
        sql_captured=True, queries_total=140, set_apart=not under_test,
    )  # fmt: skip
    add_endpoint(run, "Get Profile", p95_ms=120.0, sql_captured=True, queries_total=40)
    add_endpoint(run, "Get Lessons", p95_ms=80.0)
    analyzed(run)
    return run


def worst_p95_listed(capsys) -> str:
    call_command("perftest_runs")
    header, row = capsys.readouterr().out.splitlines()
    return cells(row)[cells(header).index("Worst p95")]


def test_the_plan_sets_the_login_apart_unless_it_is_under_test():
    plan = run_with_login(under_test=False).config
    assert RunPlan.from_dict(plan).set_apart == {"Login"}
    plan["login"]["under_test"] = True
    assert RunPlan.from_dict(plan).set_apart == frozenset()


def test_a_login_set_apart_is_never_the_slowest_endpoint_nor_the_worst_p95(capsys):
    run = run_with_login(under_test=False)
    found = list(run.findings.all())

    (slowest,) = of_rule(found, rules.HIGHEST_P95)
    assert slowest.title == "Slowest endpoint by p95: Get Profile at 120.0 ms"
    (fastest,) = of_rule(found, rules.LOWEST_P95)
    assert fastest.subject == "Get Lessons"
    assert [f.subject for f in of_rule(found, rules.MOST_QUERIES)] == ["Get Profile"]
    # Over the 2000 ms p95 limit, but its password hash is no reason for a red run.
    assert [f.subject for f in of_rule(found, "threshold.response_time_p95")] == [
        "Get Profile",
        "Get Lessons",
    ]
    run.refresh_from_db()
    assert not [reason for reason in run.verdict_reasons if "Login" in reason]
    assert worst_p95_listed(capsys) == "120.0 ms (Get Profile)"
    assert cell(user("viewer").get(LIST).content.decode(), "worst_p95") == ["120.0 ms"]
    report = markdown.render(read.load(run.pk))
    assert (
        "**Login (POST /api/auth/login/)**: p50 500.0 ms, p95 2500.0 ms; one password hash takes "
        "400.0 ms, 80% of its median time. Logging in checks a password hash, slow on purpose, "
        "so the login is set apart from the endpoints under test: it is never ranked the "
        "slowest or fastest endpoint, the run lists' worst p95 leaves it out, no latency "
        "threshold checks it unless it names it (PERFTEST['LOGIN']['UNDER_TEST'] = True"
    ) in report
    # The hash's own finding says the share in words, the figure beside it.
    (hashed,) = of_rule(found, rules.LOGIN_HASH)
    assert "400.0 ms in this run: 80% of the login's median time (500.0 ms)" in hashed.evidence


def test_a_login_under_test_is_judged_as_any_endpoint(capsys):
    run = run_with_login(under_test=True)
    found = list(run.findings.all())

    (slowest,) = of_rule(found, rules.HIGHEST_P95)
    assert slowest.title == "Slowest endpoint by p95: Login at 2500.0 ms"
    assert [f.subject for f in of_rule(found, rules.MOST_QUERIES)] == ["Login"]
    (red,) = [f for f in of_rule(found, "threshold.response_time_p95") if f.passed is False]
    assert red.subject == "Login"
    run.refresh_from_db()
    assert "FAIL: p95 response time of Login < 2000 ms (actual 2500.0 ms)" in run.verdict_reasons
    assert worst_p95_listed(capsys) == "2500.0 ms (Login)"
    assert cell(user("viewer").get(LIST).content.decode(), "worst_p95") == ["2500.0 ms"]
    assert "**Login (POST" not in markdown.render(read.load(run.pk))


def test_runs_stored_before_the_field_have_their_login_marked_by_the_migration():
    """The data migration reads each stored plan: the login's rows are set apart, a plan
    with the login under test leaves them in."""
    apart, tested = run_with_login(under_test=False), run_with_login(under_test=True)
    models.EndpointResult.objects.update(set_apart=False)

    import_module("perftest.migrations.0013_endpoint_set_apart").mark_logins(apps, None)

    marked = models.EndpointResult.objects.filter(set_apart=True)
    assert [(row.run_id, row.name) for row in marked] == [(apart.pk, "Login")]
    assert tested.endpoints.filter(set_apart=True).count() == 0


@pytest.mark.slow
@override_settings(PASSWORD_HASHERS=PROJECT_HASHERS)  # the login as slow as the project's
def test_a_real_runs_login_is_stored_apart_and_has_its_own_line(run_perftest, capsys):
    run, report = run_perftest(
        "--endpoints", "Login,Get Profile,Get Lessons", "--iterations", "3", "--warmup", "0",
        "--exit-zero",
    )  # fmt: skip
    capsys.readouterr()

    rows = {row.name: row.set_apart for row in run.endpoints.filter(phase="sequential")}
    assert rows == {"Login": True, "Get Profile": False, "Get Lessons": False}
    (slowest,) = of_rule(list(run.findings.all()), rules.HIGHEST_P95)
    assert slowest.subject in {"Get Profile", "Get Lessons"}
    assert "(Login)" not in worst_p95_listed(capsys)
    login = run.endpoints.get(phase="sequential", name="Login")
    share = run.environment["password_hash"]["ms"] / login.p50_ms
    assert f"**Login (POST /api/auth/login/)**: p50 {P50.text(login)}" in report
    assert f"{share:.0%} of its median time" in report
