"""A run against its baseline: per endpoint and per level, what changed beyond noise.

``compare`` returns the plain dict ``store.write.save_comparison`` keeps on the run and every
report renders (the shape is documented in the README). Rows are matched by phase, level
position and endpoint name. Latency (p50, p95) and a level's ok throughput are judged by the
noise rule of ``analysis.noise``; the error rate by a two-proportion test with a floor in
percentage points; queries per request exactly: one more per request, or a statement newly
repeated within a request, is a regression by itself, with the SQL it gained named.

Only answers as expected are judged: a row with none on either side is "not compared" for
its latency, throughput and queries, with the reason. Its error rate is still compared, since
an endpoint that went from answering to failing is the regression that matters most.

The machine is part of each measurement (``analysis.machine``): a phase (a sequential pass,
a level) that was busy with other processes in either run, or a pair of runs whose machine
calibration drifted beyond ``DRIFT_LIMIT``, gets "not judged" for its latency and throughput,
which therefore cannot regress; a smaller drift is set aside before a change counts. Error
rate and queries per request are judged whatever the machine did: they do not depend on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from perftest.store.read import StoredRun
from perftest.store.vocabulary import unjudged
from perftest.store.windows import Windows

from . import machine, metrics
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
#: p99 is shown, not judged: a run of a few hundred answers has a handful above it.
P99_WHY = "p99 is shown, not judged: its tail holds too few answers for a stable interval"
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


def _latency_metrics(
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


def _throughput(before: Any, after: Any, rule: NoiseRule, judging: Judging) -> dict[str, Any]:
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


def _error_rate(before: Any, after: Any, rule: NoiseRule) -> dict[str, Any]:
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
    why = (
        f"{points:+.1f} points over {before.requests} and {after.requests} requests; "
        f"two-proportion z {z:+.1f} (beyond noise from ±{rule.z:.2f})"
    )
    return _metric(name, unit, was, now, verdict, SAMPLES, why)


def _per_request(row: Any) -> dict[str, float]:
    """Executions of each normalized statement per answer as expected."""
    answers = row.judged_count
    return {s["sql"]: s["count"] / answers for s in row.statements} if answers else {}


def _queries(before: Any, after: Any) -> tuple[dict[str, Any], list[dict], list[dict]]:
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


def _row(
    phase: str,
    level: Any | None,
    endpoint: str,
    metrics_: list[dict[str, Any]],
    new_sql: Sequence[dict[str, Any]] = (),
    new_repeated: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    return {
        "phase": phase,
        "level": None if level is None else {"position": level.position, "label": str(level)},
        "endpoint": endpoint,
        "metrics": metrics_,
        "new_sql": list(new_sql),
        "new_repeated": list(new_repeated),
    }


def _endpoint_row(
    phase: str, level: Any | None, before: Any, after: Any, rule: NoiseRule, judging: Judging
) -> dict[str, Any]:
    queries, new_sql, new_repeated = _queries(before, after)
    found = [
        *_latency_metrics(before, after, rule, judging),
        _error_rate(before, after, rule),
        queries,
    ]
    return _row(phase, level, after.label, found, new_sql, new_repeated)


def _endpoint_rows(
    phase: str,
    level: Any | None,
    before: Sequence[Any],
    after: Sequence[Any],
    unmatched: list[str],
    rule: NoiseRule,
    judging: Judging,
) -> list[dict[str, Any]]:
    """The rows of matching endpoint names (and roles: a label names both), in this run's
    order; the rest noted unmatched."""
    where = f" @ {level}" if level is not None else ""
    old = {row.label: row for row in before}
    new_labels = {row.label for row in after}
    unmatched += [f"{row.label}{where}: only in this run" for row in after if row.label not in old]
    unmatched += [
        f"{row.label}{where}: only in the baseline" for row in before if row.label not in new_labels
    ]
    return [
        _endpoint_row(phase, level, old[row.label], row, rule, judging)
        for row in after
        if row.label in old
    ]


def _level_rows(
    before: StoredRun,
    after: StoredRun,
    unmatched: list[str],
    rule: NoiseRule,
    drift: machine.Drift,
) -> list[dict[str, Any]]:
    """Each level matched by position and label: its overall row, then its endpoints, judged
    as the machine allows during the level in both runs."""
    old = {(level.position, str(level)): level for level in before.levels}
    new_keys = {(level.position, str(level)) for level in after.levels}
    rows = []
    for level in after.levels:
        was = old.get((level.position, str(level)))
        if was is None:
            unmatched.append(f"level {level}: only in this run")
            continue
        uses = before.level_machine(was), after.level_machine(level)
        judging = Judging(*machine.judging(before, after, uses, drift))
        overall = [
            *_latency_metrics(was, level, rule, judging),
            _throughput(was, level, rule, judging),
            _error_rate(was, level, rule),
        ]
        rows.append(_row("level", level, "all", overall))
        rows += _endpoint_rows(
            "level",
            level,
            before.endpoints_of(was),
            after.endpoints_of(level),
            unmatched,
            rule,
            judging,
        )
    unmatched += [
        f"level {lv}: only in the baseline" for key, lv in old.items() if key not in new_keys
    ]
    return rows


def _count(rows: Iterable[Mapping[str, Any]], verdict: str) -> int:
    """Metrics with ``verdict``; a newly repeated statement is one regression more."""
    total = 0
    for row in rows:
        total += sum(1 for m in row["metrics"] if m["verdict"] == verdict)
        if verdict == REGRESSION:
            total += len(row["new_repeated"])
    return total


def compare(before: StoredRun, after: StoredRun, rule: NoiseRule | None = None) -> dict[str, Any]:
    """The comparison of ``after`` with its baseline ``before``, as ``Run.comparison`` stores
    it: deterministic (a fixed seed), so recomputing it gives the same dict."""
    rule = rule or NoiseRule()
    drift = machine.Drift.between(before, after)
    unmatched: list[str] = []

    def sequential(phase: str, was: Sequence[Any], now: Sequence[Any]) -> list[dict[str, Any]]:
        uses = before.phase_machine(phase), after.phase_machine(phase)
        judging = Judging(*machine.judging(before, after, uses, drift))
        return _endpoint_rows(phase, None, was, now, unmatched, rule, judging)

    rows = [
        *sequential("sequential", before.sequential, after.sequential),
        *sequential("sequential-http", before.sequential_http, after.sequential_http),
        *_level_rows(before, after, unmatched, rule, drift),
    ]
    return {
        "baseline": {
            "id": before.pk,
            "started_at": before.row.started_at.isoformat(),
            "label": before.row.label,
        },
        "rule": rule.as_dict(),
        "rows": rows,
        "unmatched": unmatched,
        "regressions": _count(rows, REGRESSION),
        "improvements": _count(rows, IMPROVEMENT),
        "not_judged": _count(rows, NOT_JUDGED),
        "machine": {
            "other_cores_limit": machine.OTHER_CORES_LIMIT,
            "min_free_share": machine.MIN_FREE_SHARE,
            "drift_limit": machine.DRIFT_LIMIT,
            "min_calibration_samples": machine.MIN_CALIBRATION_SAMPLES,
            **drift.as_dict(),
        },
    }
