"""Analysis rules and reports, fed with stored rows: each rule fires exactly when it should.

The input is what ``store.save`` writes (Run, EndpointResult, ResourceSample rows), built here
directly with the ORM so every figure is known; the findings go through ``store.save_findings``
and the report is rendered from the stored rows, as the command does.
"""

from __future__ import annotations

import pytest

from perftest import models
from perftest.analysis import summaries, thresholds
from perftest.analysis.rules import endpoints as rules
from perftest.analysis.rules import resources as resource_rules
from perftest.reports import formats
from perftest.store import read
from perftest.text import ms
from tests.support.stored_rows import (
    MB,
    add_endpoint,
    add_samples,
    analyzed,
    make_run,
    of_rule,
    rendered,
    summary_table,
)

pytestmark = pytest.mark.django_db


def test_slow_endpoint_fails_its_threshold_and_a_fast_one_passes():
    run = make_run()
    add_endpoint(run, "Get Lessons", p50_ms=900.0, p95_ms=2500.0, p99_ms=3100.0)
    add_endpoint(run, "Get Profile")
    found = analyzed(run)

    slow = of_rule(found, rules.SLOW_ENDPOINT)
    assert [f.subject for f in slow] == ["Get Lessons"]
    assert "p50 900.0 ms, p95 2500.0 ms, p99 3100.0 ms" in slow[0].evidence
    checks = {f.subject: f for f in of_rule(found, thresholds.RESPONSE_TIME)}
    assert (checks["Get Lessons"].passed, checks["Get Lessons"].actual) == (False, "2500.0 ms")
    assert (checks["Get Profile"].passed, checks["Get Profile"].actual) == (True, "100.0 ms")

    report = rendered(run)
    assert "| p95 response time of Get Lessons < 2000 ms | < 2000 ms | 2500.0 ms | FAIL |" in report
    assert "| p95 response time of Get Profile < 2000 ms | < 2000 ms | 100.0 ms | PASS |" in report
    assert "Get Lessons is slow: p95 2500.0 ms ≥ 2000 ms" in report


def test_configured_limit_is_used_and_missing_keys_fall_back_to_defaults():
    run = make_run(config={"thresholds": {"RESPONSE_TIME_P95_MS": 50}})
    add_endpoint(run, "Get Profile", p95_ms=100.0)
    add_samples(run, [100, 150], [0, 40])
    found = analyzed(run)

    assert of_rule(found, thresholds.RESPONSE_TIME)[0].passed is False
    assert [f.subject for f in of_rule(found, rules.SLOW_ENDPOINT)] == ["Get Profile"]
    memory = of_rule(found, thresholds.MEMORY_GROWTH)[0]
    assert (memory.target, memory.actual, memory.passed) == ("< 100 MB", "50.0 MB", True)


def test_duplicate_queries_become_an_n_plus_one_finding_with_the_sql_in_the_report():
    sql = 'SELECT "lesson"."id" FROM "lesson" WHERE "lesson"."teacher_id" = ?'
    run = make_run()
    add_endpoint(
        run,
        "Get Lessons",
        sql_captured=True,
        queries_total=240,
        queries_max=12,
        sql_ms_total=100.0,
        duplicate_queries=[{"sql": sql, "max_per_request": 10, "requests": 20}],
    )
    add_endpoint(run, "Get Profile", sql_captured=True, queries_total=40, queries_max=2)
    found = analyzed(run)

    suspects = of_rule(found, rules.N_PLUS_ONE)
    assert [f.subject for f in suspects] == ["Get Lessons"]
    assert sql in suspects[0].evidence and "Up to 10 times" in suspects[0].evidence
    assert "select_related()" in suspects[0].recommendation
    report = rendered(run)
    assert f"```sql\n{sql}\n```" in report
    assert "| Get Lessons | 12.0 | 12 | 8.3% | 512 |" in report
    key = of_rule(found, "key.most_queries")[0]
    assert key.title == "Most queries per request: Get Lessons with 12.0 on average (max 12)"


def test_no_duplicates_means_no_n_plus_one_finding_and_a_sentence_saying_so():
    run = make_run()
    add_endpoint(run, "Get Profile", sql_captured=True, queries_total=40, queries_max=2)
    assert not of_rule(analyzed(run), rules.N_PLUS_ONE)
    assert "No statement ran 3 or more times within one request." in rendered(run)


