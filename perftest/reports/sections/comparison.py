"""The comparison with a baseline run, as stored: what changed beyond noise first, then how
much stayed the same.

Everything here reads ``Run.comparison`` (the plain dict ``analysis.compare`` returned when
the run ended, see ``store.write.save_comparison``); nothing is compared again. A row (an
endpoint of a phase, or a level overall) with a regression comes first, then one with an
improvement, each with every figure before → after and the noise rule's reason; the rows
where nothing changed beyond noise are condensed into one sentence, because a reader wants
to see the changes, not forty lines of "unchanged".
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from perftest.analysis.metrics import BY_EXPRESSION
from perftest.store.read import StoredRun
from perftest.text import growth, number, quantity

from ..blocks import Block, Bullets, Code, Heading, Paragraph, Table
from .phrases import NONE

REGRESSION, IMPROVEMENT, UNCHANGED = "regression", "improvement", "unchanged"
NOT_COMPARED = "not compared"
NOT_JUDGED = "not judged"
#: Verdicts that come from the noise rule (or the exact query count): a judged figure.
JUDGED = (REGRESSION, IMPROVEMENT, UNCHANGED)

Row = Mapping[str, Any]


def of(stored: StoredRun) -> Mapping[str, Any]:
    """The stored comparison, ``{}`` when the run was not compared."""
    comparison = stored.row.comparison
    return comparison if isinstance(comparison, Mapping) else {}


def where(row: Row) -> str:
    """What a row compares, as a finding's subject names it: ``Get Lessons``, ``Get Lessons @
    10 concurrent (closed)``, ``all endpoints @ 10 concurrent (closed)``."""
    name = "all endpoints" if row["endpoint"] == "all" else row["endpoint"]
    if row["phase"] == "level":
        return f"{name} @ {row['level']['label']}"
    if row["phase"] == "sequential-http":
        return f"{name} (HTTP pass)"
    return name


def metric_name(metric: Mapping[str, Any]) -> str:
    """The figure's name as the rest of the report writes it (``throughput as expected``)."""
    known = BY_EXPRESSION.get(metric["metric"])
    return known.name if known else metric["metric"]


def value(metric: Mapping[str, Any], side: str) -> str:
    """``before`` or ``after`` as the figure reads elsewhere in the report; a dash for none."""
    figure, known = metric[side], BY_EXPRESSION.get(metric["metric"])
    if figure is None:
        return NONE
    return known.format(figure) if known else f"{number(figure)} {metric['unit']}".strip()


def change(metric: Mapping[str, Any]) -> str:
    """The relative change as a signed percentage, a dash when there is no base."""
    ratio = metric["change"]
    return NONE if ratio is None else growth(100 * ratio)


def verdicts(row: Row, verdict: str) -> int:
    return sum(metric["verdict"] == verdict for metric in row["metrics"])


def baseline_name(comparison: Mapping[str, Any]) -> str:
    return f"run #{comparison['baseline']['id']}"


def no_comparison(stored: StoredRun) -> str:
    """Why a run that asked for a baseline has no comparison ("" when it asked for none)."""
    asked = stored.plan.baseline
    if not asked or of(stored):
        return ""
    if asked == "latest":
        return (
            "No comparison: --baseline latest found no earlier completed run with this target "
            "and plan; this run can be the baseline of the next."
        )
    return f"No comparison: run #{asked} was asked for as the baseline, but none is stored."


def tally(stored: StoredRun) -> str:
    """The console's line: ``vs run #12: 2 regressions, 0 improvements``; or why there is no
    comparison when one was asked for; "" otherwise."""
    comparison = of(stored)
    if not comparison:
        return no_comparison(stored)
    return (
        f"vs {baseline_name(comparison)}: {quantity(comparison['regressions'], REGRESSION)}, "
        f"{quantity(comparison['improvements'], IMPROVEMENT)}{_not_judged(comparison)}"
    )


def _not_judged(comparison: Mapping[str, Any]) -> str:
    """``, 6 figures without a verdict (busy or drifting machine)`` when the machine withheld
    some verdicts."""
    count = comparison.get("not_judged") or 0
    without = f", {quantity(count, 'figure')} without a verdict (busy or drifting machine)"
    return without if count else ""


def _started(baseline: Mapping[str, Any]) -> str:
    """When the baseline started, to the second as the report's title writes it."""
    started = datetime.datetime.fromisoformat(baseline["started_at"])
    return started.isoformat(timespec="seconds")


