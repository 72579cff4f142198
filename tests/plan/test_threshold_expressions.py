"""Threshold expressions: the grammar, evaluation on stored runs, exit codes, abort rules.

Runs are real runs of ``manage.py perftest`` in-process (and, for usage errors, a real
subprocess) against the stand-in and the test-only views.
"""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from perftest.analysis import metrics
from perftest.analysis.rules.base import THRESHOLD
from perftest.analysis.thresholds import NOT_EVALUATED, NOT_MEASURED
from perftest.models import Finding, Run
from perftest.plan import expressions
from perftest.plan.expressions import ExpressionError, parse
from perftest.plan.model import RunPlan
from perftest.store import read
from tests.support.commands import assert_usage_error
from tests.support.live_server import shared_database_url, standin_server  # noqa: F401
from thebot_settings.settings import PERFTEST as THEBOT

BROKEN = {"name": "Broken", "method": "GET", "path": "/test/broken/", "expected_status": 200}
PROFILE = THEBOT["ENDPOINTS"][1]
BROKEN_AND_PROFILE = {**THEBOT, "ENDPOINTS": [PROFILE, BROKEN], "SEEDER": None}


@pytest.mark.parametrize(
    ("text", "metric", "op", "limit", "endpoint", "level", "abort"),
    [
        ("p95 < 500ms", "p95", "<", 500.0, None, None, False),
        ("p99 < 2s", "p99", "<", 2000.0, None, None, False),
        ("error_rate < 1%", "error_rate", "<", 1.0, None, None, False),
        ("ok_rps@10 > 50/s", "ok_rps", ">", 50.0, None, 10, False),
        ("success@30 >= 90%", "success", ">=", 90.0, None, 30, False),
        ("rss_growth < 100MB", "rss_growth", "<", 100.0, None, None, False),
        ("rss_growth < 1GB", "rss_growth", "<", 1024.0, None, None, False),
        ("cpu_avg < 80%", "cpu_avg", "<", 80.0, None, None, False),
        ("queries_max < 20", "queries_max", "<", 20.0, None, None, False),
        ("queries_mean <= 3", "queries_mean", "<=", 3.0, None, None, False),
        ("p95{Get Lessons} < 300 ms", "p95", "<", 300.0, "Get Lessons", None, False),
        ("error_rate < 50% abort", "error_rate", "<", 50.0, None, None, True),
        ("success@10 >= 95% abort", "success", ">=", 95.0, None, 10, True),
    ],
)
def test_valid_expressions_parse_to_canonical_units(
    text, metric, op, limit, endpoint, level, abort
):
    parsed = parse(text)
    assert (parsed.metric, parsed.op, parsed.limit) == (metric, op, limit)
    assert (parsed.endpoint, parsed.level, parsed.abort) == (endpoint, level, abort)


@pytest.mark.parametrize(
    ("text", "message", "caret"),
    [
        ("p96 < 500ms", "unknown metric 'p96'; known: min, p50", 0),
        ("p95 < 500", "p95 is a time and needs a unit (us, ms, s), found no unit", 9),
        ("p95 < 500MB", "p95 is a time and needs a unit (us, ms, s), found 'MB'", 9),
        ("error_rate < 1ms", "error_rate is a share and needs a unit (%), found 'ms'", 14),
        ("ok_rps@10 > 50", "ok_rps is a rate and needs a unit (/s), found no unit", 14),
        ("p95 = 500ms", "expected a comparison (<, <=, >, >=), found '='", 4),
        ("p95 < fast", "expected a number, found 'fast'", 6),
        ("rss_growth@10 < 5MB", "rss_growth is measured for the whole process, not per level", 10),
        ("p95 < 5ms abort", "only error_rate, success, rps, ok_rps can abort a level, not p95", 10),
        ("p95 < 5ms please", "expected the end of the threshold, found 'please'", 10),
        ("success{Broken} >= 5%", "success is measured per level, not per endpoint", 7),
        ("success@1.5 >= 5%", "a level is a whole number of concurrent workers", 8),
        ("queries_max@10 < 5", "queries_max is counted per endpoint, not per level", 11),
        ("success@x >= 5%", "expected a concurrency (or *) after @, found 'x'", 8),
        ("dropped@10 < 5%", "dropped is read on open levels (--rate), which @N does not", 8),
        ("success@* >= 5% abort", "an abort rule without @ already watches every level", 16),
        ("rss_growth@* < 5MB", "rss_growth is measured for the whole process, not per level", 10),
    ],
)
def test_invalid_expressions_name_the_expression_and_point_at_the_bad_token(text, message, caret):
    with pytest.raises(ExpressionError) as raised:
        parse(text)
    first, shown, pointer = str(raised.value).splitlines()
    assert first.startswith(f"threshold {text!r}: {message}"), first
    assert shown == f"  {text}"
    assert pointer == "  " + " " * caret + "^"