def test_heavy_sql_fires_only_at_half_the_response_time_or_more():
    run = make_run()
    # 20 requests x 60 ms = 1200 ms in total: 700 ms of SQL is 58%, 500 ms is 42%.
    add_endpoint(run, "Heavy", sql_captured=True, queries_total=40, sql_ms_total=700.0)
    add_endpoint(run, "Light", sql_captured=True, queries_total=40, sql_ms_total=500.0)
    heavy = of_rule(analyzed(run), rules.HEAVY_SQL)
    assert [f.subject for f in heavy] == ["Heavy"]
    assert heavy[0].title == "Heavy spends 58% of its response time in SQL"
    assert "2.0 queries per request" in heavy[0].evidence


def test_failed_login_leaves_endpoints_not_measured_and_says_why():
    reason = "login failed (HTTP 400: the token was not at data.token)"
    run = make_run(
        logins=[
            {
                "identity": "perftest-1",
                "status": 400,
                "ok": False,
                "elapsed_ns": 10**6,
                "reason": "the token was not at data.token",
            }
        ]
    )
    for name in ("Get Profile", "Get Lessons"):
        add_endpoint(run, name, requests=0, not_measured=reason)
    found = analyzed(run)

    login = of_rule(found, rules.LOGIN_FAILED)
    assert len(login) == 1
    assert login[0].evidence == "HTTP 400: the token was not at data.token (×1)"
    assert "POST /api/auth/login/" in login[0].recommendation
    assert [f.title for f in of_rule(found, rules.NOT_MEASURED)] == [
        f"2 of 2 endpoints not measured: {reason}"
    ]
    checks = of_rule(found, thresholds.RESPONSE_TIME)
    assert [(f.passed, f.actual, f.evidence) for f in checks] == [
        (None, "not measured", reason)
    ] * 2
    assert not of_rule(found, rules.SLOW_ENDPOINT) and not of_rule(found, "key.highest_p95")

    report = rendered(run)
    for name in ("Get Profile", "Get Lessons"):
        assert f"| — | — | — | — | — | — | not measured: {reason} |" in report
        assert (
            f"| p95 response time of {name} < 2000 ms | < 2000 ms | not measured: {reason} |"
            in (report)
        )
    assert "- Endpoints measured: 0 of 2" in report
    assert "No endpoint was measured, so no SQL was captured." in report


def test_successful_login_has_no_login_finding():
    run = make_run()
    add_endpoint(run, "Get Profile")
    assert not of_rule(analyzed(run), rules.LOGIN_FAILED)


@pytest.mark.parametrize(
    ("reason", "example", "rule"),
    [
        ("HTTP 500", "ZeroDivisionError at /api/x/", rules.SERVER_ERROR),
        ("HTTP 404", '{"detail": "Not found."}', rules.CLIENT_ERROR),
        ("HTTP 429", 'Retry-After: 30 | {"detail": "throttled"}', rules.RATE_LIMITED),
        ("HTTP 302", "", rules.UNEXPECTED_STATUS),
        ("ConnectionError", "ConnectionError: refused", rules.CONNECTION_ERROR),
    ],
)
def test_each_error_group_is_classified_by_its_reason(reason, example, rule):
    run = make_run()
    error = {"reason": reason, "count": 3, "example": example}
    add_endpoint(run, "Get Profile", ok=17, errors=[error])
    add_endpoint(run, "Get Lessons")
    found = analyzed(run)

    error_rules = {rules.SERVER_ERROR, rules.CLIENT_ERROR, rules.RATE_LIMITED}
    error_rules |= {rules.UNEXPECTED_STATUS, rules.CONNECTION_ERROR}
    fired = [f for f in found if f.rule in error_rules]
    assert [(f.rule, f.subject) for f in fired] == [(rule, "Get Profile")]
    assert "3 of 20 requests" in fired[0].title
    assert f"{reason} ×3" in rendered(run)


