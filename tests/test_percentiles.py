"""The one percentile rank agrees with HdrHistogram's, on every small count."""

from __future__ import annotations

import numpy as np
import pytest
from hdrh.histogram import HdrHistogram

from perftest.percentiles import rank, ranks, value_at

PERCENTILES = (0, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 100)


@pytest.mark.parametrize("percentile", PERCENTILES)
def test_the_rank_is_hdrhistograms_for_1_to_40_answers(percentile):
    for count in range(1, 41):
        histogram = HdrHistogram(1, 1_000_000, 3)
        for value in range(1, count + 1):
            histogram.record_value(value)
        expected = histogram.get_value_at_percentile(percentile)
        assert rank(percentile, count) == histogram.get_target_count_at_percentile(percentile)
        # Values 1..count are exact in 3 significant digits: the value read is the rank.
        assert rank(percentile, count) == expected
        assert value_at(((v, 1) for v in range(1, count + 1)), count, percentile) == expected
        assert ranks(percentile, np.array([count]))[0] == rank(percentile, count)


def test_p95_of_12_answers_is_the_11th():
    assert rank(95, 12) == 11


def test_no_answer_reads_as_zero():
    assert value_at((), 0, 95) == 0
