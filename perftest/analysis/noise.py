"""The noise rule: is a change between two runs beyond what running again would give?

Per-request latencies are autocorrelated (a collection pause or a busy neighbour slows many
requests in a row), and at 10⁵ pooled requests any difference looks "significant". So when
both runs stored enough time windows, the unit resampled is a window: a block bootstrap draws
whole windows with replacement and pools their buckets, keeping what happened together
together. A phase too short for windows (a sequential pass of 40 requests) resamples its
stored HDR histogram as a multinomial over its buckets; for one percentile that is drawing
the resample's order statistic directly (the k-th of n draws from a distribution F is
F⁻¹(U₍ₖ₎) with U₍ₖ₎ ~ Beta(k, n−k+1)), the same distribution at a fraction of the cost.

Each side is resampled independently with a fixed seed, so a stored run always gets the same
verdict; the interval is of the ratio after/before. A change counts only when the whole
interval lies on one side of 1 AND the point change passes both floors (relative, and
absolute for latency): a real 5 % shift is still not worth failing a build over.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from statistics import NormalDist

import numpy as np

WINDOWS = "windows"
SAMPLES = "samples"
EXACT = "exact"

REGRESSION = "regression"
IMPROVEMENT = "improvement"
UNCHANGED = "unchanged"
NOT_COMPARED = "not compared"


@dataclass(frozen=True)
class NoiseRule:
    """The parameters of the rule, stored with every comparison for its methodology text."""

    confidence: float = 0.99
    resamples: int = 2000
    seed: int = 0
    #: A latency or throughput change below this fraction is never a regression...
    min_relative: float = 0.2
    #: ...nor a latency change below this many milliseconds.
    min_absolute_ms: float = 1.0
    #: Windows each side needs (each with ``min_window_count`` answers) for the block bootstrap.
    min_windows: int = 6
    min_window_count: int = 5
    #: An error-rate change counts from this many percentage points.
    error_rate_points: float = 1.0

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)

    @property
    def tails(self) -> tuple[float, float]:
        """The quantiles that bound the interval: 0.005 and 0.995 at 99 %."""
        alpha = 1 - self.confidence
        return alpha / 2, 1 - alpha / 2

    @property
    def z(self) -> float:
        """The two-sided normal quantile of the confidence: 2.58 at 99 %."""
        return NormalDist().inv_cdf(self.tails[1])


@dataclass(frozen=True)
class Latency:
    """One side's answers as units to resample: ``counts[u, b]`` answers of unit ``u`` (a
    window, or the one pooled histogram) in the bucket whose value is ``values_ms[b]``."""

    values_ms: np.ndarray
    counts: np.ndarray
    basis: str

    @property
    def units(self) -> int:
        return self.counts.shape[0]

    @property
    def total(self) -> int:
        return int(self.counts.sum())


def latency(units: Sequence[Sequence[tuple[float, int]]], basis: str) -> Latency:
    """A ``Latency`` from ``(value_ms, count)`` pairs per unit, on the union of their values."""
    values = np.unique(np.array([value for unit in units for value, _ in unit], dtype=float))
    counts = np.zeros((len(units), len(values)), dtype=np.int64)
    for row, unit in enumerate(units):
        for value, count in unit:
            counts[row, np.searchsorted(values, value)] += count
    return Latency(values, counts, basis)


def _rank(percentile: float, totals: np.ndarray) -> np.ndarray:
    """The 1-based rank of a percentile among ``totals`` answers, as HdrHistogram counts it."""
    return np.maximum(1, np.ceil(percentile / 100 * totals))


def percentile_draws(side: Latency, percentile: float, rule: NoiseRule, rng) -> np.ndarray:
    """``rule.resamples`` bootstrap draws of ``side``'s percentile (ms)."""
    if side.basis == WINDOWS:
        picks = rng.multinomial(side.units, np.full(side.units, 1 / side.units), rule.resamples)
        cumulative = (picks @ side.counts).cumsum(axis=1)
        ranks = _rank(percentile, cumulative[:, -1])
        index = (cumulative < ranks[:, None]).sum(axis=1)
        return side.values_ms[np.minimum(index, len(side.values_ms) - 1)]
    total = side.total
    rank = int(_rank(percentile, np.array(total)))
    order = rng.beta(rank, total - rank + 1, rule.resamples)
    cdf = side.counts.sum(axis=0).cumsum() / total
    index = np.searchsorted(cdf, order, side="left")
    return side.values_ms[np.minimum(index, len(side.values_ms) - 1)]


def ratio_interval(
    before: Latency, after: Latency, percentile: float, rule: NoiseRule
) -> tuple[float, float]:
    """The ``rule.confidence`` interval of the ratio after/before of a percentile."""
    rng = np.random.default_rng(rule.seed)
    ratios = percentile_draws(after, percentile, rule, rng) / percentile_draws(
        before, percentile, rule, rng
    )
    low, high = np.quantile(ratios, rule.tails)
    return float(low), float(high)


def mean_ratio_interval(
    before: Sequence[float], after: Sequence[float], rule: NoiseRule
) -> tuple[float, float]:
    """The interval of the ratio after/before of a mean over windows (block bootstrap)."""
    rng = np.random.default_rng(rule.seed)

    def draws(values: Sequence[float]) -> np.ndarray:
        units = len(values)
        picks = rng.multinomial(units, np.full(units, 1 / units), rule.resamples)
        return picks @ np.asarray(values, dtype=float) / units

    low, high = np.quantile(draws(after) / draws(before), rule.tails)
    return float(low), float(high)


def judge(
    interval: tuple[float, float], change: float, absolute: float | None, rule: NoiseRule
) -> str:
    """Regression, improvement or unchanged, for a figure where higher is worse.

    ``change`` is after/before − 1 and ``absolute`` the change in the figure's unit (checked
    against ``min_absolute_ms``; None when the figure has no absolute floor).
    """
    low, high = interval
    big_enough = absolute is None or abs(absolute) >= rule.min_absolute_ms
    if low > 1 and change >= rule.min_relative and big_enough:
        return REGRESSION
    if high < 1 and change <= -rule.min_relative and big_enough:
        return IMPROVEMENT
    return UNCHANGED


def two_proportion_z(errors: tuple[int, int], totals: tuple[int, int]) -> float:
    """The z statistic of the change in the share of errors (pooled two-proportion test);
    0 when both shares are 0 or both 1 (nothing varies)."""
    (before, after), (n_before, n_after) = errors, totals
    pooled = (before + after) / (n_before + n_after)
    spread = (pooled * (1 - pooled) * (1 / n_before + 1 / n_after)) ** 0.5
    return (after / n_after - before / n_before) / spread if spread else 0.0