def test_rate_limiting_says_the_throttle_was_measured_and_quotes_retry_after():
    run = make_run()
    example = 'Retry-After: 30 | {"detail": "Request was throttled."}'
    add_endpoint(
        run, "Get Profile", ok=5, errors=[{"reason": "HTTP 429", "count": 15, "example": example}]
    )
    throttled = of_rule(analyzed(run), rules.RATE_LIMITED)[0]
    assert "measured the platform's rate limit" in throttled.evidence
    assert "retry after 30 (Retry-After)." in throttled.evidence
    assert "Disable throttling" in throttled.recommendation


@pytest.mark.slow
def test_resource_summary_figures():
    run = make_run()
    add_samples(run, [100, 110, 130], [0, 200, 400])
    summary = summaries.summarize(run.resource_samples.all(), cpu_count=4)

    assert (summary.samples, summary.duration_s) == (3, 60.0)
    assert (summary.rss_min_mb, summary.rss_max_mb, summary.rss_growth_mb) == (100, 130, 30)
    assert summary.rss_mean_mb == pytest.approx(340 / 3)
    assert summary.rss_slope_mb_per_min == pytest.approx(30.0)
    # The first reading (always 0) is left out: (50% + 100%) / 2 of four cores.
    assert (summary.cpu_mean_pct, summary.cpu_max_pct) == (75.0, 100.0)
    assert (summary.threads_max, summary.open_files_max) == (6, 3)
    assert summaries.summarize([], cpu_count=4) is None


def test_one_sample_has_no_slope_and_keeps_its_cpu_reading():
    run = make_run()
    add_samples(run, [100], [40])
    summary = summaries.summarize(run.resource_samples.all(), cpu_count=2)
    assert (summary.rss_slope_mb_per_min, summary.rss_growth_mb, summary.cpu_mean_pct) == (0, 0, 20)


def test_a_cpu_reading_over_a_few_milliseconds_neither_inflates_the_mean_nor_is_the_max():
    run = make_run()
    # Readings every 0.5 s at 40 % of one core, then the stop reading 5 ms later: one 10 ms
    # CPU tick in 5 ms reads 200 %.
    for offset, cpu in ((0.0, 0.0), (0.5, 40.0), (1.0, 40.0), (1.005, 200.0)):
        models.ResourceSample.objects.create(
            run=run, offset_s=offset, rss_bytes=MB, cpu_percent=cpu, threads=1, open_files=0
        )
    summary = summaries.summarize(run.resource_samples.all(), cpu_count=2)

    assert summary.cpu_mean_pct == pytest.approx((40 * 0.5 + 40 * 0.5 + 200 * 0.005) / 1.005 / 2)
    assert summary.cpu_mean_pct < 21 and summary.cpu_max_pct == 20.0


def test_memory_growth_and_cpu_above_thresholds_are_bottlenecks():
    run = make_run(resource_cpu_count=1)
    add_endpoint(run, "Get Profile")
    add_samples(run, [100, 180, 250], [0, 90, 90])
    found = analyzed(run)

    assert of_rule(found, thresholds.MEMORY_GROWTH)[0].passed is False
    assert of_rule(found, thresholds.CPU_AVG)[0].actual == "90.0%"
    assert of_rule(found, resource_rules.MEMORY_GROWTH)[0].title.startswith(
        "RSS of this process (server + perftest) grew 150.0 MB"
    )
    assert of_rule(found, resource_rules.CPU_HIGH)[0].title.startswith(
        "CPU averaged 90.0% of 1 core "
    )
    report = rendered(run)
    assert "| RSS growth (last − first) | +150.0 MB |" in report
    assert "| CPU mean / max (% of 1 core) | 90.0% / 90.0% |" in report


def test_resources_below_thresholds_pass_without_bottlenecks():
    run = make_run()
    add_endpoint(run, "Get Profile")
    add_samples(run, [100, 101, 102], [0, 20, 40])
    found = analyzed(run)

    assert [f.passed for f in of_rule(found, thresholds.MEMORY_GROWTH)] == [True]
    assert [f.passed for f in of_rule(found, thresholds.CPU_AVG)] == [True]
    assert not of_rule(found, resource_rules.MEMORY_GROWTH) and not of_rule(
        found, resource_rules.CPU_HIGH
    )
    assert of_rule(found, "key.resources")[0].title.startswith("RSS changed by +2.0 MB")


