"""Verdicts come from the answers as expected, and a red run never exits 0.

Real runs of ``manage.py perftest`` in-process against the stand-in and test-only views: a
throttle that answers every request with 429, wrong login settings, a clean run.
"""

from __future__ import annotations

from collections import Counter

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from perftest.analysis import verdict
from perftest.analysis.rules import endpoints as endpoint_rules
from perftest.analysis.rules import levels as level_rules
from perftest.analysis.rules import resources as resource_rules
from perftest.analysis.rules import scaling as scaling_rules
from perftest.analysis.rules.base import retry_after_text
from perftest.analysis.thresholds import NOT_MEASURED, RESPONSE_TIME
from perftest.models import Finding, Run
from perftest.store import read, vocabulary
from tests.support import views
from tests.support.live_server import shared_database_url  # noqa: F401
from tests.support.perftest_configs import THROTTLED_AND_PROFILE
from thebot_settings.settings import PERFTEST as THEBOT

pytestmark = pytest.mark.django_db


def run_red(tmp_path, *args: str) -> tuple[Run, str, CommandError]:
    """Run the command expecting a red run: the error it exits with, the run, the report."""
    with pytest.raises(CommandError) as raised:
        call_command("perftest", "--output", str(tmp_path), *args)
    run = Run.objects.latest("pk")
    return run, (tmp_path / f"run-{run.pk}.md").read_text(), raised.value


@pytest.mark.slow
@override_settings(ROOT_URLCONF="tests.support.urls", PERFTEST=THROTTLED_AND_PROFILE)
def test_an_endpoint_answered_only_by_a_throttle_gets_no_latency_verdict_and_exits_1(
    tmp_path, capsys
):
    run, report, error = run_red(tmp_path, "--iterations", "20", "--warmup", "0")

    assert error.returncode == 1
    throttled = run.endpoints.get(name="Throttled")
    # Every answer counted, none judged: the latency fields hold the answers as expected only.
    assert throttled.requests == 20 and throttled.ok == 0
    assert throttled.p95_ms == 0 and throttled.histogram == ""
    (answers,) = throttled.answer_classes
    assert answers["class"] == "HTTP 429" and answers["count"] == 20 and answers["p95_ms"] > 0
    # The throttle's own lookups are the class's SQL, not the endpoint's.
    assert answers["queries"] == 20 * views.N_PLUS_ONE_ROWS
    assert throttled.judged_queries == 0 and throttled.sql_share == 0
    # Every distinct Retry-After value is kept with its count (the view sends 7 in turn).
    seen = answers["retry_after"]
    assert set(seen) == set(views.RETRY_AFTER_VALUES) and answers["retry_after_answers"] == 20
    assert sorted(seen.values()) == [2, 3, 3, 3, 3, 3, 3]

    check = run.findings.get(rule=RESPONSE_TIME, subject="Throttled")
    assert check.passed is None and check.actual == NOT_MEASURED
    assert check.evidence == "no answer as expected: HTTP 429 ×20"
    ranked = run.findings.filter(rule__in=[endpoint_rules.LOWEST_P95, endpoint_rules.HIGHEST_P95])
    assert [f.subject for f in ranked] == ["Get Profile"]  # one judged endpoint: no fastest
    assert not run.findings.filter(subject="Throttled", rule=endpoint_rules.HEAVY_SQL).exists()
    assert not run.findings.filter(subject="Throttled", rule=endpoint_rules.SLOW_ENDPOINT).exists()
    assert run.findings.filter(subject="Throttled", rule=endpoint_rules.RATE_LIMITED).exists()

    assert "Answers otherwise" in report
    assert "| Throttled | HTTP 429 | 20 |" in report
    assert f"| {retry_after_text(Counter(seen))} |" in report
    assert retry_after_text(Counter(seen)).endswith(" and 2 more values")
    throttled_row = next(x for x in report.splitlines() if x.startswith("| Throttled | GET"))
    assert "| — | — | — | — | — |" in throttled_row  # no p50…mean for a throttle's answers
    out = capsys.readouterr().out
    assert (
        "FAIL: p95 response time of Throttled < 2000 ms: not measured: no answer as expected: "
        "HTTP 429 ×20"
    ) in out.splitlines()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@override_settings(ROOT_URLCONF="tests.support.urls", PERFTEST=THROTTLED_AND_PROFILE)
def test_a_level_answered_by_a_throttle_judges_throughput_on_the_answers_as_expected(
    shared_database_url,  # noqa: F811 - the level's threads reach the same database
    tmp_path,
):
    run, report, _ = run_red(
        tmp_path, "--iterations", "2", "--warmup", "0", "--concurrency", "1",
        "--requests", "40", "--ramp-up", "0", "--mix", "Throttled=3,Get Profile",
    )  # fmt: skip

    (level,) = run.levels.all()
    assert level.requests == 40 and 0 < level.ok < level.requests
    assert level.ok_throughput == pytest.approx(level.ok / level.window_s)
    assert level.ok_throughput < level.throughput
    assert [c["class"] for c in level.answer_classes] == ["HTTP 429"]
    profile = next(e for e in read.load(run.pk).endpoints_of(level) if e.name == "Get Profile")
    # The level's latency is that of its answers as expected: Get Profile's, not the 429s'.
    assert level.p50_ms == pytest.approx(profile.p50_ms, rel=0.05)
    peak = run.findings.get(rule=scaling_rules.PEAK)
    assert peak.title.startswith(f"Peak throughput: {level.ok_throughput:.1f} req/s as expected")
    assert f"({level.throughput:.1f} req/s counting every answer)" in peak.evidence
    throttled = run.findings.get(rule=level_rules.RATE_LIMITED)
    assert "DEFAULT_THROTTLE_CLASSES" in throttled.recommendation
    assert "DEFAULT_THROTTLE_RATES" not in throttled.recommendation
    seen = Counter(level.answer_classes[0]["retry_after"])
    assert sum(seen.values()) == level.requests - level.ok
    assert level.answer_classes[0]["retry_after_answers"] == level.requests - level.ok
    assert f"retry after {retry_after_text(seen)} (Retry-After)" in throttled.evidence
    assert "Requests in all phases: 44;" in report
    assert "Requests, load levels (1): 40 of 40 planned;" in report


