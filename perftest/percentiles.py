"""The one percentile rank: which answer, counted from the fastest, a percentile names.

Every percentile perftest states is read with HdrHistogram's rule (``hdrh``'s
``get_target_count_at_percentile``): the rank is ``percentile × count / 100`` rounded half
up, at least 1, the percentile capped at 100. The figures measured (``measure.stats``, read
through hdrh itself), the latency windows read back (``store.windows``) and the noise rule's
resamples (``analysis.noise``) then agree: p95 of 12 answers is the 11th, wherever it is read.
A leaf module: it imports nothing of perftest.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def rank(percentile: float, count: int) -> int:
    """The 1-based rank of ``percentile`` among ``count`` answers, as HdrHistogram counts it."""
    return max(1, int(min(percentile, 100.0) * count / 100 + 0.5))


def ranks(percentile: float, counts: np.ndarray) -> np.ndarray:
    """``rank`` for each of ``counts`` at once (as floats), for the noise rule's resamples."""
    return np.maximum(1, np.floor(min(percentile, 100.0) * counts / 100 + 0.5))


def value_at(buckets: Iterable[tuple[int, int]], count: int, percentile: float) -> int:
    """The first bucket value (ascending ``(value, answers)`` pairs) at which ``rank`` answers
    of ``count`` are reached; 0 when the buckets hold fewer."""
    wanted, seen = rank(percentile, count), 0
    for value, answers in buckets:
        seen += answers
        if seen >= wanted:
            return value
    return 0
