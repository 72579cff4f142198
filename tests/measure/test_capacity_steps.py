"""A capacity step judged from its level: the first failing bound and its value, whether perftest
or the server set the pace, where the search starts and how large each step's pool is."""

from __future__ import annotations

import pytest

from perftest.measure.capacity_steps import judge, pool_size, start_p95_ms, start_rate
from perftest.measure.endpoint_result import EndpointResult
from perftest.measure.result import LevelResult
from perftest.plan.capacity import CapacityPlan
from perftest.plan.expressions import parse
from perftest.plan.model import Mix

BOUNDS = [parse(text) for text in ("p95 < 300ms", "error_rate < 1%", "dropped < 10%")]
SECONDS = 4.0


def step(
    rate: float,
    latencies_ms: list[float],
    *,
    errors: int = 0,
    dropped: int = 0,
    pool: int = 20,
    late_while_idle: int = 0,
    lag_ms: float = 0.0,
) -> LevelResult:
    """An open level at ``rate`` whose answers as expected took ``latencies_ms``."""
    level = LevelResult("open", pool, rate=rate, duration_s=SECONDS)
    for latency in latencies_ms:
        level.overall.latency.record(int(latency * 1e6))
    level.overall.ok = len(latencies_ms)
    level.overall.requests = len(latencies_ms) + errors
    level.dropped, level.late_while_idle = dropped, late_while_idle
    level.late = late_while_idle
    level.max_lateness_ns = int(lag_ms * 1e6)
    level.window_ns = int(SECONDS * 1e9)
    return level


def judged(level: LevelResult, max_workers: int = 500):
    return judge(level, BOUNDS, level.rate or 0, 3, max_workers)


def test_a_step_within_every_bound_passes():
    outcome = judged(step(10, [50.0] * 40))
    assert (outcome.passed, outcome.failed, outcome.generator) == (True, "", "")
    assert outcome.level == 3 and outcome.sent_rps == 10
    assert outcome.p95_ms == pytest.approx(50, 0.01)


def test_the_first_bound_that_fails_is_named_with_its_value():
    slow = judged(step(10, [50.0] * 30 + [900.0] * 10, errors=5))
    assert (slow.passed, slow.failed) == (False, "p95 < 300ms")
    assert slow.value.endswith(" ms") and 895 < float(slow.value.split()[0]) < 905

    failing = judged(step(10, [50.0] * 36, errors=4))
    assert (failing.failed, failing.value) == ("error_rate < 1%", "10.0%")

    dropping = judged(step(10, [50.0] * 30, dropped=10))
    assert (dropping.failed, dropping.value) == ("dropped < 10%", "25.0%")


def test_a_step_without_an_answer_as_expected_fails_its_latency_bound():
    outcome = judged(step(10, [], errors=40))
    assert outcome.failed == "p95 < 300ms" and outcome.value.startswith("not measured")


def test_a_queue_at_the_server_is_the_servers_even_when_sends_lagged_a_little():
    """Saturated: the pool's workers waited on the server, and a busy machine made a few sends
    lag by milliseconds while the queue added hundreds."""
    level = step(80, [600.0] * 200, dropped=120, pool=48, late_while_idle=30, lag_ms=40)
    outcome = judged(level)
    assert outcome.failed == "p95 < 300ms" and outcome.generator == ""


def test_sends_lagging_by_the_latency_itself_are_perftests_limit():
    level = step(80, [200.0] * 300, pool=48, late_while_idle=100, lag_ms=150)
    outcome = judged(level)
    assert "100 of 300 requests were sent late although a worker was free" in outcome.generator


def test_fewer_requests_sent_than_asked_while_the_pool_had_room_is_perftests_limit():
    level = step(100, [20.0] * 280, dropped=120, pool=60)  # 70 req/s sent of 100
    outcome = judged(level)
    assert outcome.generator.startswith("sent 70.0 of 100 req/s although the 60 workers had room")


def test_fewer_requests_sent_with_the_largest_pool_is_perftests_limit():
    level = step(100, [400.0] * 280, dropped=120, pool=8)
    assert "a step's most workers (8)" in judged(level, max_workers=8).generator
    assert judged(level, max_workers=500).generator == ""


def row(name: str, latencies_ms: list[float], role: str = "") -> EndpointResult:
    result = EndpointResult(name, "GET", f"/{name}/", 200, role)
    for latency in latencies_ms:
        result.latency.record(int(latency * 1e6))
    return result


def test_the_search_starts_at_the_rate_one_worker_sustains_on_the_mix():
    rows = [row("Fast", [10.0] * 5), row("Slow", [40.0] * 5), row("Unsent", [])]
    mix = Mix((("Fast", 3.0), ("Slow", 1.0), ("Unsent", 5.0)))
    # Weighted mean latency (3 × 10 + 40) / 4 = 17.5 ms: 57 requests a second.
    assert start_rate(rows, mix) == pytest.approx(1000 / 17.5)
    assert start_p95_ms(rows, mix) == pytest.approx(40, 0.01)
    assert start_rate([row("Unsent", [])], Mix((("Unsent", 1.0),))) == 1.0


def test_each_roles_rows_count_in_the_start():
    rows = [row("Lessons", [10.0] * 3, "student"), row("Lessons", [30.0] * 1, "teacher")]
    assert start_rate(rows, Mix((("Lessons", 1.0),))) == pytest.approx(1000 / 15)


@pytest.mark.parametrize(
    ("rate", "observed_ms", "workers"),
    [
        (40, 50.0, 24),  # 40 req/s × 300 ms allowed × 2
        (40, 900.0, 72),  # the latest p95 seen, above the bound
        (1, 10.0, 4),  # at least four
        (5000, 50.0, 500),  # at most the plan's maximum
    ],
)
def test_a_steps_pool_leaves_room_for_twice_the_requests_in_flight(rate, observed_ms, workers):
    plan = CapacityPlan("p95 < 300ms", ("p95 < 300ms",), max_workers=500)
    assert pool_size(rate, BOUNDS, observed_ms, plan) == workers