@pytest.mark.slow
@pytest.mark.parametrize(
    ("login", "what"),
    [
        ({"BODY": {"email": "{email}", "password": "wrong"}}, "wrong password"),
        ({"TOKEN_PATH": "data.nowhere"}, "token path pointing nowhere"),
        ({"SCHEME": "Bearer"}, "header scheme the API does not accept"),
    ],
)
def test_a_run_that_cannot_log_in_or_authenticate_exits_1(tmp_path, capsys, login, what):
    with override_settings(PERFTEST={**THEBOT, "LOGIN": {**THEBOT["LOGIN"], **login}}):
        run, _, error = run_red(tmp_path, "--iterations", "2", "--warmup", "0")

    assert error.returncode == 1, what
    assert run.status in (Run.Status.COMPLETED, Run.Status.FAILED)
    stored = read.load(run.pk)
    red = verdict.of(stored)
    assert red.code == 1 and red.reasons
    assert not vocabulary.judged(stored.sequential[1:]), what  # no authenticated endpoint judged
    out = capsys.readouterr().out
    assert all(reason in out for reason in red.reasons)


@pytest.mark.slow
@override_settings(
    PERFTEST={
        **THEBOT,
        "LOGIN": {**THEBOT["LOGIN"], "BODY": {"email": "{email}", "password": "no"}},
    }
)
def test_a_failed_login_is_told_once_and_the_run_counts_what_was_planned(tmp_path, capsys):
    run, report, _ = run_red(tmp_path, "--iterations", "2", "--warmup", "0")

    out = capsys.readouterr().out
    assert "FAIL: login failed for 2 of 2 attempts: HTTP 401: " in out
    unmeasured = [x for x in out.splitlines() if x.startswith("FAIL: endpoint ")]
    assert len(unmeasured) == 6 and all(
        "not measured: login failed (HTTP 401" in x for x in unmeasured
    )
    login = run.findings.get(rule=endpoint_rules.LOGIN_FAILED)
    assert "HTTP 401: HTTP 401" not in login.evidence and login.evidence.startswith("HTTP 401: ")
    # 7 endpoints × 2 iterations were planned, whether or not each could be measured.
    assert "The run completed: 2 of 14 planned requests were made." in report
    recommendations = report.split("## Recommendations")[1].split("\n## ")[0]
    lines = [x for x in recommendations.splitlines() if x.startswith("- ")]
    login_lines = [x for x in lines if "login" in x.lower()]
    assert len(login_lines) == 1 and "PERFTEST['LOGIN']" in login_lines[0], lines


@pytest.mark.slow
@override_settings(PERFTEST={**THEBOT, "LOGIN": {**THEBOT["LOGIN"], "SCHEME": "Bearer"}})
def test_exit_zero_reports_the_red_run_and_exits_0(tmp_path, capsys):
    call_command("perftest", "--output", str(tmp_path), "--iterations", "2", "--exit-zero")

    run = Run.objects.latest("pk")
    out = capsys.readouterr().out
    unmeasured = [
        x
        for x in out.splitlines()
        if x.endswith("not measured: no answer as expected: HTTP 401 ×2")
    ]
    assert len(unmeasured) == 6 and all(x.startswith("FAIL: ") for x in unmeasured)
    reasons = len(verdict.of(read.load(run.pk)).reasons)
    assert f"Run #{run.pk} is red: {reasons} reasons above; exiting 0 as --exit-zero asks." in out
    assert (tmp_path / f"run-{run.pk}.md").exists()


@pytest.mark.slow
def test_fail_on_breach_is_still_accepted_and_a_clean_run_exits_0_without_false_findings(
    tmp_path, capsys
):
    call_command(
        "perftest", "--output", str(tmp_path), "--iterations", "5", "--warmup", "1",
        "--fail-on-breach",
    )  # fmt: skip

    stored = read.load(Run.objects.latest("pk").pk)
    assert verdict.of(stored) == verdict.Verdict(0, ())
    assert "FAIL" not in capsys.readouterr().out
    # Timing findings (a large SQL share, a slow endpoint, high CPU) are measurements a busy
    # machine can make true; a clean run has none of the others: no error, throttle, N+1,
    # login or configuration finding.
    timing = {
        endpoint_rules.HEAVY_SQL,
        endpoint_rules.SLOW_ENDPOINT,
        resource_rules.CPU_HIGH,
        resource_rules.MEMORY_GROWTH,
    }
    assert not [
        f.title
        for f in stored.findings
        if f.kind == Finding.Kind.BOTTLENECK and f.rule not in timing
    ]
    assert all(f.passed for f in stored.findings if f.kind == Finding.Kind.THRESHOLD)
    assert len(stored.judged) == 7
