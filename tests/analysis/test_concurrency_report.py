"""Load-level rules and report sections, fed with stored rows: each fires exactly when it should.

Runs, ``LoadLevel`` rows and their per-endpoint ``EndpointResult`` rows are built directly with
the ORM, as ``store.save`` writes them, so every figure is known; findings are stored through
``store.save_findings`` and the report is rendered from the stored rows.
"""

from __future__ import annotations

import pytest

from perftest import models
from perftest.analysis import summaries, thresholds, verdict
from perftest.analysis.rules import generator as generator_rules
from perftest.analysis.rules import levels as level_rules
from perftest.analysis.rules import scaling as scaling_rules
from perftest.store import read
from perftest.text import ms
from tests.support.stored_rows import (
    add_endpoint,
    add_level,
    add_samples,
    analyzed,
    curve_with_a_knee_at_30,
    errors_of,
    load_run,
    make_run,
    of_rule,
    rendered,
    summary_table,
)

pytestmark = pytest.mark.django_db


def test_knee_names_the_level_where_throughput_stalls_and_p95_jumps():
    run = curve_with_a_knee_at_30()
    found = analyzed(run)

    expected = (
        "200 % more workers (10 → 30) turned into 4.2 % more throughput as expected (efficiency "
        "2 %, bound 50 %): 120.1 → 125.2 req/s while p95 went ×2.8, 40.0 → 112.0 ms"
    )
    [knee] = of_rule(found, scaling_rules.KNEE)
    assert (knee.subject, knee.title) == ("30 concurrent", f"Knee at 30 concurrent: {expected}")
    assert not of_rule(found, scaling_rules.NO_KNEE) and not of_rule(
        found, scaling_rules.ERROR_START
    )
    peak = of_rule(found, scaling_rules.PEAK)[0]
    assert peak.title == "Peak throughput: 126.0 req/s as expected at 50 concurrent"

    report = rendered(run)
    assert "| 10 | 120.1 req/s | +861 % | 40.0 ms | +100 % | 0.0 % |" in report
    assert "| 30 | 125.2 req/s | +4.2 % | 112.0 ms | +180 % | 0.0 % |" in report
    assert f"- Knee at 30 concurrent: {expected}." in report
    assert "- No closed level had errors." in report


def test_a_linear_curve_has_no_knee_and_says_so():
    run = load_run()
    for concurrency in (1, 10, 20):
        add_level(run, concurrency, 10.0 * concurrency, 25.0)
    found = analyzed(run)

    steps = summaries.curve(run.levels.all())
    assert scaling_rules.knee(steps) is None
    assert [s.throughput_growth for s in steps] == [None, 900.0, 100.0]
    assert not of_rule(found, scaling_rules.KNEE)
    assert of_rule(found, scaling_rules.NO_KNEE)[0].title.startswith(
        "No knee across 1, 10, 20 concurrent"
    )
    assert (
        "- No knee across 1, 10, 20 concurrent: every level turned at least 50 % of its added "
        "workers into throughput as expected (lowest efficiency 100 %, from 1 concurrent to 10 "
        "concurrent), and none of these levels had errors."
    ) in rendered(run)


def test_errors_start_at_the_first_level_with_errors_and_make_it_the_knee():
    run = load_run()
    add_level(run, 1, 20.0, 20.0)
    add_level(run, 10, 200.0, 30.0)
    add_level(run, 30, 420.0, 35.0, **errors_of("HTTP 503", 12, "Service Unavailable"))
    add_level(run, 50, 430.0, 90.0, **errors_of("HTTP 503", 40))
    found = analyzed(run)

    onset = "12 of 400 requests (3.0 %): HTTP 503 ×12"
    assert (
        of_rule(found, scaling_rules.ERROR_START)[0].title
        == f"Errors start at 30 concurrent: {onset}"
    )
    knee = of_rule(found, scaling_rules.KNEE)[0]
    assert knee.title.startswith(f"Knee at 30 concurrent: errors appear ({onset}); 200 % more")
    generic = of_rule(found, level_rules.LEVEL_ERRORS)
    assert [f.subject for f in generic] == ["30 concurrent", "50 concurrent"]
    assert "Example: Service Unavailable" in generic[0].evidence
    report = rendered(run)
    assert f"- Errors start at 30 concurrent: {onset}." in report
    # Throughput as expected: 388 of 400 answers over the window, not the 420 req/s of all.
    assert "| 30 | 407.4 req/s | +104 % | 35.0 ms | +16.7 % | 3.0 % |" in report


