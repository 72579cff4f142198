"""The exit verdict and the wording around verdicts, fed with stored rows whose every figure is
known (as ``store.save`` writes them); findings are stored and reports rendered as the command
does."""

from __future__ import annotations

import pytest

from perftest import models
from perftest.analysis import verdict
from perftest.analysis.rules import endpoints as endpoint_rules
from perftest.analysis.rules import levels as level_rules
from perftest.reports import console
from perftest.store import read
from perftest.text import ms
from tests.support.stored_rows import (
    add_endpoint,
    add_level,
    add_samples,
    analyzed,
    load_run,
    make_run,
    of_rule,
    rendered,
)

pytestmark = pytest.mark.django_db

THROTTLED_429 = {"reason": "HTTP 429", "count": 20, "example": "Retry-After: 3 | throttled"}


def classes(reason: str, count: int, p50_ms: float, **fields) -> list[dict]:
    """``answer_classes`` as ``store.write`` stores one class of unexpected answers."""
    figures = {"min_ms": p50_ms / 2, "mean_ms": p50_ms, "p90_ms": p50_ms * 1.5}
    figures |= {"p50_ms": p50_ms, "p95_ms": p50_ms * 2, "p99_ms": p50_ms * 3}
    figures |= {"max_ms": p50_ms * 4, "histogram": "", "queries": 0, "sql_ms": 0.0}
    return [{"class": reason, "count": count, **figures, "retry_after": {}, **fields}]


def sampled_run(**fields) -> models.Run:
    """A run whose resource thresholds can be judged (two samples, little growth and CPU)."""
    run = make_run(**fields)
    add_samples(run, [100.0, 101.0], [10.0, 20.0])
    return run


def verdict_of(run: models.Run) -> verdict.Verdict:
    analyzed(run)
    return verdict.of(read.StoredRun.of(run))


def test_a_green_run_has_exit_0_and_no_reason():
    run = sampled_run()
    add_endpoint(run, "Get Profile")
    assert verdict_of(run) == verdict.Verdict(0, ())


def test_a_failed_threshold_makes_the_run_red_naming_the_check():
    run = sampled_run()
    add_endpoint(run, "Get Profile", p95_ms=2500.0)
    red = verdict_of(run)
    assert red.code == 1
    assert red.reasons == ("FAIL: p95 response time of Get Profile < 2000 ms (actual 2500.0 ms)",)


def test_thirteen_failed_thresholds_are_thirteen_reasons_and_the_verdict_line_counts_them():
    run = sampled_run()
    for n in range(13):
        add_endpoint(run, f"Endpoint {n}", p95_ms=2500.0)
    red = verdict_of(run)

    failed = [
        f"FAIL: p95 response time of Endpoint {n} < 2000 ms (actual 2500.0 ms)" for n in range(13)
    ]
    assert red.reasons == tuple(failed)
    assert red.word == "RED"
    assert console.verdict_line(red) == f"RED — 13 reasons: {'; '.join(failed[:3])}; and 10 more"


def test_each_distinct_reason_a_login_failed_is_one_reason_with_its_count():
    attempt = {"status": 401, "ok": False, "elapsed_ns": 1}
    run = make_run(
        logins=[
            {**attempt, "identity": "perftest-1", "status": 200, "ok": True, "reason": ""},
            {**attempt, "identity": "perftest-2", "reason": "HTTP 401: bad password"},
            {**attempt, "identity": "perftest-3", "reason": "HTTP 401: bad password"},
            {**attempt, "identity": "perftest-4", "reason": "no token at 'access'"},
        ]
    )
    add_endpoint(run, "Get Profile")
    red = verdict_of(run)

    assert red.reasons[:2] == (
        "FAIL: login failed for 2 of 4 attempts: HTTP 401: bad password",
        "FAIL: login failed for 1 of 4 attempts: no token at 'access'",
    )


