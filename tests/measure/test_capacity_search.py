"""``--capacity``'s search as pure logic: the rates it proposes for scripted step outcomes, how
it ends, and the record it leaves (``Run.capacity``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from perftest.measure.capacity import Search, Step, rounded
from perftest.plan.capacity import CapacityPlan

PLAN = CapacityPlan("p95 < 300ms", ("p95 < 300ms", "error_rate < 1%", "dropped < 10%"))


def server_up_to(capacity: float, generator_from: float | None = None) -> Callable[[float], Step]:
    """A server meeting the bounds up to ``capacity`` req/s; from ``generator_from`` on,
    perftest itself sends no more than that."""

    def outcome(rate: float) -> Step:
        if generator_from is not None and rate >= generator_from:
            return Step(rate, True, generator="late while idle", sent_rps=generator_from * 0.8)
        if rate <= capacity:
            return Step(rate, True, sent_rps=rate)
        return Step(rate, False, "p95 < 300ms", f"{rate * 3:.1f} ms", sent_rps=rate)

    return outcome


def search(plan: CapacityPlan, start: float, outcome: Callable[[float], Step]) -> Search:
    """The whole search, each proposed rate measured by ``outcome``; the level is its index."""
    found = Search(plan, start)
    while (rate := found.next_rate()) is not None:
        found.record(Step(**{**vars(outcome(rate)), "level": len(found.steps)}))
    return found


def rates(found: Search) -> list[float]:
    return [step.rate for step in found.steps]


def test_rising_steps_double_from_the_start_then_bisection_ends_within_the_tolerance():
    found = search(PLAN, 10, server_up_to(100))
    record = found.to_dict()

    assert rates(found)[:5] == [10, 20, 40, 80, 160]
    assert record["ended"] == "bisected"
    low, high = record["capacity_rps"], record["failed_rps"]
    assert low <= 100 < high and (high - low) / low <= 0.05
    assert record["failed"] == "p95 < 300ms" and record["value"] == f"{high * 3:.1f} ms"
    # Every step after the first failure lies between the highest pass and lowest failure so far.
    for index in range(5, len(found.steps)):
        earlier = found.steps[:index]
        passed = max(s.rate for s in earlier if s.passed)
        failed = min(s.rate for s in earlier if not s.passed)
        assert passed < found.steps[index].rate < failed
    assert [step["level"] for step in record["steps"]] == list(range(len(found.steps)))
    assert record["start_rps"] == 10 and record["tolerance"] == 0.05
    assert record["generator_max_rps"] is None


def test_a_first_step_that_fails_is_halved_until_a_rate_passes_then_bisected():
    found = search(PLAN, 100, server_up_to(20))
    record = found.to_dict()

    assert rates(found)[:4] == [100, 50, 25, 12.5]
    assert record["ended"] == "bisected"
    low, high = record["capacity_rps"], record["failed_rps"]
    assert low <= 20 < high and (high - low) / low <= 0.05


def test_no_rate_passing_down_to_one_per_second_ends_without_a_capacity_naming_the_bound():
    found = search(PLAN, 6, server_up_to(0.5))
    record = found.to_dict()

    assert rates(found) == [6, 3, 1.5]
    assert record["ended"] == "bound" and record["capacity_rps"] is None
    assert record["failed_rps"] == 1.5
    assert (record["failed"], record["value"]) == ("p95 < 300ms", "4.5 ms")
    assert record["steps"][0] == {
        "level": 0,
        "rate": 6.0,
        "passed": False,
        "failed": "p95 < 300ms",
        "value": "18.0 ms",
    }


def test_a_step_perftest_could_not_send_ends_the_search_without_bisecting_against_it():
    found = search(PLAN, 10, server_up_to(1000, generator_from=80))
    record = found.to_dict()

    assert rates(found) == [10, 20, 40, 80]
    assert record["ended"] == "generator"
    assert record["capacity_rps"] == 40 and record["failed_rps"] is None
    assert record["generator_max_rps"] == 64.0  # the most sent by any step


def test_a_generator_limit_found_while_bisecting_keeps_the_servers_failing_rate():
    def outcome(rate: float) -> Step:
        if rate == 60:
            return Step(rate, False, "dropped < 10%", "22.0%", generator="sent 45", sent_rps=45)
        return server_up_to(50)(rate)

    record = search(PLAN, 10, outcome).to_dict()

    assert [step["rate"] for step in record["steps"]] == [10, 20, 40, 80, 60]
    assert record["ended"] == "generator"
    assert (record["capacity_rps"], record["failed_rps"]) == (40, 80)
    assert record["generator_max_rps"] == 80.0  # the 80 req/s step was sent in full


def test_the_steps_run_out_while_rising_as_max_rate_and_while_bisecting_as_bound():
    rising = search(CapacityPlan("p95 < 1s", ("p95 < 1s",), max_steps=4), 10, server_up_to(1e6))
    assert rates(rising) == [10, 20, 40, 80]
    assert rising.to_dict()["ended"] == "max_rate" and rising.to_dict()["capacity_rps"] == 80

    halving = search(CapacityPlan("p95 < 1s", ("p95 < 1s",), max_steps=6), 10, server_up_to(100))
    record = halving.to_dict()
    assert len(halving.steps) == 6 and record["ended"] == "bound"
    assert record["capacity_rps"] == 80 and record["failed_rps"] == 120


def test_the_highest_rate_ends_a_search_that_never_failed():
    plan = CapacityPlan("p95 < 1s", ("p95 < 1s",), max_rate=50)
    found = search(plan, 10, server_up_to(1e6))

    assert rates(found) == [10, 20, 40, 50]
    assert found.to_dict()["ended"] == "max_rate" and found.to_dict()["capacity_rps"] == 50


def test_an_interrupted_search_keeps_the_steps_it_measured():
    found = Search(PLAN, 10)
    found.record(Step(found.next_rate() or 0, True, sent_rps=10))
    found.interrupt()

    assert found.next_rate() is None
    record = found.to_dict()
    assert record["ended"] == "interrupted" and len(record["steps"]) == 1
    assert record["capacity_rps"] == 10


@pytest.mark.parametrize(("measured", "start"), [(0.3, 1.0), (19.4, 19.0), (212.6, 213.0)])
def test_the_start_is_the_measured_rate_rounded_and_at_least_one_request_a_second(measured, start):
    assert Search(PLAN, measured).next_rate() == start


def test_rates_keep_three_significant_digits():
    assert [rounded(r) for r in (42.8125, 168.4, 1234.5, 0.123456)] == [42.8, 168, 1230, 0.123]