def _headline(comparison: Mapping[str, Any]) -> str:
    baseline = comparison["baseline"]
    label = f"{baseline['label']}, " if baseline.get("label") else ""
    return (
        f"Baseline: {baseline_name(comparison)} ({label}started {_started(baseline)}); "
        f"{quantity(comparison['regressions'], REGRESSION)} and "
        f"{quantity(comparison['improvements'], IMPROVEMENT)} beyond noise, over "
        f"{quantity(len(comparison['rows']), 'endpoint or level', 'endpoints and levels')}"
        f"{_not_judged(comparison)}."
    )


def _row_heading(row: Row) -> str:
    counts = [
        quantity(n, verdict)
        for verdict in (REGRESSION, IMPROVEMENT)
        if (n := verdicts(row, verdict))
    ]
    return f"{where(row)}: {', '.join(counts) or 'new SQL'}"


def _sql(row: Row) -> list[Block]:
    """The statements the row runs more often than the baseline did, and its new groups of
    repeated statements, each with its count per request."""
    blocks: list[Block] = []
    if row.get("new_sql"):
        text = "\n".join(
            f"-- per request: {statement['before_per_request']:.1f} -> "
            f"{statement['after_per_request']:.1f}\n{statement['sql']}"
            for statement in row["new_sql"]
        )
        blocks += [Paragraph("New SQL, or SQL run more often per request:"), Code(text, "sql")]
    if row.get("new_repeated"):
        text = "\n".join(
            f"-- up to {statement['max_per_request']} times in one request\n{statement['sql']}"
            for statement in row["new_repeated"]
        )
        blocks += [Paragraph("New repeated statements (N+1 suspects):"), Code(text, "sql")]
    return blocks


def _changed(row: Row) -> list[Block]:
    """One changed row: every figure before → after with its verdict and why, then its SQL."""
    table = Table(
        ["Figure", "Before", "After", "Change", "Verdict", "Why"],
        [
            [
                metric_name(metric),
                value(metric, "before"),
                value(metric, "after"),
                change(metric),
                metric["verdict"],
                metric["why"] or NONE,
            ]
            for metric in row["metrics"]
        ],
        right=frozenset({1, 2, 3}),
    )
    return [Heading(_row_heading(row), 3), table, *_sql(row)]


def is_changed(row: Row) -> bool:
    """A row shown in full: a change beyond noise, or SQL the baseline did not run."""
    return bool(
        verdicts(row, REGRESSION)
        or verdicts(row, IMPROVEMENT)
        or row.get("new_sql")
        or row.get("new_repeated")
    )


def _condensed(rows: Sequence[Row]) -> list[Block]:
    """The rows with no change: how many figures stayed within noise, and each figure that
    could not be compared, grouped by why."""
    if not rows:
        return []
    unchanged = sum(verdicts(row, UNCHANGED) for row in rows)
    blocks: list[Block] = [
        Paragraph(
            f"Unchanged beyond noise: {quantity(unchanged, 'figure')} of "
            f"{quantity(len(rows), 'endpoint or level', 'endpoints and levels')} ("
            + "; ".join(where(row) for row in rows)
            + ")."
        )
    ]
    for verdict, heading in ((NOT_JUDGED, "Without a verdict"), (NOT_COMPARED, "Not compared")):
        reasons: dict[str, list[str]] = {}
        for row in rows:
            for metric in row["metrics"]:
                if metric["verdict"] == verdict:
                    reasons.setdefault(metric["why"] or "no reason stored", []).append(
                        f"{metric_name(metric)} of {where(row)}"
                    )
        if reasons:
            blocks += [
                Paragraph(f"{heading}:"),
                Bullets([f"{', '.join(figures)}: {why}" for why, figures in reasons.items()]),
            ]
    return blocks


def section(stored: StoredRun) -> list[Block]:
    """The comparison with the baseline; one sentence when a baseline was asked for and none
    was found; nothing when the run was not compared."""
    comparison = of(stored)
    if not comparison:
        missing = no_comparison(stored)
        return [Heading("Baseline comparison"), Paragraph(missing)] if missing else []
    rows = comparison["rows"]
    regressed = [row for row in rows if verdicts(row, REGRESSION)]
    improved = [row for row in rows if is_changed(row) and row not in regressed]
    blocks: list[Block] = [
        Heading(f"Compared with {baseline_name(comparison)}"),
        Paragraph(_headline(comparison)),
    ]
    for row in (*regressed, *improved):
        blocks += _changed(row)
    blocks += _condensed([row for row in rows if not is_changed(row)])
    if comparison.get("unmatched"):
        blocks += [
            Paragraph("In one of the two runs only, so not compared:"),
            Bullets(list(comparison["unmatched"])),
        ]
    return blocks


