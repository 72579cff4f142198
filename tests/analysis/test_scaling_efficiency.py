"""The knee by scaling efficiency (the share of added workers that became throughput) and
Little's law per level, from stored levels built row by row."""

from __future__ import annotations

import pytest

from perftest.analysis import efficiency, summaries
from perftest.analysis.rules import generator as generator_rules
from perftest.analysis.rules import scaling as scaling_rules
from tests.support.stored_rows import add_level, analyzed, load_run, of_rule, rendered

pytestmark = pytest.mark.django_db


def test_p95_rising_12_times_while_throughput_grows_11_8_percent_is_a_knee():
    """The case the fixed "throughput grows < 10 %" rule called no knee."""
    run = load_run()
    add_level(run, 1, 25.0, 40.0)
    add_level(run, 5, 120.0, 40.0)
    add_level(run, 10, 134.2, 480.0)
    found = analyzed(run)

    [knee] = of_rule(found, scaling_rules.KNEE)
    assert knee.subject == "10 concurrent"
    assert knee.title == (
        "Knee at 10 concurrent: 100 % more workers (5 → 10) turned into 11.8 % more "
        "throughput as expected (efficiency 12 %, bound 50 %): 120.0 → 134.2 req/s while p95 "
        "went ×12, 40.0 → 480.0 ms"
    )
    assert not of_rule(found, scaling_rules.NO_KNEE)
    assert "Scaling: knee at 10 concurrent: 100 % more workers" in rendered(run)


def test_efficiency_is_the_share_of_the_added_workers_that_became_throughput():
    run = load_run()
    add_level(run, 5, 120.0, 40.0)
    add_level(run, 10, 134.2, 480.0)
    before, after = run.levels.all()

    assert efficiency.efficiency(before, after) == pytest.approx(0.1183, abs=1e-4)
    steps = summaries.curve(run.levels.all())
    assert scaling_rules.knee(steps).level == after


def test_a_curve_that_scales_at_or_above_the_bound_has_no_knee_and_words_the_bound():
    run = load_run()
    add_level(run, 1, 20.0, 50.0)
    add_level(run, 2, 36.0, 55.0)  # efficiency 80 %
    add_level(run, 4, 56.0, 70.0)  # 27.8 % more of 100 % more workers: 56 %
    found = analyzed(run)

    [no_knee] = of_rule(found, scaling_rules.NO_KNEE)
    assert no_knee.title == (
        "No knee across 1, 2, 4 concurrent: every level turned at least 50 % of its added "
        "workers into throughput as expected (lowest efficiency 56 %, from 2 concurrent to 4 "
        "concurrent), and none of these levels had errors"
    )


def test_littles_law_puts_a_closed_levels_workers_in_requests():
    run = load_run()
    level = add_level(run, 10, 200.0, 80.0, mean_ms=48.0)

    law = efficiency.littles_law(level)
    assert (round(law.busy, 2), law.concurrency) == (9.6, 10)
    assert law.ratio == pytest.approx(0.96)
    assert not law.outside_requests
    assert law.text() == "X × R = 9.60 of 10 workers in requests (96%)"


def test_workers_far_from_their_requests_are_a_generator_finding():
    """X × R at 40 % of the workers: they spent the rest of the level in perftest."""
    run = load_run()
    add_level(run, 10, 200.0, 40.0, mean_ms=20.0)  # 4 of 10 in requests
    add_level(run, 20, 400.0, 40.0)  # Little's law holds
    found = of_rule(analyzed(run), generator_rules.OUTSIDE_REQUESTS)

    assert [f.subject for f in found] == ["10 concurrent"]
    assert found[0].title.startswith(
        "10 concurrent: the workers were in requests only 40% of the time (4.00 of 10)"
    )
    assert "200.0 req/s as expected × mean 20.0 ms = 4.00 requests in flight" in found[0].evidence


def test_a_level_with_unexpected_answers_is_not_judged_by_littles_law():
    run = load_run()
    add_level(run, 10, 200.0, 40.0, mean_ms=20.0, ok=300, status_counts={"200": 300})
    assert not of_rule(analyzed(run), generator_rules.OUTSIDE_REQUESTS)