@pytest.mark.parametrize(
    ("text", "metric", "level"),
    [
        ("success@* >= 90%", "success", None),
        ("failed_workers@* < 100%", "failed_workers", None),
        ("dropped@* < 10%", "dropped", None),
        ("p95@* < 2s", "p95", None),
    ],
)
def test_at_star_reads_each_level_no_at_n_names(text, metric, level):
    parsed = parse(text)
    assert (parsed.metric, parsed.level, parsed.other_levels) == (metric, level, True)
    assert parse(text.replace("@*", "")).other_levels is False


def test_every_expression_metric_reads_a_named_figure():
    assert set(expressions.METRICS) == set(metrics.BY_EXPRESSION)


def test_settings_shapes_list_endpoint_dict_and_old_dict():
    assert expressions.sources(["p95 < 1s"]) == ("p95 < 1s",)
    assert expressions.sources({"*": ["cpu_avg < 50%"], "Get Lessons": ["p99 < 1s"]}) == (
        "cpu_avg < 50%",
        "p99{Get Lessons} < 1s",
    )
    assert expressions.sources({"RESPONSE_TIME_P95_MS": 300, "CONCURRENCY_MOSTLY_OK_RATE": 80}) == (
        "p95 < 300ms",
        "rss_growth < 100MB",
        "cpu_avg < 80%",
        "success@10 >= 100%",
        "success@30 >= 80%",
    )


def test_an_old_stored_dict_reads_as_the_default_expressions():
    snapshot = RunPlan.from_dict({"thresholds": {"MEMORY_GROWTH_MB": 50}})
    assert snapshot.thresholds == (
        "p95 < 2000ms",
        "rss_growth < 50MB",
        "cpu_avg < 80%",
        "success@10 >= 100%",
        "success@30 >= 90%",
    )


def _checks(run: Run) -> dict[str, Finding]:
    return {f"{f.rule} {f.subject}": f for f in run.findings.filter(kind=THRESHOLD)}


@pytest.mark.slow
@pytest.mark.django_db
@override_settings(ROOT_URLCONF="tests.support.urls", PERFTEST=BROKEN_AND_PROFILE)
def test_expressions_evaluate_pass_fail_and_not_measured_on_the_stored_run(run_perftest):
    run, report = run_perftest(
        "--iterations", "3", "--warmup", "0", "--threshold", "p99{Get Profile} < 60s",
        "--threshold", "queries_max{Get Profile} < 1", exit_code=1,
    )  # fmt: skip
    checks = _checks(read.StoredRun.of(run).row)
    assert checks["threshold.p99 Get Profile"].passed is True
    assert (
        checks["threshold.p99 Get Profile"].title == "p99 response time of Get Profile < 60000 ms"
    )
    assert checks["threshold.queries_max Get Profile"].passed is False
    # Each endpoint's error rate is judged by default (error_rate < 1%).
    assert checks["threshold.error_rate Broken"].passed is False
    assert checks["threshold.error_rate Broken"].actual == "100.0 %"
    assert checks["threshold.error_rate Get Profile"].passed is True
    # No answer as expected: the broken view's p95 is not measured, and says why.
    broken_p95 = checks["threshold.response_time_p95 Broken"]
    assert (broken_p95.passed, broken_p95.actual) == (None, NOT_MEASURED)
    assert "| p99 response time of Get Profile < 60000 ms | < 60000 ms |" in report
    assert (
        "Threshold expressions: p95 < 2000ms; error_rate < 1%; rss_growth < 100MB; "
        "cpu_avg < 80%; success@10 >= 100%; success@30 >= 90%; success@* >= 90%; "
        "failed_workers@* < 100%; dropped@* < 10%; p99{Get Profile} < 60s; "
        "queries_max{Get Profile} < 1." in report
    )


