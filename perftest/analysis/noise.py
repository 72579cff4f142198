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
from hdrh.histogram import HdrHistogram

from perftest.percentiles import rank, ranks

WINDOWS = "windows"
SAMPLES = "samples"
EXACT = "exact"

REGRESSION = "regression"
IMPROVEMENT = "improvement"
UNCHANGED = "unchanged"
NOT_COMPARED = "not compared"
#: A figure both runs measured whose change the machine could explain (``analysis.machine``).
NOT_JUDGED = "not judged"


@dataclass(frozen=True)
class NoiseRule:
    """The parameters of the rule, stored with every comparison for its methodology text."""

    confidence: float = 0.99
    resamples: int = 2000
    seed: int = 0
    #: A latency or throughput change below this fraction is never a regression...
    min_relative: float = 0.2
    #: ...nor, judged on the stored samples (a phase too short for windows), one below this:
    #: such a phase is one stretch of time whose answers all shared the machine's moment (a
    #: busy neighbour, a cold cache), so its interval holds none of the drift between runs.
    #: Measured here: two runs of the unchanged stand-in, 20 answers each, differed by up
    #: to 1.4x on an endpoint's p50.
    min_relative_samples: float = 0.5
    #: ...nor a latency change below this many milliseconds.
    min_absolute_ms: float = 1.0
    #: Windows each side needs (each with ``min_window_count`` answers) for the block bootstrap.
    min_windows: int = 6
    min_window_count: int = 5
    #: An error-rate change counts from this many percentage points.
    error_rate_points: float = 1.0

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)

    def floor(self, basis: str) -> float:
        """The relative change a figure judged on ``basis`` must reach."""
        return (
            self.min_relative
            if basis == WINDOWS
            else max(self.min_relative, self.min_relative_samples)
        )

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


#: One unit's answers: bucket values (ms) and the answers in each.
Unit = tuple[np.ndarray, np.ndarray]


#: Buckets closer than this (relative) are merged before resampling: a percentile ratio needs
#: no finer grain than 1 %, the windows store 3 % at best, and every bucket fewer is a column
#: fewer in each of the ``resamples`` rows.
RESOLUTION = 0.01
_SMALLEST_MS = 0.001


def latency(units: Sequence[Unit], basis: str, resolution: float = RESOLUTION) -> Latency:
    """A ``Latency`` from each unit's ``(values_ms, counts)``, on one grid of ``resolution``
    wide buckets shared by the units; a bucket's value is the largest value it holds."""
    values = np.concatenate([unit[0] for unit in units]).astype(float)
    grid = np.floor(np.log(np.maximum(values, _SMALLEST_MS)) / np.log1p(resolution))
    keys, where = np.unique(grid, return_inverse=True)
    bucket_values = np.zeros(len(keys))
    np.maximum.at(bucket_values, where, values)
    rows = np.repeat(np.arange(len(units)), [len(unit[0]) for unit in units])
    counts = np.zeros((len(units), len(keys)), dtype=np.int64)
    np.add.at(counts, (rows, where), np.concatenate([unit[1] for unit in units]))
    return Latency(bucket_values, counts, basis)


def histogram_unit(encoded: str) -> Unit:
    """A stored HDR histogram (compressed base64, µs) as bucket values in ms and counts.

    Read from the decoded counts array with numpy: hdrh's own iterator visits every empty
    bucket below the largest value in Python, hundreds of times slower. A bucket's value is
    the highest value it holds, as the iterator reports it.
    """
    histogram = HdrHistogram.decode(encoded.encode("ascii"))
    counts = np.ctypeslib.as_array(histogram.counts)[: histogram.counts_len]
    index = np.flatnonzero(counts)
    half, magnitude = histogram.sub_bucket_half_count, histogram.sub_bucket_half_count_magnitude
    bucket = (index >> magnitude) - 1
    sub_bucket = (index & (half - 1)) + half
    first = bucket < 0
    sub_bucket[first] -= half
    bucket[first] = 0
    shift = bucket + histogram.unit_magnitude
    highest = (sub_bucket << shift) + (1 << shift) - 1
    return highest / 1000, counts[index].astype(np.int64)


def _picks(units: int, rule: NoiseRule, rng: np.random.Generator) -> np.ndarray:
    """How often each of ``units`` windows is drawn in each resample (``units`` draws with
    replacement per row): a multinomial, counted with one ``bincount`` because numpy's
    ``multinomial`` loops row by row and costs more than the rest of a comparison."""
    drawn = rng.integers(0, units, (rule.resamples, units))
    cells = (np.arange(rule.resamples)[:, None] * units + drawn).ravel()
    counts = np.bincount(cells, minlength=rule.resamples * units)
    return counts.reshape(rule.resamples, units).astype(float)


