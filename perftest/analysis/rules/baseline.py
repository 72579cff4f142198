"""Changes against the baseline run, as findings: each regression or improvement beyond noise.

The comparison is computed once when the run ends (``analysis.compare``) and stored on the
run; these rules only read ``Run.comparison``, so re-analysing a stored run never redraws the
bootstrap, and a run without a baseline finds nothing here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from perftest import text
from perftest.store.read import StoredRun

from ..noise import IMPROVEMENT, REGRESSION, UNCHANGED
from .base import BASELINE, RUN, Finding, rule


def subject(row: Mapping[str, Any]) -> str:
    """``Get Lessons``, ``Get Lessons @ 10 concurrent (closed)``, or a level's label for its
    overall figures; the HTTP pass of ``--mode both`` says so."""
    level = row.get("level")
    if level is None:
        return row["endpoint"] + (" (over HTTP)" if row["phase"] == "sequential-http" else "")
    if row["endpoint"] == "all":
        return level["label"]
    return f"{row['endpoint']} @ {level['label']}"


def figure(value: float | None, unit: str) -> str:
    """A compared figure in its unit: ``4.10 ms``, ``120.0/s``, ``2.5 %``, ``3.0``."""
    if value is None:
        return "—"
    if unit == "ms":
        return text.ms(value)
    if unit == "/s":
        return f"{value:.1f}/s"
    if unit == "%":
        return f"{value:.1f} %"
    return f"{value:.1f}"


def _value(metric: Mapping[str, Any], side: str) -> str:
    return figure(metric[side], metric["unit"])


def _queries_text(gained: float) -> str:
    """``1 more query``, ``2.5 more queries``, ``1 query fewer``."""
    amount = text.number(round(abs(gained), 1))
    noun = "query" if amount == "1" else "queries"
    return f"{amount} more {noun}" if gained > 0 else f"{amount} {noun} fewer"


def _title(where: str, metric: Mapping[str, Any], baseline: str) -> str:
    name, before, after = metric["metric"], metric["before"], metric["after"]
    if name == "queries_mean":
        return f"{where}: {_queries_text(after - before)} per request than {baseline}"
    if name == "error_rate":
        return (
            f"{where} error rate {after - before:+.1f} points against {baseline} "
            f"({_value(metric, 'before')} -> {_value(metric, 'after')})"
        )
    values = f"({_value(metric, 'before')} -> {_value(metric, 'after')})"
    if name == "ok_rps":
        word = "lower" if after < before else "higher"
        share = f"{abs(metric['change']):.0%} {word}"
        return f"{where} throughput as expected {share} than {baseline} {values}"
    ratio = max(before, after) / min(before, after)
    speed = "slower" if after > before else "faster"
    return f"{where} {name} {ratio:.1f}x {speed} than {baseline} {values}"


def _new_sql(row: Mapping[str, Any]) -> str:
    lines = [
        f"{sql['sql']} ({sql['before_per_request']:.2f} -> {sql['after_per_request']:.2f} per "
        "request)"
        for sql in row["new_sql"]
    ]
    return " New SQL: " + "; ".join(lines) + "." if lines else ""


def _code(row: Mapping[str, Any]) -> str:
    """Whose code a change is in: ``Get Lessons``'s, or for a level's overall figures the
    code of the endpoints the level sent (a level is not code that runs)."""
    if row.get("level") is not None and row["endpoint"] == "all":
        return f"the code of the endpoints {row['level']['label']} sent"
    return f"the code of {row['endpoint']}"


def _queries(row: Mapping[str, Any]) -> str | None:
    """The verdict on the same row's queries per request (None when they were not compared:
    SQL not captured), a regression too when a statement is newly repeated."""
    if row.get("new_repeated"):
        return REGRESSION
    return next((m["verdict"] for m in row["metrics"] if m["metric"] == "queries_mean"), None)


def _advice(row: Mapping[str, Any], metric: str, baseline: str) -> str:
    where = subject(row)
    if metric == "queries_mean":
        return (
            f"Look at the SQL {where} gained since {baseline}: a related object read per row "
            "wants select_related or prefetch_related, a lookup repeated per request a cache."
        )
    if metric == "error_rate":
        return f"Look at the error groups of {where} in this report: they say what failed."
    queries = _queries(row)
    if queries == REGRESSION:
        return (
            f"Start with the queries {where} gained since {baseline} (the query regression "
            "beside this one): they are the likeliest cause of the lost time."
        )
    same = (
        " Its queries per request did not change, so look past the SQL count first."
        if queries == UNCHANGED
        else ""
    )
    return (
        f"Look at what changed since {baseline} in {_code(row)}: its queries, serialisers "
        f"and the functions they call; a profile of the endpoint names where the time goes.{same}"
    )


def _metric_findings(row: Mapping[str, Any], verdict: str, baseline: str) -> list[Finding]:
    where = subject(row)
    found = []
    for metric in row["metrics"]:
        if metric["verdict"] != verdict:
            continue
        evidence = metric["why"] + (_new_sql(row) if metric["metric"] == "queries_mean" else "")
        found.append(
            Finding(
                BASELINE,
                verdict,
                where,
                _title(where, metric, baseline),
                evidence,
                _advice(row, metric["metric"], baseline) if verdict == REGRESSION else "",
                _value(metric, "before"),
                _value(metric, "after"),
                passed=verdict == IMPROVEMENT,
            )
        )
    return found


def _repeated_findings(row: Mapping[str, Any], baseline: str) -> list[Finding]:
    where = subject(row)
    return [
        Finding(
            BASELINE,
            REGRESSION,
            where,
            f"{where}: a statement repeated {group['max_per_request']}× in one request, "
            f"not repeated in {baseline}",
            f"Newly repeated: {group['sql']}",
            _advice(row, "queries_mean", baseline),
            "not repeated",
            f"{group['max_per_request']}× in one request",
            passed=False,
        )
        for group in row["new_repeated"]
    ]


def _findings(stored: StoredRun, verdict: str) -> list[Finding]:
    comparison = stored.row.comparison
    if not comparison:
        return []
    baseline = f"run #{comparison['baseline']['id']}"
    found: list[Finding] = []
    for row in comparison["rows"]:
        found += _metric_findings(row, verdict, baseline)
        if verdict == REGRESSION:
            found += _repeated_findings(row, baseline)
    return found


@rule(
    REGRESSION,
    BASELINE,
    RUN,
    "a figure worse than the baseline run's beyond noise, or a query more per request",
    "Look at what changed since the baseline run in the code the subject runs.",
    family="endpoints",
)
def regression(stored: StoredRun) -> list[Finding]:
    return _findings(stored, REGRESSION)


@rule(
    IMPROVEMENT,
    BASELINE,
    RUN,
    "a figure better than the baseline run's beyond noise, or a query fewer per request",
    family="endpoints",
)
def improvement(stored: StoredRun) -> list[Finding]:
    return _findings(stored, IMPROVEMENT)