@pytest.mark.slow
@pytest.mark.django_db
@override_settings(ROOT_URLCONF="tests.support.urls", PERFTEST=BROKEN_AND_PROFILE)
def test_all_thresholds_passing_exits_0_and_one_failing_exits_1(run_perftest):
    only_profile = ("--endpoints", "Get Profile", "--iterations", "2", "--warmup", "0")
    run, _ = run_perftest(
        *only_profile, "--threshold", "p95 < 60s", "--threshold", "p95{Broken} < 1s"
    )
    checks = _checks(run)
    # Broken is configured but not measured by this run: NOT EVALUATED, which does not count.
    broken = checks.pop("threshold.response_time_p95 Broken")
    assert (broken.actual, broken.passed) == (NOT_EVALUATED, None)
    assert broken.evidence == "Broken was not among this run's endpoints"
    assert all(f.passed for f in checks.values()), checks
    run, _ = run_perftest(*only_profile, "--threshold", "p50 < 1us", exit_code=1)
    assert _checks(run)["threshold.p50 Get Profile"].passed is False


@pytest.mark.parametrize(
    ("overrides", "args", "expected"),
    [
        ({"THRESHOLDS": ["p95 < 1s", "p59 < 1s"]}, [], "unknown metric 'p59'; known: min"),
        (
            {"THRESHOLDS": {"Get Lesons": ["p95 < 1s"]}},
            [],
            "unknown endpoint 'Get Lesons'; known: Login, Get Profile, Get Lessons",
        ),
        ({}, ["--threshold", "p95{Get Lesons} < 1s"], "unknown endpoint 'Get Lesons'"),
        ({}, ["--threshold", "latency < 1s"], "unknown metric 'latency'"),
        ({}, ["--threshold", "p95 < 1"], "p95 is a time and needs a unit"),
        ({"THRESHOLDS": "p95 < 1s"}, [], "must be a list of expressions"),
    ],
)
def test_bad_thresholds_exit_2_before_anything_is_stored(
    manage, overrides, args, expected, tmp_path
):
    result = manage("perftest", "--output", str(tmp_path), *args, **overrides)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and expected in result.stderr, result.stderr
    if "unknown" in expected:  # a caret line under the token, as compilers show it
        assert result.stderr.rstrip().endswith("^"), result.stderr
    assert not Run.objects.exists()
    assert not list(tmp_path.glob("run-*.md"))