def test_unavailable_resources_are_not_evaluated_and_the_reason_is_shown():
    run = make_run(resource_description="", resource_unavailable="no permission to read process 7")
    add_endpoint(run, "Get Profile")
    found = analyzed(run)

    for rule in (thresholds.MEMORY_GROWTH, thresholds.CPU_AVG):
        check = of_rule(found, rule)[0]
        assert (check.passed, check.evidence) == (None, "no permission to read process 7")
    assert "No resource figures: no permission to read process 7." in rendered(run)


def test_without_samples_or_reason_the_report_says_no_samples():
    run = make_run()
    add_endpoint(run, "Get Profile")
    assert of_rule(analyzed(run), thresholds.MEMORY_GROWTH)[0].evidence == "fewer than 2 samples"
    assert "No resource figures: no samples were recorded." in rendered(run)


def test_response_table_numbers_are_the_stored_fields():
    run = make_run()
    ep = add_endpoint(
        run,
        "Get Lessons",
        p50_ms=3.14159,
        p95_ms=12.345,
        p99_ms=1234.56,
        max_ms=1500.0,
        mean_ms=7.5,
        ok=18,
        status_counts={"200": 18, "500": 2},
        errors=[{"reason": "HTTP 500", "count": 2, "example": "boom"}],
    )
    analyzed(run)
    figures = [ms(getattr(ep, f)) for f in ("p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms")]
    assert figures == ["3.14 ms", "12.3 ms", "1234.6 ms", "1500.0 ms", "7.50 ms"]
    row = (
        f"| Get Lessons | GET /api/get-lessons/ | 20 | 18 | {' | '.join(figures)} "
        "| 200×18, 500×2 | HTTP 500 ×2 |"
    )
    assert row in rendered(run)
    assert "- Requests: 20; as expected: 18 (90.0%); errors: 2" in rendered(run)


def test_key_findings_name_the_slowest_and_fastest_endpoints():
    run = make_run()
    add_endpoint(run, "A", p95_ms=300.0)
    add_endpoint(run, "B", p95_ms=40.0)
    add_endpoint(run, "C", p95_ms=120.0)
    found = analyzed(run)
    assert of_rule(found, "key.highest_p95")[0].title == "Slowest endpoint by p95: A at 300.0 ms"
    assert of_rule(found, "key.lowest_p95")[0].title == "Fastest endpoint by p95: B at 40.0 ms"
    totals = of_rule(found, "key.totals")[0]
    assert totals.title == "60 requests to 3 of 3 endpoints; 60 (100.0%) answered as expected"
    assert all(f.recommendation == "" for f in found if f.kind == "key")


def test_interrupted_and_failed_runs_say_so():
    run = make_run(status=models.Run.Status.INTERRUPTED)
    add_endpoint(run, "Get Profile", requests=7, interrupted=True)
    found = analyzed(run)
    assert of_rule(found, "key.interrupted")[0].title == (
        "The run was interrupted: 7 of 20 planned requests were made"
    )
    report = rendered(run)
    assert "The run was interrupted: the figures cover the 7 of 20 planned requests" in report
    assert "interrupted after 7 of 20 planned" in report

    failed = make_run(status=models.Run.Status.FAILED, failure="database went away")
    add_endpoint(failed, "Get Profile")
    assert of_rule(analyzed(failed), "key.failed")[0].title == "The run failed: database went away"
    assert "The run failed: database went away." in rendered(failed)


def test_a_clean_run_lists_what_was_checked_and_recommends_nothing():
    run = make_run()
    add_endpoint(run, "Get Profile")
    add_samples(run, [100, 100], [0, 10])
    found = analyzed(run)
    assert not [f for f in found if f.kind == "bottleneck"]
    report = rendered(run)
    assert "None found by the rules: checked failed logins, server errors (HTTP 5xx)" in report
    assert "None: no bottleneck rule fired." in report
    assert "## Facts of the run" in report and "## Methodology" in report


