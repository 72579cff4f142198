"""The JSON report: every stored figure, finding and threshold of a run, in a versioned schema.

The schema is ``perftest/schemas/report.schema.json`` (shipped with the package, described in
the README); ``SCHEMA_VERSION`` says which keys to expect. Rows are written column by column
from the stored models, so a column added to a model reaches the JSON without a change here;
encoded HDR histograms are left out (they are data for re-computation, not figures, and would
make the file many times larger). ``totals`` counts every request perftest sent to the target,
not only those the tables count. ``comparison`` is the stored comparison with a baseline run;
``capacity`` the stored record of ``--capacity``'s search ({} without one); ``answer`` the
first screen every format shows under the verdict (``sections.answer``); ``trends`` a soak's
trends after its warm-up (``analysis.trends``; null for other runs).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from perftest.analysis import machine, server_account, summaries, trend_words, trends, verdict
from perftest.analysis.efficiency import littles_law
from perftest.analysis.rules.base import THRESHOLD
from perftest.store.read import StoredRun
from perftest.store.vocabulary import unjudged, unmeasured

from .sections import answer
from .sections.findings import bottleneck_rules
from .sections.findings import verdict as threshold_verdict

#: ``major.minor``: the major part changes when a key is renamed or removed, the minor part
#: when keys are added (1.1: ``comparison``; 1.2: ``role``, in runs with several roles; 1.3:
#: ``verdict.word`` and ``verdict.reason_count``, ``exit_code`` 130 for an interrupted run, the
#: capture requests in ``totals``, the run and each level, and the answers that carried a
#: Retry-After in each answer class, and the comparison's ``not_judged`` figures and ``machine``;
#: 1.4: ``capacity`` and ``server``, each level's ``littles_law``, ``server_cores``,
#: ``database_cores`` and ``generator_processes``, and each level's and endpoint's
#: ``server_timing`` and ``server_breakdown``; 1.5: ``answer``, the first screen; 1.6:
#: ``trends``, a soak's series after its warm-up, each with its slope and interval, and an
#: in-process soak's level's ``soak.allocations``, the lines where its memory grew).
SCHEMA_VERSION = "1.6"

#: Columns that are links between rows or encoded data rather than figures.
_NOT_FIGURES = frozenset({"id", "run", "level", "histogram"})
#: The run's columns with a top-level key of their own: its plan, logins, comparison and
#: verdict (the ``verdict`` object reads the stored run as the other formats do).
_NOT_RUN_COLUMNS = frozenset(
    {"config", "logins", "comparison", "verdict", "verdict_reasons", "capacity"}
)
#: Columns stored as plain JSON with no timestamp or histogram inside, carried as they are:
#: the latency windows are most of a long run's data, too many values to walk one by one.
_AS_STORED = frozenset({"windows"})


def _plain(value: Any) -> Any:
    """A stored value as JSON: timestamps as ISO 8601, histograms dropped from nested dicts."""
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items() if key != "histogram"}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _columns(row: Any, *, leave_out: Iterable[str] = ()) -> dict[str, Any]:
    """Every stored column of a row by name, links and histograms left out."""
    skip = _NOT_FIGURES.union(leave_out)
    columns = {}
    for field in row._meta.concrete_fields:
        if field.name not in skip:
            value = getattr(row, field.attname)
            columns[field.name] = value if field.name in _AS_STORED else _plain(value)
    return columns


def _figures(row: Any, leave_out: Iterable[str] = ()) -> dict[str, Any]:
    """An endpoint or level: its columns and the derived figures the report shows."""
    return {
        **_columns(row, leave_out=leave_out),
        "errors_total": row.errors_total,
        "judged_count": row.judged_count,
        "not_judged": unjudged(row) or None,
    }


def _role(stored: StoredRun, row: Any) -> dict[str, str]:
    """``{"role": …}`` for a row of a run with several roles; {} otherwise (as before roles)."""
    return {"role": row.role} if stored.by_role else {}


def _server_breakdown(row: Any) -> dict[str, Any] | None:
    """The row's latency split by the server's account (``analysis.server_account``); null when
    no answer carried one."""
    split = server_account.account(row)
    if split is None:
        return None
    return {
        "timed_answers": split.answers,
        "answers": split.ok,
        "queries_per_request": split.queries_mean,
        "outside_mean_ms": split.outside_mean_ms,
        "app_without_sql_mean_ms": split.app_only_mean_ms,
        "sql_mean_ms": split.sql_mean_ms,
        "timed_mean_ms": split.total_mean_ms,
        "outside_p95_ms": split.outside_p95_ms,
        "app_p95_ms": split.app_p95_ms,
        "sql_p95_ms": split.sql_p95_ms,
    }


def _endpoint(stored: StoredRun, row: Any) -> dict[str, Any]:
    return {
        **_figures(row, leave_out=() if stored.by_role else ("role",)),
        "queries_mean": row.queries_mean,
        "sql_share": row.sql_share,
        "mean_bytes": row.mean_bytes,
        "server_breakdown": _server_breakdown(row),
    }


def _level(stored: StoredRun, level: Any) -> dict[str, Any]:
    law = littles_law(level)
    return {
        **_figures(level),
        "sent_total": level.sent_total,
        "littles_law": law and {"in_flight": law.busy, "concurrency": law.concurrency},
        "server_breakdown": _server_breakdown(level),
        "generator_cores": level.generator_cores,
        "machine_free_share": machine.free_share(level, stored.row.resource_cpu_count),
        "other_processes": [dict(other) for other in stored.other_processes(level)],
        "endpoints": [_endpoint(stored, row) for row in stored.endpoints_of(level)],
    }


def totals(stored: StoredRun) -> dict[str, int | None]:
    """Requests counted by the tables, and every request sent to the target, by purpose."""
    sent, over_http = summaries.sent(stored), summaries.sent_over_http(stored)
    return {
        "requests_sent": sent.total,
        "requests_sent_over_http": over_http.total if over_http else None,
        "requests_counted": sent.counted,
        "login_requests": sent.logins,
        "warmup_requests": sent.warmup,
        "rampup_requests": sent.rampup,
        "capture_requests": sent.captures,
        "diagnostic_requests": sent.diagnostic,
    }


def _resources(stored: StoredRun) -> dict[str, Any]:
    summary = summaries.resources(stored)
    return {
        "description": stored.row.resource_description,
        "interval_s": stored.row.resource_interval_s,
        "cpu_count": stored.row.resource_cpu_count,
        "unavailable": stored.row.resource_unavailable or None,
        "gone_s": stored.row.resource_gone_s,
        "not_judged": summaries.resource_gap(stored, summary) or None,
        "summary": dataclasses.asdict(summary) if summary else None,
        "processes": [
            dataclasses.asdict(process)
            for process in summaries.per_process(stored.samples, stored.row.resource_cpu_count)
        ],
        "samples": [_columns(sample) for sample in stored.samples],
    }


def _trend(trend: trends.Trend) -> dict[str, Any]:
    """One series: slopes per hour and values in its unit (``trend_words.UNITS``)."""
    line, (unit, per_unit) = trend.fit, trend_words.UNITS[trend.series]
    fitted = (
        {
            "slope_per_h": line.slope * trend_words.HOUR_S / per_unit,
            "low_per_h": line.low * trend_words.HOUR_S / per_unit,
            "high_per_h": line.high * trend_words.HOUR_S / per_unit,
            "start": line.start / per_unit,
            "growth": line.growth / per_unit,
            "span_s": line.span_s,
        }
        if line is not None
        else {}
    )
    return {
        "series": trend.series,
        "subject": trend.subject,
        "unit": unit,
        "readings": trend.readings,
        **fitted,
        "material_growth": trend.material_growth / per_unit if line is not None else None,
        "floor_rise": trend.floor_rise / per_unit if trend.floor_rise is not None else None,
        "interval_above_zero": trend.above_zero,
        "material": trend.material,
        "grows": trend.grows,
        "not_judged": trend.not_judged or None,
    }


def _trends(stored: StoredRun) -> dict[str, Any] | None:
    found = trends.trends(stored)
    if found is None:
        return None
    return {
        "steady_s": found.steady_s,
        "unjudged_processes": found.unjudged_processes,
        "series": [_trend(trend) for trend in found.series],
    }


def _scaling(stored: StoredRun) -> list[dict[str, Any]]:
    """The scaling curve: each closed level by concurrency, with the growth of its throughput
    as expected and of its p95 over the previous one (null for the first)."""
    return [
        {
            "level_position": step.level.position,
            "concurrency": step.level.concurrency,
            "ok_throughput": step.level.ok_throughput,
            "p95_ms": step.level.p95_ms,
            "ok_throughput_growth_pct": step.throughput_growth,
            "p95_growth_pct": step.p95_growth,
        }
        for step in summaries.curve(stored.levels)
    ]


def _transport_overhead(stored: StoredRun) -> list[dict[str, Any]]:
    """``--mode both``: per endpoint with answers as expected in both passes, what the server
    stack and the network add to the in-process p50 (empty for runs of one transport)."""
    return [
        {
            "name": pair.inprocess.name,
            **_role(stored, pair.inprocess),
            "inprocess_p50_ms": pair.inprocess.p50_ms,
            "http_p50_ms": pair.http.p50_ms,
            "difference_ms": pair.difference_ms,
            "share_pct": pair.share,
        }
        for pair in summaries.transport_overhead(stored)
        if pair.comparable
    ]


def _threshold(finding: Any) -> dict[str, Any]:
    verdict_word = threshold_verdict(finding)
    return {
        "rule": finding.rule,
        "subject": finding.subject,
        "title": finding.title,
        "target": finding.target,
        "actual": finding.actual,
        "verdict": verdict_word,
        "reason": finding.evidence if verdict_word in ("NOT MEASURED", "NOT EVALUATED") else None,
        "evidence": finding.evidence,
    }


def document(stored: StoredRun) -> dict[str, Any]:
    """The report as one JSON-ready dict (see the schema file)."""
    judged = verdict.of(stored)
    return {
        "schema_version": SCHEMA_VERSION,
        "run": _columns(stored.row, leave_out=_NOT_RUN_COLUMNS),
        "plan": _plain(stored.row.config),
        "verdict": {
            "word": judged.word,
            "exit_code": judged.code,
            "reason_count": len(judged.reasons),
            "reasons": list(judged.reasons),
        },
        "answer": dataclasses.asdict(answer.of(stored)),
        "totals": totals(stored),
        "logins": _plain(stored.row.logins),
        "endpoints": {
            "sequential": [_endpoint(stored, row) for row in stored.sequential],
            "sequential_http": [_endpoint(stored, row) for row in stored.sequential_http],
        },
        "transport_overhead": _transport_overhead(stored),
        "not_measured": [
            {"name": row.name, **_role(stored, row), "reason": reason}
            for row in (*stored.sequential, *stored.sequential_http)
            if (reason := unmeasured(row))
        ],
        "levels": [_level(stored, level) for level in stored.levels],
        "scaling": _scaling(stored),
        "resources": _resources(stored),
        "findings": [
            _columns(finding, leave_out={"target", "actual", "passed"})
            for finding in stored.findings
            if finding.kind != THRESHOLD
        ],
        "thresholds": [_threshold(f) for f in stored.findings if f.kind == THRESHOLD],
        "comparison": _plain(stored.row.comparison),
        "capacity": _plain(stored.row.capacity),
        "server": _plain(stored.row.environment.get("server")),
        "trends": _trends(stored),
        "rules_checked": [
            {"id": rule.id, "looks_for": rule.looks_for} for rule in bottleneck_rules(stored)
        ],
    }


def _rows_with_windows(report: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every endpoint and level of the report: the rows that carry latency windows."""
    endpoints = report["endpoints"]
    yield from endpoints["sequential"]
    yield from endpoints["sequential_http"]
    for level in report["levels"]:
        yield level
        yield from level["endpoints"]


#: Where ``render`` puts a row's windows back: a NUL-led string no stored text holds.
_WINDOWS_MARK = re.compile(r'"\\u0000windows (\d+)"')


def _dumps(value: Any, indent: int | None = None) -> str:
    return json.dumps(value, indent=indent, ensure_ascii=False, allow_nan=False)


def render(stored: StoredRun) -> str:
    """The JSON report; the same stored run always gives the same bytes.

    Indented for reading, except each row's latency windows, written on one line: they are
    most of a long run's numbers, and the indenting encoder (pure Python) would take several
    times longer on them than on the rest of the report.
    """
    report = document(stored)
    windows = []
    for row in _rows_with_windows(report):
        windows.append(_dumps(row["windows"]))
        row["windows"] = f"\0windows {len(windows) - 1}"
    text = _dumps(report, indent=2)
    return _WINDOWS_MARK.sub(lambda mark: windows[int(mark[1])], text) + "\n"