def test_an_unknown_old_dict_key_is_still_one_line_and_exit_2(manage, tmp_path):
    thresholds = {"CPU_PERCENT_AVG": 50, "RESPONSE_P95": 1}
    result = manage("perftest", "--output", str(tmp_path), THRESHOLDS=thresholds)
    assert_usage_error(result, "THRESHOLDS")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@override_settings(
    ROOT_URLCONF="tests.support.urls", PERFTEST={**BROKEN_AND_PROFILE, "ENDPOINTS": [BROKEN]}
)
def test_an_abort_rule_stops_the_level_early_and_later_levels_do_not_run(
    tmp_path,
    shared_database_url,  # noqa: F811 - the level's threads reach the same database
):
    planned = 20000
    with pytest.raises(CommandError) as ended:
        call_command(
            "perftest",
            "--output",
            str(tmp_path),
            "--iterations",
            "1",
            "--warmup",
            "0",
            "--concurrency",
            "2,4",
            "--requests",
            str(planned),
            "--threshold",
            "error_rate < 50% abort",
            "--threshold",
            "p95@2 < 60s",
        )
    assert ended.value.returncode == 1
    run = Run.objects.latest("pk")
    [level] = run.levels.all()
    assert level.concurrency == 2
    assert level.requests < planned
    assert level.requests >= expressions.ABORT_MIN_ANSWERS
    assert level.aborted.startswith("error_rate 100.0 % ≥ 50 % after ")
    assert level.aborted.endswith("answers (error_rate < 50% abort)")
    checks = _checks(run)
    abort_check = checks["threshold.error_rate 2 concurrent"]
    assert abort_check.passed is False
    assert "the level was stopped early: error_rate 100.0 %" in abort_check.evidence
    # Every answer was a 500: no latency to judge, so NOT MEASURED, never a passing 0 ms.
    level_p95 = checks["threshold.response_time_p95 2 concurrent"]
    assert (level_p95.actual, level_p95.passed) == (NOT_MEASURED, None)
    assert "no answer as expected" in level_p95.evidence
    ten = checks["threshold.concurrency_all_ok 10 concurrent"]
    assert (ten.actual, ten.passed) == (NOT_EVALUATED, None)
    report = (tmp_path / f"run-{run.pk}.md").read_text()
    assert "| 2 concurrent (aborted) |" in report
    assert (
        f"2 concurrent was stopped early by an abort rule: {level.aborted}; "
        "levels 4 were not run." in report
    )


def test_an_abort_rule_waits_for_its_minimum_answers_then_says_why_and_when():
    [rule] = expressions.abort_rules([parse("error_rate < 50% abort")])
    too_few = expressions.ABORT_MIN_ANSWERS - 1
    assert rule.breach(too_few, 0, 1.0) == ""
    assert rule.breach(120, 100, 3.1) == ""  # 16.7 % errors: holds
    assert rule.breach(120, 45, 3.14) == (
        "error_rate 62.5 % ≥ 50 % after 3.1 s, 120 answers (error_rate < 50% abort)"
    )
    [at_ten] = expressions.abort_rules([parse("ok_rps@10 > 50/s abort")])
    assert (at_ten.applies_to(10), at_ten.applies_to(30)) == (True, False)
    assert at_ten.breach(40, 40, 2.0) == (
        "ok_rps 20.0 /s ≤ 50 /s after 2.0 s, 40 answers (ok_rps@10 > 50/s abort)"
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_sql_thresholds_over_http_are_not_measured_never_a_passing_zero(
    standin_server,  # noqa: F811 - a real server on loopback, stopped by PID
    tmp_path,
):
    with pytest.raises(CommandError) as ended:
        call_command(
            "perftest",
            "--output",
            str(tmp_path),
            "--base-url",
            standin_server.base_url,
            "--endpoints",
            "Get Profile",
            "--warmup",
            "0",
            "--iterations",
            "3",
            "--threshold",
            "queries_max < 50",
        )
    assert ended.value.returncode == 1
    check = _checks(Run.objects.latest("pk"))["threshold.queries_max Get Profile"]
    assert (check.actual, check.passed) == (NOT_MEASURED, None)
    assert check.evidence == "SQL is captured in-process only; this endpoint was measured over HTTP"


@pytest.mark.slow
@pytest.mark.django_db
@override_settings(
    ROOT_URLCONF="tests.support.urls",
    PERFTEST={**BROKEN_AND_PROFILE, "THRESHOLDS": {"RESPONSE_TIME_P95_MS": 60000}},
)
def test_an_old_thresholds_dict_in_host_settings_still_runs_as_its_expressions(run_perftest):
    run, report = run_perftest("--endpoints", "Get Profile", "--iterations", "2", "--warmup", "0")
    assert read.StoredRun.of(run).plan.thresholds == expressions.from_legacy(
        {"RESPONSE_TIME_P95_MS": 60000}
    )
    check = _checks(run)["threshold.response_time_p95 Get Profile"]
    assert (check.title, check.target, check.passed) == (
        "p95 response time of Get Profile < 60000 ms",
        "< 60000 ms",
        True,
    )
    assert "Thresholds: p95 < 60000 ms per endpoint" in report
    assert "Threshold expressions:" not in report  # the limits line says it all