def _samples_floor(rule: dict) -> str:
    """The stricter floor of figures judged on the stored samples, when the rule had one
    (comparisons stored before it was added have none)."""
    floor = rule.get("min_relative_samples")
    if floor is None or floor <= rule["min_relative"]:
        return ""
    return (
        f", and at least {number(100 * floor)}% when compared on the stored samples (a phase "
        "shorter than the windows is one stretch of time, so its interval holds none of the "
        "drift between runs)"
    )


def noise_rule(stored: StoredRun) -> list[str]:
    """How the comparison told a change from noise, with the parameters it stored."""
    comparison = of(stored)
    if not comparison:
        return []
    rule = comparison["rule"]
    confidence = f"{number(100 * rule['confidence'])}%"
    unjudged = sorted(
        {
            metric_name(metric)
            for row in comparison["rows"]
            for metric in row["metrics"]
            if metric["verdict"] in (NOT_COMPARED, NOT_JUDGED)
        }
        - {
            metric_name(metric)
            for row in comparison["rows"]
            for metric in row["metrics"]
            if metric["verdict"] in JUDGED
        }
    )
    never = f" Shown, but never given a verdict here: {', '.join(unjudged)}." if unjudged else ""
    return [
        f"Baseline comparison with {baseline_name(comparison)}: p50, p95 and a level's "
        f"throughput as expected changed beyond noise only when the {confidence} bootstrap "
        f"interval ({rule['resamples']} resamples, seed {rule['seed']}) of the ratio "
        "after/before lies wholly above or below 1, resampling time windows when both runs "
        f"have at least {rule['min_windows']} windows of at least {rule['min_window_count']} "
        "answers as expected (else the stored samples), and the change is at least "
        f"{number(100 * rule['min_relative'])}% and {number(rule['min_absolute_ms'])} ms for "
        f"a latency{_samples_floor(rule)}. The error rate must change by at least "
        f"{number(rule['error_rate_points'])} percentage points, confirmed at the same "
        "confidence. Queries per request compare exactly: one more query per request, or a "
        "new group of repeated statements, is a regression by itself. Only answers as "
        "expected are compared." + never,
        *_machine_rule(comparison),
    ]


def _drift(bounds: Mapping[str, Any]) -> str:
    """The calibration ratios this comparison read, or why it read none."""
    ratios = [
        f"{bounds[key]:.2f}x ({name})"
        for key, name in (
            ("reference_ratio", "reference workload"),
            ("trivial_ratio", "trivial request"),
        )
        if bounds.get(key)
    ]
    if not ratios:
        return (
            "Here the runs did not both record enough calibration samples, so no drift was set "
            "aside."
        )
    return (
        f"Here the calibration took {' and '.join(ratios)} as long as in the baseline, so "
        f"changes between {bounds['explained_low']:.2f}x and {bounds['explained_high']:.2f}x "
        "were set aside."
    )


def _machine_rule(comparison: Mapping[str, Any]) -> list[str]:
    """How the machine's own load and drift kept verdicts back, with the stored parameters
    (comparisons stored before the machine was read have none)."""
    bounds = comparison.get("machine")
    if not isinstance(bounds, Mapping):
        return []
    limit = number(bounds["other_cores_limit"])
    return [
        "The machine: a phase (a sequential pass, a load level) during which processes other "
        f"than perftest and the target used {limit} core or more in either run (or "
        f"{number(bounds['other_cores_limit'] / 2)} core with less than "
        f"{bounds['min_free_share']:.0%} of the machine free) has its latency and throughput "
        "no verdict, so they cannot regress; error rate and queries per request still get "
        "one. The machine's drift between the runs is the ratio of the medians of each run's "
        f"calibration samples (at least {bounds['min_calibration_samples']} each): a latency "
        "change counts only beyond the slowest of those ratios (an improvement only below the "
        "fastest), measured from there, and the throughput likewise inverted; beyond "
        f"{number(bounds['drift_limit'])}x either way, latency and throughput get no verdict. "
        + _drift(bounds)
    ]
