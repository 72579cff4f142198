"""Latency statistics: exact count/min/max/mean/stdev plus HDR-histogram percentiles.

Percentiles come from an HdrHistogram (3 significant digits, microsecond resolution), which
merges exactly across workers and can be stored encoded and recomputed later. Count, sum and
sum of squares are kept as exact integers in nanoseconds, so mean and stdev are exact too.

Recording is on every request's path, and hdrh's ``record_value`` is pure Python (about 2 µs),
so a value is first counted in a dict of microseconds and added to the histogram in bulk when
the histogram is read, or when the dict holds ``PENDING_KEPT`` distinct values: the same
histogram, for a dict update per request.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from hdrh.histogram import HdrHistogram

_LOWEST_US = 1
_HIGHEST_US = 3_600 * 1_000_000  # one hour: longer requests are clamped, never lost
_SIGNIFICANT_DIGITS = 3

PERCENTILES = (50, 90, 95, 99)
#: Distinct microsecond values counted before they are added to the histogram.
PENDING_KEPT = 2048


def _new_histogram() -> HdrHistogram:
    return HdrHistogram(_LOWEST_US, _HIGHEST_US, _SIGNIFICANT_DIGITS)


@dataclass
class LatencyStats:
    """Durations recorded in nanoseconds; read back in milliseconds."""

    count: int = 0
    sum_ns: int = 0
    sumsq_ns: int = 0
    min_ns: int = 0
    max_ns: int = 0
    recorded: HdrHistogram = field(default_factory=_new_histogram, repr=False)
    #: Microseconds -> answers, not yet added to ``recorded``.
    _pending: dict[int, int] = field(default_factory=dict, init=False, repr=False, compare=False)

    def record(self, elapsed_ns: int) -> None:
        if self.count == 0 or elapsed_ns < self.min_ns:
            self.min_ns = elapsed_ns
        if elapsed_ns > self.max_ns:
            self.max_ns = elapsed_ns
        self.count += 1
        self.sum_ns += elapsed_ns
        self.sumsq_ns += elapsed_ns * elapsed_ns
        micros, pending = elapsed_ns // 1000, self._pending
        pending[micros] = pending.get(micros, 0) + 1
        if len(pending) >= PENDING_KEPT:
            self._add_pending()

    def _add_pending(self) -> None:
        """Add the counted values to the histogram (out of its range: clamped, never lost)."""
        record_value = self.recorded.record_value
        for micros, times in self._pending.items():
            record_value(min(max(micros, _LOWEST_US), _HIGHEST_US), times)
        self._pending.clear()

    @property
    def histogram(self) -> HdrHistogram:
        """Every recorded value, in the HdrHistogram."""
        if self._pending:
            self._add_pending()
        return self.recorded

    def merge(self, other: LatencyStats) -> None:
        """Add another worker's statistics; exact for every figure."""
        if other.count == 0:
            return
        if self.count == 0 or other.min_ns < self.min_ns:
            self.min_ns = other.min_ns
        self.max_ns = max(self.max_ns, other.max_ns)
        self.count += other.count
        self.sum_ns += other.sum_ns
        self.sumsq_ns += other.sumsq_ns
        self.histogram.add(other.histogram)

    @property
    def mean_ms(self) -> float:
        return self.sum_ns / self.count / 1e6 if self.count else 0.0

    @property
    def stdev_ms(self) -> float:
        """Sample standard deviation (n - 1), as Python's statistics.stdev."""
        if self.count < 2:
            return 0.0
        variance = (self.sumsq_ns - self.sum_ns * self.sum_ns / self.count) / (self.count - 1)
        return math.sqrt(max(variance, 0.0)) / 1e6

    @property
    def min_ms(self) -> float:
        return self.min_ns / 1e6

    @property
    def max_ms(self) -> float:
        return self.max_ns / 1e6

    def percentile_ms(self, percentile: float) -> float:
        if self.count == 0:
            return 0.0
        # The histogram's bucket value can exceed the true maximum by its resolution.
        micros = self.histogram.get_value_at_percentile(percentile)
        return min(micros / 1000, self.max_ms)

    def to_dict(self) -> dict[str, int | str]:
        """Exact figures and the encoded histogram, for storage or another process.

        The sums grow without bound (the sum of squares of 19 answers of 1 s already exceeds
        64 bits, the largest integer of Locust's msgpack messages), so they travel as decimal
        text: exact at any size, and the merge on the other side stays exact.
        """
        return {
            "count": self.count,
            "sum_ns": str(self.sum_ns),
            "sumsq_ns": str(self.sumsq_ns),
            "min_ns": self.min_ns,
            "max_ns": self.max_ns,
            "histogram": self.encode(),
        }

    @classmethod
    def from_dict(cls, data: dict) -> LatencyStats:
        """Rebuild statistics from ``to_dict``, so they can be merged or read again."""
        encoded = data["histogram"]
        histogram = HdrHistogram.decode(encoded.encode("ascii")) if encoded else _new_histogram()
        figures = ("count", "sum_ns", "sumsq_ns", "min_ns", "max_ns")
        return cls(*(int(data[name]) for name in figures), histogram)

    def corrected(self, expected_interval_ns: int) -> LatencyStats:
        """These figures corrected for coordinated omission, by HdrHistogram's reference rule.

        A closed-model worker that waits 1 s for a stalled answer sends nothing meanwhile, so
        the requests a user would have sent during the stall are never measured. Each recorded
        value is kept, and the answers those missing requests would have waited for are added
        (value − interval, value − 2·interval, ... while at least one interval), as
        HdrHistogram's ``recordValueWithExpectedInterval`` and wrk do. hdrh's own
        ``record_corrected_value`` also records the remainder below the interval, which pulls
        the corrected percentiles under the raw ones; it is not used. Done once per level after
        the merge, so the per-request path pays nothing; the result is the same as correcting
        each worker's values as they arrive, since the correction is per value.
        """
        interval_us = max(expected_interval_ns // 1000, _LOWEST_US)
        fixed = LatencyStats(min_ns=self.min_ns, max_ns=self.max_ns)
        record_value = fixed.histogram.record_value
        for item in self.histogram.get_recorded_iterator():
            value, count = item.value_iterated_to, item.count_added_in_this_iter_step
            record_value(value, count)
            for missing in range(value - interval_us, interval_us - 1, -interval_us):
                record_value(missing, count)
        fixed.count = fixed.histogram.get_total_count()
        return fixed

    def encode(self) -> str:
        """The histogram as compressed base64 text, for storage."""
        return self.histogram.encode().decode("ascii") if self.count else ""