def test_fewer_than_two_closed_levels_cannot_draw_a_curve():
    run = load_run()
    add_level(run, 10, 100.0, 20.0)
    add_level(run, 20, 80.0, 20.0, model=models.LoadLevel.Model.OPEN, rate=80.0)
    found = analyzed(run)
    assert not of_rule(found, scaling_rules.KNEE) and not of_rule(found, scaling_rules.NO_KNEE)
    assert (
        "The scaling curve needs at least two closed-model levels with counted requests; "
        "this run has 1." in rendered(run)
    )


def concurrency_checks(found):
    return [
        (f.title, f.target, f.actual, f.passed, f.evidence)
        for f in found
        if f.rule in (thresholds.CONCURRENCY_ALL_OK, thresholds.CONCURRENCY_MOSTLY_OK)
    ]


def test_concurrency_thresholds_pass_with_actual_percentages():
    run = load_run()
    add_level(run, 10, 100.0, 20.0)
    add_level(run, 30, 120.0, 60.0, **errors_of("HTTP 503", 20))
    checks = concurrency_checks(analyzed(run))
    assert [c[:4] for c in checks] == [
        ("10 concurrent: all requests succeed", "100%", "100.0%", True),
        ("30 concurrent: ≥ 90% succeed", "≥ 90%", "95.0%", True),
    ]
    assert (
        checks[1][4] == "380 of 400 requests answered as expected over http; errors: HTTP 503 ×20"
    )
    report = rendered(run)
    assert "| 30 concurrent: ≥ 90% succeed | ≥ 90% | 95.0% | PASS |" in report


def test_concurrency_thresholds_fail_and_are_not_evaluated_without_their_level():
    run = load_run()
    add_level(run, 10, 100.0, 20.0, **errors_of("HTTP 500", 1))
    checks = concurrency_checks(analyzed(run))
    assert checks == [
        (
            "10 concurrent: all requests succeed",
            "100%",
            "99.7%",
            False,
            "399 of 400 requests answered as expected over http; errors: HTTP 500 ×1",
        ),
        (
            "30 concurrent: ≥ 90% succeed",
            "≥ 90%",
            "not evaluated",
            None,
            "no 30-concurrent level was run",
        ),
    ]
    report = rendered(run)
    assert "| 10 concurrent: all requests succeed | 100% | 99.7% | FAIL |" in report
    assert (
        "| 30 concurrent: ≥ 90% succeed | ≥ 90% | not evaluated: no 30-concurrent level was run "
        "| NOT EVALUATED |" in report
    )


def test_concurrency_thresholds_read_overrides_and_round_down_a_failing_share():
    run = load_run()
    run.config["thresholds"] = {
        "CONCURRENCY_ALL_OK": 5,
        "CONCURRENCY_MOSTLY_OK": 20,
        "CONCURRENCY_MOSTLY_OK_RATE": 99.9,
    }
    run.save()
    add_level(run, 20, 100.0, 20.0, requests=10000, ok=9989, status_counts={"200": 9989})
    checks = concurrency_checks(analyzed(run))
    assert [c[:4] for c in checks] == [
        ("5 concurrent: all requests succeed", "100%", "not evaluated", None),
        ("20 concurrent: ≥ 99.9% succeed", "≥ 99.9%", "99.8%", False),
    ]


def test_a_sequential_run_has_no_concurrency_checks():
    run = make_run()
    add_endpoint(run, "Get Profile")
    assert concurrency_checks(analyzed(run)) == []
    assert "No load level was run: the run measured each endpoint sequentially only" in (
        rendered(run)
    )