def test_render_is_deterministic_and_write_stores_the_same_text(tmp_path):
    run = make_run(notes=["seeded 3 lessons"])
    add_endpoint(run, "Odd|Name", errors=[{"reason": "HTTP 500", "count": 1, "example": "a|b"}])
    add_samples(run, [100, 120], [0, 50])
    analyzed(run)

    first = rendered(run)
    again = rendered(models.Run.objects.get(pk=run.pk))
    assert first == again
    path = formats.write(
        read.StoredRun.of(run), formats.FORMATS["md"], str(tmp_path / "new" / "folder")
    )
    assert path.name == f"run-{run.pk}.md"
    assert path.read_text(encoding="utf-8") == first
    assert "- seeded 3 lessons" in first
    assert "| Odd\\|Name |" in first  # a pipe in stored text cannot break a table
    assert "```text\nGET /api/odd|name/: 1 of 20 requests. Example: a|b\n```" in first


def test_console_summary_table_shares_the_figures():
    run = make_run()
    add_endpoint(run, "Get Lessons", p95_ms=2500.0)
    add_endpoint(run, "Get Profile", requests=0, not_measured="login failed")
    analyzed(run)

    lines = summary_table(run).splitlines()
    assert lines[0].split()[:4] == ["Endpoint", "Requests", "OK", "p50"]
    assert "2500.0 ms" in lines[1] and "50.0 ms" in lines[1]
    assert lines[2].endswith("not measured: login failed")
    assert lines[-1] == "Thresholds: 0 passed, 1 failed, 3 not measured, 0 not evaluated"


def test_latency_distribution_shows_every_stored_figure():
    run = make_run()
    endpoint = add_endpoint(run, "Get Lessons", min_ms=3.1, p90_ms=88.8, stdev_ms=12.5)
    add_endpoint(run, "Get Profile", requests=0, not_measured="login failed (HTTP 401)")
    analyzed(run)
    report = rendered(run)
    row = (
        f"| Get Lessons | {ms(3.1)} | {ms(endpoint.p50_ms)} | {ms(88.8)} | {ms(endpoint.p95_ms)} "
        f"| {ms(endpoint.p99_ms)} | {ms(endpoint.max_ms)} | {ms(endpoint.mean_ms)} | {ms(12.5)} |"
    )
    assert row in report
    distribution = report.split("Latency distribution", 1)[1].split("##", 1)[0]
    assert "Get Profile" not in distribution


@pytest.mark.parametrize(("min_ms", "fires"), [(210.0, True), (450.0, False)])
def test_the_login_hash_finding_reads_the_fastest_login_which_a_busy_machine_slows_least(
    min_ms, fires
):
    hashed = {"algorithm": "pbkdf2_sha256", "iterations": 1_000_000, "ms": 200.0}
    run = make_run(
        environment={"cpu_count": 2, "password_hash": hashed},
        config={
            "login": {"method": "POST", "path": "/api/auth/login/"},
            "endpoints": [{"name": "Login", "is_login": True}],
        },
    )
    # A median three times the hash: two of three logins shared the cores with other work.
    add_endpoint(run, "Login", method="POST", path="/api/auth/login/", min_ms=min_ms, p50_ms=600.0)

    found = of_rule(analyzed(run), rules.LOGIN_HASH)
    assert len(found) == fires
    for finding in found:
        assert "p50 600.0 ms, of which hashing the password takes 200.0 ms" in finding.title
        assert "33% of the login's median time (600.0 ms) and 95% of its fastest" in (
            finding.evidence
        )


@pytest.mark.parametrize(
    ("p50_ms", "words"),
    [
        (240.0, "p50 240.0 ms, of which hashing the password takes 200.0 ms"),
        (180.0, "p50 180.0 ms, about as long as hashing the password once (200.0 ms)"),
    ],
)
def test_the_login_hash_finding_words_its_share_as_measured(p50_ms, words):
    hashed = {"algorithm": "pbkdf2_sha256", "iterations": 1_000_000, "ms": 200.0}
    run = make_run(
        environment={"cpu_count": 4, "password_hash": hashed},
        config={
            "thresholds": {"RESPONSE_TIME_P95_MS": 2000},
            "login": {"method": "POST", "path": "/api/auth/login/"},
            "endpoints": [{"name": "Login", "is_login": True}],
        },
    )
    add_endpoint(run, "Login", method="POST", path="/api/auth/login/", p50_ms=p50_ms)

    (finding,) = of_rule(analyzed(run), rules.LOGIN_HASH)
    assert (
        finding.title
        == f"Login is mostly one password hash: {words} (pbkdf2_sha256, 1,000,000 iterations)"
    )
