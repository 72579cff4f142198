"""One figure of a pair of rows (the baseline's, this run's), judged: did it change beyond
noise? Each comparison row of ``compare`` is a list of these metrics.

Latency (p50, p95) and a level's ok throughput are judged by the noise rule of
``analysis.noise``, over the rows' latency windows when both have enough (else their stored
histograms), as the machine allows (``Judging``); the error rate by a two-proportion test with
a floor in percentage points; queries per request exactly: one more per request, or a
statement newly repeated within a request, is a regression by itself, with the SQL it gained
named. A row without answers as expected on either side is "not compared", with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from perftest.store.vocabulary import unjudged
from perftest.store.windows import Windows

from . import metrics
from .noise import (
    EXACT,
    IMPROVEMENT,
    NOT_COMPARED,
    NOT_JUDGED,
    REGRESSION,
    SAMPLES,
    UNCHANGED,
    WINDOWS,
    Latency,
    NoiseRule,
    Unit,
    histogram_unit,
    judge,
    latency,
    mean_ratio_interval,
    ratio_intervals,
    two_proportion_z,
)

#: Queries per request a row must gain to be a regression: the count is exact, not noisy.
QUERY_STEP = 1.0
#: p99 is shown without a verdict: a run of a few hundred answers has a handful above it.
P99_WHY = "p99 is shown without a verdict: its tail holds too few answers for a stable interval"
#: The latency percentiles judged by the noise rule, with the percentile each reads.
JUDGED_PERCENTILES = ((metrics.P50, 50.0), (metrics.P95, 95.0))


@dataclass(frozen=True)
class Judging:
    """What the machine allows of one compared phase: why its latency and throughput are not
    judged ("" when they are) and the ratios after/before its drift explains (``judge``)."""

    unjudged: str = ""
    explained: tuple[float, float] = (1.0, 1.0)

    @property
    def drift_text(self) -> str:
        """``; the machine's own drift (1.00x–1.12x, calibration) set aside`` when there was
        any."""
        low, high = self.explained
        if (low, high) == (1.0, 1.0):
            return ""
        return f"; the machine's own drift ({low:.2f}x–{high:.2f}x, calibration) set aside"


def _window_units(figures: Any, rule: NoiseRule) -> list[Unit]:
    """The windows with at least ``min_window_count`` answers, each as its bucket values (ms)
    and their counts."""
    units = []
    for window in Windows.from_stored(figures.windows).windows:
        if window.count >= rule.min_window_count:
            pairs = np.asarray(window.values_us, dtype=float).reshape(-1, 2)
            units.append((pairs[:, 0] / 1000, pairs[:, 1].astype(np.int64)))
    return units


def _sides(before: Any, after: Any, rule: NoiseRule) -> tuple[Latency, Latency]:
    """Both rows' latency on one basis: windows when both have enough, else their stored
    histograms."""
    units = _window_units(before, rule), _window_units(after, rule)
    if all(len(side) >= rule.min_windows for side in units):
        return latency(units[0], WINDOWS), latency(units[1], WINDOWS)
    was, now = (latency([histogram_unit(row.histogram)], SAMPLES) for row in (before, after))
    return was, now


def _change(before: float | None, after: float | None) -> float | None:
    return after / before - 1 if before and after is not None else None


def _metric(
    metric: str,
    unit: str,
    before: float | None,
    after: float | None,
    verdict: str,
    basis: str,
    why: str,
) -> dict[str, Any]:
    return {
        "metric": metric,
        "unit": unit,
        "before": before,
        "after": after,
        "change": _change(before, after),
        "verdict": verdict,
        "basis": basis,
        "why": why,
    }


def _over(before: Latency, after: Latency) -> str:
    """``12 and 11 windows`` or ``40 and 40 answers``: what the interval was drawn from."""
    if before.basis == WINDOWS:
        return f"{before.units} and {after.units} windows"
    return f"{before.total} and {after.total} answers"


def _floors(
    verdict: str,
    interval: tuple[float, float],
    change: float,
    rule: NoiseRule,
    basis: str,
    explained: tuple[float, float] = (1.0, 1.0),
) -> str:
    """Why an interval beyond 1 still left the figure unchanged: the machine's own drift, or
    the floor it missed."""
    low, high = interval
    if verdict != UNCHANGED or low <= 1 <= high:
        return ", which holds 1" if verdict == UNCHANGED else ""
    faster, slower = explained
    drift = slower if low > 1 else faster
    beyond = low > slower or high < faster
    if drift != 1.0 and (not beyond or abs((1 + change) / drift - 1) < rule.floor(basis)):
        return "; within the machine's own drift"
    if abs(change) < rule.floor(basis):
        return f"; {change:+.0%} is under the {rule.floor(basis):.0%} floor"
    return f"; under the {rule.min_absolute_ms:g} ms floor"


def latency_metrics(
    before: Any, after: Any, rule: NoiseRule, judging: Judging
) -> list[dict[str, Any]]:
    """p50 and p95 judged by the noise rule, p99 shown; all "not compared" when a side has no
    answer as expected, p50 and p95 "not judged" when the machine says so."""
    reason = _unjudged_pair(before, after)
    if reason:
        return [
            _metric(
                m.name,
                "ms",
                None if unjudged(before) else m.of(before),
                None if unjudged(after) else m.of(after),
                NOT_COMPARED,
                "",
                reason,
            )
            for m in (metrics.P50, metrics.P95, metrics.P99)
        ]
    p99 = metrics.P99
    if judging.unjudged:
        return [
            _metric(m.name, "ms", m.of(before), m.of(after), verdict, "", why)
            for m, verdict, why in (
                *((m, NOT_JUDGED, judging.unjudged) for m, _ in JUDGED_PERCENTILES),
                (p99, NOT_COMPARED, P99_WHY),
            )
        ]
    sides = _sides(before, after, rule)
    intervals = ratio_intervals(*sides, [percentile for _, percentile in JUDGED_PERCENTILES], rule)
    found = []
    for (m, _), interval in zip(JUDGED_PERCENTILES, intervals, strict=True):
        was, now = m.of(before), m.of(after)
        change = _change(was, now) or 0.0
        basis = sides[0].basis
        verdict = judge(interval, change, now - was, rule, basis, judging.explained)
        why = (
            f"{rule.confidence:.0%} interval of the {m.name} ratio {interval[0]:.2f}x–"
            f"{interval[1]:.2f}x over {_over(*sides)}"
            + _floors(verdict, interval, change, rule, basis, judging.explained)
            + judging.drift_text
        )
        found.append(_metric(m.name, "ms", was, now, verdict, sides[0].basis, why))
    found.append(_metric(p99.name, "ms", p99.of(before), p99.of(after), NOT_COMPARED, "", P99_WHY))
    return found


def _unjudged_pair(before: Any, after: Any) -> str:
    """Why a pair of rows has no latency verdict ("" when both sides have one)."""
    reasons = [(side, unjudged(row)) for side, row in (("baseline", before), ("this run", after))]
    return "; ".join(f"{side}: {reason}" for side, reason in reasons if reason)


#: ``judge`` reads higher as worse; for throughput a rise is the improvement.
_BETTER_WHEN_HIGHER = {REGRESSION: IMPROVEMENT, IMPROVEMENT: REGRESSION, UNCHANGED: UNCHANGED}


def _full_window_rates(level: Any) -> list[float]:
    """Answers as expected per second in each window that lies wholly inside the level."""
    stored = Windows.from_stored(level.windows)
    width = stored.width_s
    return [
        window.count / width
        for window in stored.windows
        if window.offset_s + width <= level.window_s * 1.001
    ]


def throughput(before: Any, after: Any, rule: NoiseRule, judging: Judging) -> dict[str, Any]:
    """A level's ok throughput: a fall is the regression, judged over full windows' rates;
    with too few windows on the relative floor alone; "not judged" when the machine says so."""
    name, unit = "ok_rps", "/s"
    reason = _unjudged_pair(before, after)
    if reason:
        return _metric(name, unit, None, None, NOT_COMPARED, "", reason)
    was, now = before.ok_throughput, after.ok_throughput
    change = _change(was, now)
    if change is None:
        return _metric(name, unit, was, now, NOT_COMPARED, "", "the baseline had no throughput")
    if judging.unjudged:
        return _metric(name, unit, was, now, NOT_JUDGED, "", judging.unjudged)
    # A slower machine explains a lower throughput: the latency range, inverted.
    low, high = judging.explained
    explained = (1 / high, 1 / low)
    rates = _full_window_rates(before), _full_window_rates(after)
    if all(len(side) >= rule.min_windows for side in rates):
        interval = mean_ratio_interval(*rates, rule)
        verdict = _BETTER_WHEN_HIGHER[judge(interval, change, None, rule, WINDOWS, explained)]
        why = (
            f"{rule.confidence:.0%} interval of the throughput ratio {interval[0]:.2f}x–"
            f"{interval[1]:.2f}x over {len(rates[0])} and {len(rates[1])} full windows"
            + judging.drift_text
        )
        return _metric(name, unit, was, now, verdict, WINDOWS, why)
    # No interval to draw: the point ratio stands in for it, so the floor alone decides.
    point = (change + 1,) * 2
    verdict = _BETTER_WHEN_HIGHER[judge(point, change, None, rule, SAMPLES, explained)]
    why = (
        f"only {len(rates[0])} and {len(rates[1])} full windows: judged on the "
        f"{rule.floor(SAMPLES):.0%} floor alone ({change:+.0%})" + judging.drift_text
    )
    return _metric(name, unit, was, now, verdict, "", why)


def error_rate(before: Any, after: Any, rule: NoiseRule) -> dict[str, Any]:
    """Errors per counted request: a rise of ``error_rate_points`` that a two-proportion test
    at the rule's confidence also finds is a regression (a fall, an improvement)."""
    name, unit = "error_rate", "%"
    if not (before.requests and after.requests):
        return _metric(name, unit, None, None, NOT_COMPARED, "", "a side counted no request")
    was, now = metrics.ERROR_RATE.of(before), metrics.ERROR_RATE.of(after)
    z = two_proportion_z(
        (before.errors_total, after.errors_total), (before.requests, after.requests)
    )
    points = now - was
    verdict = UNCHANGED
    if abs(z) >= rule.z and abs(points) >= rule.error_rate_points:
        verdict = REGRESSION if points > 0 else IMPROVEMENT
    confidence = f"{rule.confidence:.0%}"
    chance = (
        f"larger than chance gives at {confidence} confidence"
        if abs(z) >= rule.z
        else f"within what chance gives at {confidence} confidence"
    )
    why = (
        f"{points:+.1f} percentage points over {before.requests} and {after.requests} "
        f"requests, {chance} (a two-proportion test: z {z:+.1f}, beyond noise from "
        f"±{rule.z:.2f})"
    )
    return _metric(name, unit, was, now, verdict, SAMPLES, why)