def test_rate_limiting_under_load_says_the_throttle_was_measured_with_retry_after():
    run = load_run()
    example = 'Retry-After: 17 | {"detail": "Request was throttled."}'
    add_level(run, 30, 100.0, 20.0, **errors_of("HTTP 429", 150, example))
    [throttled] = of_rule(analyzed(run), level_rules.RATE_LIMITED)
    assert throttled.title == (
        "30 concurrent: rate limiting answered HTTP 429 for 150 of 400 requests"
    )
    assert "measured rate limiting (a throttle)" in throttled.evidence
    assert "The server asked to retry after 17 (Retry-After)." in throttled.evidence
    assert "Disable throttling" in throttled.recommendation


@pytest.mark.parametrize(
    ("identities", "login_mode", "reason", "fires"),
    [
        (3, "per-worker", "HTTP 401", True),
        (10, "per-worker", "HTTP 401", False),
        (3, "once", "HTTP 401", False),
        (3, "per-worker", "HTTP 500", False),
    ],
)
def test_token_rotation_fires_only_for_shared_identities_logging_in_per_worker(
    identities, login_mode, reason, fires
):
    run = load_run()
    add_level(
        run, 10, 100.0, 20.0, identities=identities, login_mode=login_mode, **errors_of(reason, 40)
    )
    found = analyzed(run)
    rotated = of_rule(found, level_rules.TOKEN_ROTATION)
    assert bool(rotated) is fires
    if fires:
        assert "THE_BOT rotates the token on every login" in rotated[0].evidence
        assert "10 workers shared 3 identities" in rotated[0].evidence
        assert "--login once" in rotated[0].recommendation
        assert not of_rule(found, level_rules.LEVEL_ERRORS)
    else:
        assert of_rule(found, level_rules.LEVEL_ERRORS)[0].title.endswith(f"{reason} ×40")


def test_connection_errors_after_successes_mean_the_target_went_away():
    run = load_run()
    add_level(run, 30, 100.0, 20.0, **errors_of("connection refused", 150))
    [gone] = of_rule(analyzed(run), level_rules.TARGET_WENT_AWAY)
    assert gone.title == "30 concurrent: the target stopped answering during the level"
    assert (
        "the target stopped answering during the level: 150 of 400 requests failed with "
        "connection errors (connection refused ×150) after 250 succeeded" in gone.evidence.lower()
    )


@pytest.mark.parametrize(("cpu_s", "fires"), [(9.5, True), (5.0, False)])
def test_generator_saturation_fires_at_095_cores_and_not_at_05(cpu_s, fires):
    run = load_run()
    add_level(run, 10, 100.0, 20.0, generator_cpu_s=cpu_s, wall_s=10.0)
    saturated = of_rule(analyzed(run), generator_rules.GENERATOR_CPU)
    assert bool(saturated) is fires
    if fires:
        assert saturated[0].title == (
            "10 concurrent: figures are limited by the load generator, not the server: perftest "
            "used 0.95 cores of the 1.00 it could have (1 process, 4 cores)"
        )
    assert ("| 0.95 cores |" if fires else "| 0.50 cores |") in rendered(run)


def test_late_and_dropped_requests_say_latency_includes_the_wait():
    run = load_run()
    add_level(
        run,
        20,
        45.0,
        20.0,
        model=models.LoadLevel.Model.OPEN,
        rate=50.0,
        late=30,
        dropped=10,
        max_lateness_ms=250.0,
    )
    found = analyzed(run)
    [late] = of_rule(found, generator_rules.GENERATOR_LATE)
    assert late.subject == "50 req/s open, 20 workers"
    assert late.title == (
        "50 req/s open, 20 workers: 40 of 410 requests could not be sent on time (all workers "
        "busy); latency includes the wait (measured from the intended send time)"
    )
    # A run stored before the workers' state was followed: the cause stays "all workers busy".
    assert "Sent late: 30 (up to 250.0 ms behind schedule), 0 of them although a worker was " in (
        late.evidence
    )
    assert "; dropped, never sent: 10" in late.evidence
    assert not of_rule(found, generator_rules.GENERATOR_CPU)
    assert "| 30 / 10 (max 250.0 ms late) |" in rendered(run)