def test_an_endpoint_without_answers_as_expected_is_not_measured_never_ranked_and_red():
    run = sampled_run()
    add_endpoint(run, "Get Profile", p95_ms=80.0)
    add_endpoint(run, "Get Lessons", p95_ms=300.0)
    add_endpoint(
        run, "Throttled", ok=0, status_counts={"429": 20}, errors=[THROTTLED_429],
        answer_classes=classes("HTTP 429", 20, 2.0, queries=100, sql_ms=30.0),
        p50_ms=0, p90_ms=0, p95_ms=0, p99_ms=0, max_ms=0, min_ms=0, mean_ms=0, sum_ns=0,
        sql_captured=True, queries_total=100, sql_ms_total=30.0,
    )  # fmt: skip
    found = analyzed(run)

    fastest = of_rule(found, endpoint_rules.LOWEST_P95)
    assert [f.subject for f in fastest] == ["Get Profile"]
    assert not [f for f in found if f.subject == "Throttled" and f.rule in (
        endpoint_rules.HEAVY_SQL, endpoint_rules.SLOW_ENDPOINT, endpoint_rules.N_PLUS_ONE
    )]  # fmt: skip
    check = next(f for f in found if f.kind == "threshold" and f.subject == "Throttled")
    assert (check.actual, check.passed) == ("not measured", None)
    assert check.evidence == "no answer as expected: HTTP 429 ×20"
    report = rendered(run)
    assert "| p95 response time of Throttled < 2000 ms | < 2000 ms | not measured: no answer " in (
        report
    )
    assert "| NOT MEASURED |" in report
    assert "Thresholds: 4 passed, 0 failed, 1 not measured, 0 not evaluated" in report
    assert f"| Throttled | HTTP 429 | 20 | {ms(2.0)} | {ms(4.0)} | {ms(6.0)} | {ms(8.0)} | — |" in (
        report
    )
    red = verdict.of(read.StoredRun.of(run))
    assert red.reasons == (
        "FAIL: p95 response time of Throttled < 2000 ms: not measured: "
        "no answer as expected: HTTP 429 ×20",
    )


def test_sql_share_and_queries_count_the_answers_as_expected_only():
    run = make_run()
    # 10 answers as expected (600 ms in all, 60 ms of SQL) and 10 throttled answers whose 200
    # ms were the throttle's SQL: the endpoint spends 10 %, not 52 %, of its time in SQL.
    endpoint = add_endpoint(
        run, "Get Profile", requests=20, ok=10, sum_ns=600 * 10**6, errors=[THROTTLED_429],
        answer_classes=classes("HTTP 429", 10, 20.0, queries=50, sql_ms=200.0),
        sql_captured=True, queries_total=60, sql_ms_total=260.0,
    )  # fmt: skip
    assert endpoint.judged_count == 10 and endpoint.queries_mean == 1.0
    assert endpoint.sql_share == pytest.approx(0.1)
    assert not of_rule(analyzed(run), endpoint_rules.HEAVY_SQL)


def test_a_configuration_finding_a_failed_login_and_an_unmeasured_endpoint_each_make_it_red():
    run = make_run(
        logins=[
            {"identity": "perftest-1", "status": 401, "ok": False, "elapsed_ns": 1, "reason": "x"}
        ]
    )
    add_endpoint(run, "Get Profile", requests=0, not_measured="login failed (x)")
    analyzed(run)
    models.Finding.objects.create(
        run=run, position=99, kind="configuration", rule="configuration.no_route",
        subject="Get Chat", title="GET /api/chat/conversations/ has no route",
    )  # fmt: skip
    red = verdict.of(read.StoredRun.of(run))
    assert red.code == 1
    assert red.reasons[:3] == (
        "FAIL: login failed for 1 of 1 attempts: x",
        "FAIL: configuration: GET /api/chat/conversations/ has no route",
        "FAIL: endpoint Get Profile not measured: login failed (x)",
    )


def test_throttle_advice_names_the_throttle_classes_not_the_rates():
    run = load_run()
    add_endpoint(run, "Get Profile", ok=0, errors=[THROTTLED_429])
    add_level(run, 1, 100.0, 10.0, ok=100, errors=[{**THROTTLED_429, "count": 300}])
    found = analyzed(run)
    for rule in (endpoint_rules.RATE_LIMITED, level_rules.RATE_LIMITED):
        (finding,) = of_rule(found, rule)
        assert "DEFAULT_THROTTLE_CLASSES" in finding.recommendation
        assert "throttle_classes" in finding.recommendation
        assert "DEFAULT_THROTTLE_RATES" not in finding.recommendation


def test_every_distinct_retry_after_value_is_shown_with_its_count_most_frequent_first():
    run = load_run()
    add_level(
        run, 1, 100.0, 10.0, ok=100, errors=[{**THROTTLED_429, "count": 300}],
        answer_classes=classes("HTTP 429", 300, 1.0, retry_after={"3": 200, "1": 70, "2": 30}),
    )  # fmt: skip
    (finding,) = of_rule(analyzed(run), level_rules.RATE_LIMITED)
    assert "The server asked to retry after 3 ×200, 1 ×70, 2 ×30 (Retry-After)." in (
        finding.evidence
    )


