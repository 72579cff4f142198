"""LatencyStats counts values in a dict before its HdrHistogram: the histogram is the same."""

from __future__ import annotations

import random

import pytest
from hdrh.histogram import HdrHistogram

from perftest.measure import stats
from perftest.measure.stats import LatencyStats

HOUR_US = 3_600 * 1_000_000


def one_by_one(values_ns: list[int]) -> HdrHistogram:
    """What recording each value straight into the histogram gives, clamped to its range."""
    histogram = HdrHistogram(1, HOUR_US, 3)
    for value in values_ns:
        histogram.record_value(min(max(value // 1000, 1), HOUR_US))
    return histogram


def counts_of(histogram: HdrHistogram) -> list[tuple[int, int]]:
    return [
        (item.value_iterated_to, item.count_at_value_iterated_to)
        for item in histogram.get_recorded_iterator()
    ]


def test_bulk_recording_gives_the_histogram_of_one_value_at_a_time():
    draw = random.Random(11)
    # More distinct microseconds than are held back, plus values below and beyond the range.
    values = [draw.randrange(0, 50_000_000) for _ in range(3 * stats.PENDING_KEPT)]
    values += [0, 400, 2 * HOUR_US * 1000, 7_000_000, 7_000_000]
    recorded = LatencyStats()
    for value in values:
        recorded.record(value)

    expected = one_by_one(values)
    assert counts_of(recorded.histogram) == counts_of(expected)
    assert recorded.histogram.get_total_count() == recorded.count == len(values)
    for percentile in (50, 90, 99, 100):
        assert recorded.histogram.get_value_at_percentile(
            percentile
        ) == expected.get_value_at_percentile(percentile)
    assert (recorded.min_ns, recorded.max_ns) == (0, 2 * HOUR_US * 1000)


def test_values_still_held_back_are_merged_stored_and_corrected():
    first, second = LatencyStats(), LatencyStats()
    for value in (1_000_000, 2_000_000, 2_000_000):
        first.record(value)
    second.record(9_000_000)

    first.merge(second)  # both still hold their values back
    assert first.count == first.histogram.get_total_count() == 4
    again = LatencyStats.from_dict(first.to_dict())
    assert counts_of(again.histogram) == counts_of(first.histogram)
    assert again.percentile_ms(50) == first.percentile_ms(50) == 2.0

    held, added = LatencyStats(), LatencyStats()
    for late in (held, added):
        late.record(10_000_000)  # one 10 ms answer where 1 ms was expected: more were missed
    assert added.histogram.get_total_count() == 1  # read once: its value is in the histogram
    assert held.corrected(1_000_000).count == added.corrected(1_000_000).count > 1


def recorded_values_us(latency: LatencyStats) -> list[int]:
    """Every value in the histogram, in µs, once per count (exact below 2048 µs)."""
    return [value for value, count in counts_of(latency.histogram) for _ in range(count)]


def test_coordinated_omission_correction_adds_only_the_missing_answers_of_the_reference_rule():
    """HdrHistogram's ``recordValueWithExpectedInterval`` (and wrk): keep the value, then add
    value − k·interval while it is at least one interval; never the remainder below it."""
    raw = LatencyStats()
    for micros in (100, 250, 1000):
        raw.record(micros * 1000)

    corrected = raw.corrected(100_000)  # an expected interval of 100 µs

    # By hand: 100 adds nothing; 250 adds 150 (not 50); 1000 adds 900, 800, ..., 100.
    assert recorded_values_us(corrected) == [
        100, 100, 150, 200, 250, 300, 400, 500, 600, 700, 800, 900, 1000,
    ]  # fmt: skip
    assert corrected.count == 13
    # HdrHistogram's rank rule over those 13 values: the 7th, the 12th and the 13th.
    assert corrected.percentile_ms(50) == 0.4
    assert corrected.percentile_ms(90) == 0.9
    assert corrected.percentile_ms(99) == 1.0
    assert (corrected.min_ms, corrected.max_ms) == (raw.min_ms, raw.max_ms)


def stalled_closed_level() -> LatencyStats:
    """What a closed level records when one answer in 200 waits out a stall: mostly 2-6 ms."""
    draw = random.Random(7)
    latency = LatencyStats()
    for number in range(4000):
        if number % 200 == 0:
            latency.record(draw.randrange(300_000_000, 900_000_000))
        else:
            latency.record(draw.randrange(2_000_000, 6_000_000))
    return latency


def test_corrected_latency_is_never_below_the_raw_latency_of_a_stalled_closed_level():
    raw = stalled_closed_level()
    corrected = raw.corrected(int(raw.percentile_ms(50) * 1e6))  # the level's p50, as levels do

    assert corrected.count > raw.count
    for percentile in [*range(1, 101), 99.9]:
        assert corrected.percentile_ms(percentile) >= raw.percentile_ms(percentile), percentile


@pytest.mark.slow
def test_correcting_with_the_p50_interval_never_lowers_any_percentile_up_to_the_median():
    """Every added answer is at least the interval (the p50), so no percentile up to the
    median can fall, whatever the data; hdrh's own rule added remainders below it."""
    draw = random.Random(3)
    for _ in range(20):
        raw = LatencyStats()
        for _ in range(300):
            raw.record(draw.choice((1, 1, 2, 3, 40)) * draw.randrange(1_000_000, 2_000_000))
        corrected = raw.corrected(int(raw.percentile_ms(50) * 1e6))
        for percentile in range(1, 51):
            assert corrected.percentile_ms(percentile) >= raw.percentile_ms(percentile)
