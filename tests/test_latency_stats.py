"""LatencyStats counts values in a dict before its HdrHistogram: the histogram is the same."""

from __future__ import annotations

import random

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