def _per_request(row: Any) -> dict[str, float]:
    """Executions of each normalized statement per answer as expected."""
    answers = row.judged_count
    return {s["sql"]: s["count"] / answers for s in row.statements} if answers else {}


def queries(before: Any, after: Any) -> tuple[dict[str, Any], list[dict], list[dict]]:
    """Queries per answer as expected, exactly: the metric, the SQL a request gained (when
    it gained a query) and the statements newly repeated within one request."""
    name = "queries_mean"
    reason = _unjudged_pair(before, after)
    if not reason and not (before.sql_captured and after.sql_captured):
        reason = "SQL is captured in-process only"
    if reason:
        return _metric(name, "", None, None, NOT_COMPARED, "", reason), [], []
    was, now = before.queries_mean, after.queries_mean
    gained = now - was
    verdict = UNCHANGED
    if gained >= QUERY_STEP:
        verdict = REGRESSION
    elif gained <= -QUERY_STEP:
        verdict = IMPROVEMENT
    why = f"{gained:+.2f} queries per request; {QUERY_STEP:g} more is a regression by itself"
    new_sql = []
    if verdict == REGRESSION:
        old, new = _per_request(before), _per_request(after)
        grown = [(sql, old.get(sql, 0.0), count) for sql, count in new.items()]
        grown.sort(key=lambda item: item[2] - item[1], reverse=True)  # the most gained first
        new_sql = [
            {"sql": sql, "before_per_request": was_, "after_per_request": now_}
            for sql, was_, now_ in grown
            if now_ > was_
        ]
    repeated_before = {group["sql"] for group in before.duplicate_queries}
    new_repeated = [
        {"sql": group["sql"], "max_per_request": group["max_per_request"]}
        for group in after.duplicate_queries
        if group["sql"] not in repeated_before
    ]
    return _metric(name, "", was, now, verdict, EXACT, why), new_sql, new_repeated