def _window_draws(
    side: Latency, percentiles: Sequence[float], rule: NoiseRule, rng: np.random.Generator
) -> np.ndarray:
    """The block bootstrap: each resample draws as many windows as there are, with
    replacement, and reads the percentile of their pooled buckets.

    A pooled percentile always lies between the lowest and the highest of the windows' own
    (every window below a bucket keeps the pool below it), so only those buckets' cumulative
    counts are computed: a few columns per resample instead of every bucket.
    """
    picks = _picks(side.units, rule, rng)
    cumulative = side.counts.cumsum(axis=1).astype(float)
    totals = picks @ cumulative[:, -1]
    draws = []
    for percentile in percentiles:
        own = (cumulative < ranks(percentile, cumulative[:, -1])[:, None]).sum(axis=1)
        low, high = own.min(), own.max()
        pooled = picks @ cumulative[:, low : high + 1]
        index = low + (pooled < ranks(percentile, totals)[:, None]).sum(axis=1)
        draws.append(side.values_ms[index])
    return np.array(draws)


def percentile_draws(
    side: Latency, percentiles: Sequence[float], rule: NoiseRule, rng: np.random.Generator
) -> np.ndarray:
    """``rule.resamples`` bootstrap draws of each of ``side``'s percentiles (ms), one row per
    percentile; the windows basis takes them all from the same resampled runs."""
    last = len(side.values_ms) - 1
    if side.basis == WINDOWS:
        return _window_draws(side, percentiles, rule, rng)
    total = side.total
    cdf = side.counts.sum(axis=0).cumsum() / total
    draws = []
    for percentile in percentiles:
        k = rank(percentile, total)
        order = rng.beta(k, total - k + 1, rule.resamples)
        draws.append(side.values_ms[np.minimum(np.searchsorted(cdf, order), last)])
    return np.array(draws)


def ratio_intervals(
    before: Latency, after: Latency, percentiles: Sequence[float], rule: NoiseRule
) -> list[tuple[float, float]]:
    """The ``rule.confidence`` interval of the ratio after/before of each percentile."""
    rng = np.random.default_rng(rule.seed)
    was = percentile_draws(before, percentiles, rule, rng)
    ratios = percentile_draws(after, percentiles, rule, rng) / was
    bounds = np.quantile(ratios, rule.tails, axis=1)
    return [(float(low), float(high)) for low, high in bounds.T]


def mean_ratio_interval(
    before: Sequence[float], after: Sequence[float], rule: NoiseRule
) -> tuple[float, float]:
    """The interval of the ratio after/before of a mean over windows (block bootstrap)."""
    rng = np.random.default_rng(rule.seed)

    def draws(values: Sequence[float]) -> np.ndarray:
        return _picks(len(values), rule, rng) @ np.asarray(values, dtype=float) / len(values)

    was = draws(before)
    with np.errstate(divide="ignore", invalid="ignore"):  # a draw of idle windows only
        low, high = np.quantile(draws(after) / was, rule.tails)
    return float(low), float(high)


def judge(
    interval: tuple[float, float],
    change: float,
    absolute: float | None,
    rule: NoiseRule,
    basis: str,
    explained: tuple[float, float] = (1.0, 1.0),
) -> str:
    """Regression, improvement or unchanged, for a figure where higher is worse.

    ``change`` is after/before − 1 and ``absolute`` the change in the figure's unit (checked
    against ``min_absolute_ms``; None when the figure has no absolute floor); ``basis`` (what
    the interval was drawn from) sets the relative floor (``NoiseRule.floor``). ``explained``
    is the range of ratios after/before the machine's own drift accounts for
    (``analysis.machine.Drift``): a regression must lie beyond its top, its interval and its
    change measured from there, an improvement below its bottom; (1, 1) with no drift.
    """
    low, high = interval
    faster, slower = explained
    floor = rule.floor(basis)
    big_enough = absolute is None or abs(absolute) >= rule.min_absolute_ms
    if low > slower and (1 + change) / slower - 1 >= floor and big_enough:
        return REGRESSION
    if high < faster and (1 + change) / faster - 1 <= -floor and big_enough:
        return IMPROVEMENT
    return UNCHANGED


def two_proportion_z(errors: tuple[int, int], totals: tuple[int, int]) -> float:
    """The z statistic of the change in the share of errors (pooled two-proportion test);
    0 when both shares are 0 or both 1 (nothing varies)."""
    (before, after), (n_before, n_after) = errors, totals
    pooled = (before + after) / (n_before + n_after)
    spread = (pooled * (1 - pooled) * (1 / n_before + 1 / n_after)) ** 0.5
    return (after / n_after - before / n_before) / spread if spread else 0.0