def test_worker_failures_are_a_bottleneck():
    run = load_run()
    add_level(run, 10, 100.0, 20.0, worker_failures=["worker 3: RuntimeError: boom"])
    [failed] = of_rule(analyzed(run), generator_rules.WORKER_FAILURES)
    assert failed.title == "10 concurrent: 1 of 10 workers failed"
    assert failed.evidence == "worker 3: RuntimeError: boom"


def test_a_lost_locust_worker_names_the_users_it_carried_and_makes_its_level_red():
    """The report that said "1 of 30 workers failed" of one Locust process carrying all 30."""
    run = load_run()
    lost = "Locust worker w1 lost 9.0 s into the level (12:00:00 UTC): no heartbeat for 3 s"
    missing = {"workers": 1, "users": 30, "share": 0.7}
    add_level(run, 30, 100.0, 20.0, worker_failures=[lost], missing_data=missing)
    add_level(run, 10, 100.0, 20.0)
    [failed] = of_rule(analyzed(run), generator_rules.WORKER_FAILURES)
    said = "1 Locust worker lost, carrying 30 of 30 users: about 70% of the level's data is missing"
    assert failed.title == f"30 concurrent: {said}" and failed.evidence == lost

    red = verdict.of(read.StoredRun.of(run))
    assert red.code == verdict.RED and f"FAIL: 30 concurrent: {said}" in red.reasons
    assert not [reason for reason in red.reasons if "10 concurrent" in reason]


def test_where_the_time_goes_compares_stored_p50s():
    run = make_run(mode="both")
    inprocess = add_endpoint(run, "Get Profile", p50_ms=4.0)
    over_http = add_endpoint(run, "Get Profile", phase="sequential-http", position=0, p50_ms=9.0)
    add_endpoint(run, "Get Lessons", p50_ms=20.0)
    add_endpoint(run, "Get Lessons", phase="sequential-http", position=1, p50_ms=25.0)
    found = analyzed(run)

    difference = over_http.p50_ms - inprocess.p50_ms
    report = rendered(run)
    assert (
        f"| Get Profile | {ms(inprocess.p50_ms)} | {ms(over_http.p50_ms)} | +{ms(difference)} "
        f"| {100 * difference / over_http.p50_ms:.1f} % |" in report
    )
    assert "| Get Lessons | 20.0 ms | 25.0 ms | +5.00 ms | 20.0 % |" in report
    assert "The largest share is Get Profile: the server and network add 5.00 ms" in report
    # The HTTP pass is not a second sequential pass: one response-time row and check each.
    assert report.count("| Get Profile | GET /api/get-profile/ |") == 1
    assert len(of_rule(found, thresholds.RESPONSE_TIME)) == 2


def test_where_the_time_goes_is_absent_without_an_http_pass():
    run = load_run()
    add_endpoint(run, "Get Profile")
    add_level(run, 10, 100.0, 20.0)
    analyzed(run)
    assert "## Where the time goes" not in rendered(run)