def test_a_negative_transport_difference_is_not_called_an_addition():
    run = load_run(mode="both")
    add_endpoint(run, "Login", p50_ms=181.2, stdev_ms=0.5)
    add_endpoint(run, "Login", phase="sequential-http", p50_ms=125.4, stdev_ms=0.5)
    analyzed(run)
    report = rendered(run)
    assert "add -" not in report and "add −" not in report
    assert "The largest share is" not in report
    assert f"Login answered {ms(55.8)} faster over HTTP than in-process" in report


def test_the_executive_summary_counts_every_phase_labelled():
    run = load_run(mode="both")
    add_endpoint(run, "Get Profile", requests=20, ok=18, errors=[{**THROTTLED_429, "count": 2}])
    add_endpoint(run, "Get Profile", phase="sequential-http", requests=20)
    add_level(run, 1, 100.0, 10.0, requests=400, planned_requests=400)
    add_level(run, 10, 150.0, 20.0, requests=600, ok=540, planned_requests=600)
    analyzed(run)
    report = rendered(run)
    assert "- Requests in all phases: 1040; as expected: 978 (94.0%); errors: 62" in report
    assert "- Requests, sequential: 18 of 20 planned" not in report
    assert "- Requests, sequential: 20 of 20 planned; as expected: 18 (90.0%); errors: 2" in report
    assert "- Requests, sequential over HTTP: 20 of 20 planned; as expected: 20" in report
    assert "- Requests, load levels (2): 1000 of 1000 planned; as expected: 940 (94.0%)" in report


def test_planned_counts_endpoints_never_reached():
    run = make_run(iterations=2, status=models.Run.Status.INTERRUPTED)
    add_endpoint(run, "Login", requests=2, planned=2)
    for name in ("Get Profile", "Get Lessons"):
        add_endpoint(run, name, requests=0, planned=0, not_measured="interrupted before it")
    found = analyzed(run)
    assert "The figures cover the 2 of 6 planned requests" in rendered(run).replace(
        "the figures", "The figures"
    )
    (interrupted,) = of_rule(found, endpoint_rules.INTERRUPTED)
    assert interrupted.title == "The run was interrupted: 2 of 6 planned requests were made"


def test_resource_thresholds_that_could_not_be_measured_make_the_run_red():
    run = make_run(resource_unavailable="process 4242 could not be read")
    add_endpoint(run, "Get Profile")
    red = verdict_of(run)
    assert red.code == 1
    assert red.reasons == (
        "FAIL: RSS growth of this process (server + perftest) < 100 MB: not measured: "
        "process 4242 could not be read",
        "FAIL: Average CPU of the measured process < 80% of all 4 cores: not measured: "
        "process 4242 could not be read",
    )


def test_a_planned_level_that_counted_nothing_is_not_measured_and_an_unplanned_one_not_evaluated():
    run = load_run()  # planned 1, 10 and 30 concurrent; the 30-concurrent level never ran
    add_endpoint(run, "Get Profile")
    add_samples(run, [100.0, 101.0], [10.0, 20.0])
    add_level(run, 1, 100.0, 10.0)
    add_level(run, 10, 100.0, 10.0, requests=0, ok=0, status_counts={}, window_s=1.0)
    found = analyzed(run)

    verdicts = {f.subject: (f.actual, f.passed) for f in found if f.kind == "threshold"}
    assert verdicts["10 concurrent"] == ("not measured", None)
    assert verdicts["30 concurrent"] == ("not evaluated", None)
    red = verdict.of(read.StoredRun.of(run))
    assert red.reasons == (
        "FAIL: 10 concurrent: all requests succeed: not measured: "
        "the 10-concurrent level completed no request",
    )


def test_a_transport_pair_without_answers_as_expected_over_http_is_not_compared():
    run = load_run(mode="both")
    add_endpoint(run, "Get Profile", p50_ms=12.0)
    add_endpoint(
        run, "Get Profile", phase="sequential-http", ok=0, p50_ms=0.0,
        errors=[{"reason": "HTTP 401", "count": 20, "example": ""}],
    )  # fmt: skip
    analyzed(run)
    report = rendered(run)
    assert f"| Get Profile | {ms(12.0)} | — | — | — |" in report
    assert "faster over HTTP" not in report
