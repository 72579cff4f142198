"""The capacity a search found, as the run's first key finding, in each way a search ends; and
the verdict of a capacity run: its probes beyond the capacity are not judged by ``@*``, the
steps that passed are."""

from __future__ import annotations

import pytest

from perftest import models
from perftest.analysis import verdict
from perftest.analysis.rules import capacity as capacity_rules
from perftest.conf import DEFAULTS
from perftest.store import read
from tests.support.stored_rows import (
    add_level,
    add_samples,
    analyzed,
    capacity_record,
    capacity_step,
    load_run,
    of_rule,
    server_environment,
    server_timing,
)

pytestmark = pytest.mark.django_db

OPEN = models.LoadLevel.Model.OPEN
P95_300 = "p95 < 300ms"


def capacity_run(thresholds=None, **search):
    """A search for p95 < 300ms against 2 sync workers: 71 and 142 req/s pass, 284, 213 and
    168 req/s fail (168 with the workers busy 99 % of the time)."""
    config = {
        "load": {"rate": [71.0], "duration_s": 10.0, "ramp_up_s": 0.0},
        "http": {"base_url": "http://127.0.0.1:8000", "server_pid": 4242},
        "login": {"method": "POST", "path": "/api/auth/login/"},
        "thresholds": list(thresholds or DEFAULTS["THRESHOLDS"]),
    }
    run = load_run(environment=server_environment(2), config=config)
    add_samples(run, [100.0, 101.0], [0.0, 20.0])
    steps = [
        (71.0, 40.0, 11.7, True, "", ""),
        (142.0, 180.0, 11.8, True, "", ""),
        (284.0, 2400.0, 11.8, False, P95_300, "2400 ms"),
        (213.0, 1500.0, 11.8, False, P95_300, "1500 ms"),
        (168.0, 912.0, 11.79, False, P95_300, "912 ms"),
    ]
    for rate, p95, app_ms, *_ in steps:
        # The probes far beyond capacity sent less than asked (a third of their schedule
        # dropped) and a fifth of what they sent answered 503.
        probe = {"ok": 320, "dropped": 200, "status_counts": {"200": 320}} if p95 > 1000 else {}
        add_level(
            run,
            20,
            rate,
            p95,
            model=OPEN,
            rate=rate,
            planned_requests=600,
            server_timing=server_timing(400, app_ms, 0.3, p95 / 3),
            **probe,
        )
    record = capacity_record(
        [
            capacity_step(i, rate, failed, value)
            for i, (rate, *_, failed, value) in enumerate(steps)
        ],
        expression=P95_300,
        capacity_rps=142.0,
        **search,
    )
    models.Run.objects.filter(pk=run.pk).update(capacity=record)
    run.refresh_from_db()
    return run


def test_the_capacity_headline_names_the_rate_the_failing_bound_and_why():
    run = capacity_run()
    found = analyzed(run)

    [headline] = of_rule(found, capacity_rules.CAPACITY)
    assert headline.title == (
        "Capacity: 142 req/s of this mix with p95 < 300 ms (at 168 req/s p95 was 912 ms: the 2 "
        "server workers were busy 99 % of the time)"
    )
    assert [f.rule for f in found if f.kind == "key"][0] == capacity_rules.CAPACITY
    assert "Bounds: p95 < 300 ms, error rate < 1 %, requests dropped < 10 %." in headline.evidence
    assert "168 req/s failed p95 < 300 ms (912 ms)" in headline.evidence
    assert "At 142 req/s: 142.0 req/s answered as expected" in headline.evidence


def test_a_failing_error_rate_bound_is_named_beside_the_expression():
    run = capacity_run()
    record = {**run.capacity, "failed": "error_rate < 1%", "value": "3.2 %"}
    models.Run.objects.filter(pk=run.pk).update(capacity=record)

    [headline] = of_rule(analyzed(run), capacity_rules.CAPACITY)
    assert headline.title.startswith(
        "Capacity: 142 req/s of this mix with p95 < 300 ms (at 168 req/s error rate was 3.2 %, "
        "beyond its bound error rate < 1 %: the 2 server workers"
    )


def test_a_search_the_generator_ended_says_the_most_it_could_send_and_how_to_send_more():
    run = capacity_run(ended="generator", generator_max_rps=95.0)
    [headline] = of_rule(analyzed(run), capacity_rules.CAPACITY)
    assert headline.title == (
        "Capacity: above 95 req/s, the most this generator could send: measure with --engine "
        "locust --processes 4 (one per core of this 4-core machine), or from another machine"
    )


def test_a_search_whose_first_step_failed_says_at_which_rate_and_bound():
    run = load_run(environment=server_environment(2))
    add_level(run, 20, 20.0, 912.0, model=OPEN, rate=20.0)
    record = capacity_record([capacity_step(0, 20.0, "error_rate < 1%", "40.0 %")])
    models.Run.objects.filter(pk=run.pk).update(capacity=record)
    run.refresh_from_db()

    [headline] = of_rule(analyzed(run), capacity_rules.CAPACITY)
    assert headline.title == (
        "Capacity: none found of this mix with p95 < 300 ms: even the lowest rate tried, 20 req/s, "
        "failed error rate < 1 % (error rate was 40.0 %)"
    )


def test_a_run_without_a_capacity_search_has_no_capacity_finding():
    run = load_run()
    add_level(run, 1, 20.0, 40.0)
    assert not of_rule(analyzed(run), capacity_rules.CAPACITY)


def test_probes_beyond_the_capacity_found_do_not_turn_the_run_red():
    """The steps far beyond capacity dropped a third of their schedule and answered 20 %
    otherwise, which ``success@* >= 90%`` and ``dropped@* < 10%`` fail: they are how the search
    found its limit."""
    run = capacity_run()
    analyzed(run)
    stored = read.StoredRun.of(run)

    judged = {f.subject for f in stored.findings if f.kind == "threshold"}
    probes = {f"{rate} req/s open, 20 workers" for rate in (284, 213, 168)}
    assert not judged & probes
    checks = [f for f in stored.findings if f.rule == "threshold.success"]
    assert [f.subject for f in checks] == [
        "71 req/s open, 20 workers",
        "142 req/s open, 20 workers",
    ]
    assert verdict.of(stored).code == verdict.OK


def test_a_passing_step_that_breaks_a_threshold_is_red_as_usual():
    run = capacity_run(thresholds=[*DEFAULTS["THRESHOLDS"], "p95@* < 150ms"])
    analyzed(run)
    result = verdict.of(read.StoredRun.of(run))

    assert result.code == verdict.RED
    assert result.reasons == (
        "FAIL: 142 req/s open, 20 workers: p95 response time < 150 ms (actual 180.0 ms)",
    )
