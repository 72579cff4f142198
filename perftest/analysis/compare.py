"""A run against its baseline: per endpoint and per level, what changed beyond noise.

``compare`` returns the plain dict ``store.write.save_comparison`` keeps on the run and every
report renders (the shape is documented in the README). Rows are matched by phase, level
position and endpoint name (a row only one side has is listed as unmatched); each figure of a
matched pair is judged by ``analysis.changes``.

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
from typing import Any

from perftest.store.read import StoredRun

from . import changes, machine
from .noise import IMPROVEMENT, NOT_JUDGED, REGRESSION, NoiseRule


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
    phase: str,
    level: Any | None,
    before: Any,
    after: Any,
    rule: NoiseRule,
    judging: changes.Judging,
) -> dict[str, Any]:
    queries, new_sql, new_repeated = changes.queries(before, after)
    found = [
        *changes.latency_metrics(before, after, rule, judging),
        changes.error_rate(before, after, rule),
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
    judging: changes.Judging,
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
        judging = changes.Judging(*machine.judging(before, after, uses, drift))
        overall = [
            *changes.latency_metrics(was, level, rule, judging),
            changes.throughput(was, level, rule, judging),
            changes.error_rate(was, level, rule),
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
        judging = changes.Judging(*machine.judging(before, after, uses, drift))
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