def test_level_tables_methodology_and_console_come_from_stored_rows():
    run = load_run(resource_description="gunicorn master pid 4242 and 2 children")
    add_endpoint(run, "Get Profile")
    add_samples(run, [100, 110], [0, 50])
    level = add_level(run, 10, 100.0, 20.0, transport="in-process", rampup_requests=12)
    add_endpoint(run, "Get Profile", phase="level", level=level, requests=400, p95_ms=21.0)
    analyzed(run)
    report = rendered(run)

    assert (
        "| 10 concurrent | in-process (shared GIL) | 400 | 400 | — | 100.0 req/s | 100.0 req/s | "
        "10.0 ms | "
        "18.0 ms | 20.0 ms | 24.0 ms | 30.0 ms | 4.00 s | — | 0.30 cores |" in report
    )
    assert "in-process (one Python process, shared GIL): server and load generator share" in report
    assert "### 10 concurrent: per endpoint" in report
    assert "| Get Profile | 400 | 400 | 50.0 ms | 21.0 ms | 120.0 ms | — |" in report
    assert "Counted 400 requests in a 4.00 s window; not counted: 12 ramp-up requests" in report
    assert "- Level length: 10 s per level; ramp-up 1 s, not counted." in report
    assert "- Base URL: http://127.0.0.1:8000 (server pid 4242)." in report
    assert "Measured: gunicorn master pid 4242 and 2 children, sampled every 0.5 s." in report
    assert "perftest's own CPU per level is shown separately, as generator CPU" in report
    assert "- Closed model (each worker sends its next request when the previous one" in report
    assert "- Planned: concurrency 1, 10, 30 (not all ran)." in report
    assert (
        "- Mix: the default, every endpoint except login with equal weights: Get Profile." in report
    )
    assert "- Concurrency thresholds: at 10 concurrent all requests succeed; at 30" in report

    lines = summary_table(run).splitlines()
    assert lines[0].split()[:4] == ["Endpoint", "Requests", "OK", "p50"]
    assert len([line for line in lines if line.startswith("Get Profile")]) == 1
    assert lines[-2].startswith("Sent to the target in all: ")
    assert lines[-3].split() == [
        *("10", "concurrent", "400", "400", "100.0", "req/s", "100.0", "req/s", "20.0", "ms")
    ]


def test_report_with_levels_is_deterministic():
    run = load_run()
    add_endpoint(run, "Get Profile")
    add_level(run, 1, 50.0, 20.0)
    add_level(run, 10, 120.1, 40.0, **errors_of("HTTP 429", 3, "Retry-After: 5"))
    analyzed(run)
    first = rendered(run)
    assert first == rendered(models.Run.objects.get(pk=run.pk))


@pytest.mark.parametrize(
    ("stdev_ms", "expected"),
    [(5.0, "the same within measurement noise"), (0.5, "cannot be read from this run")],
)
def test_faster_over_http_is_explained_by_the_spread_of_the_samples(stdev_ms, expected):
    run = load_run(mode="both")
    add_endpoint(run, "Login", p50_ms=181.2, stdev_ms=stdev_ms)
    add_endpoint(run, "Login", phase="sequential-http", p50_ms=178.0, stdev_ms=stdev_ms)
    analyzed(run)
    report = rendered(run)
    assert f"Login answered {ms(3.2)} faster over HTTP than in-process" in report
    assert expected in report


def test_each_process_of_a_sampled_tree_gets_a_row():
    run = load_run(resource_description="gunicorn master pid 10 with 2 workers")
    add_endpoint(run, "Get Profile")
    models.ResourceSample.objects.bulk_create(
        models.ResourceSample(
            run=run,
            offset_s=i * 0.5,
            rss_bytes=(100 + 60 + i) * 2**20,
            cpu_percent=cpu_master + cpu_worker,
            threads=2,
            open_files=4,
            processes=[
                {
                    "pid": 10,
                    "name": "gunicorn",
                    "rss_bytes": 100 * 2**20,
                    "cpu_percent": cpu_master,
                },
                {
                    "pid": 11,
                    "name": "gunicorn",
                    "rss_bytes": (60 + i) * 2**20,
                    "cpu_percent": cpu_worker,
                },
            ],
        )
        for i, (cpu_master, cpu_worker) in enumerate([(0, 0), (2, 100), (4, 60)])
    )
    analyzed(run)
    report = rendered(run)
    assert "Per process (the figures above are their sums):" in report
    # CPU means leave out each process's first reading, and read as % of the machine's cores.
    cores = run.resource_cpu_count
    assert f"| gunicorn (pid 10) | 3 | 100.0 MB | {3 / cores:.1f}% |" in report
    assert f"| gunicorn (pid 11) | 3 | 62.0 MB | {80 / cores:.1f}% |" in report
