"""The short summary printed at the end of a run, in the spirit of Locust's headless table:
the most pressing findings first (what a person acts on), then the sequential endpoints, one
line per load level, the capacity when the run searched for it, every request sent to the
target, the threshold tally, then the tally of the comparison with the baseline when there is
one."""

from __future__ import annotations

from typing import Any

from perftest.analysis import summaries
from perftest.analysis.metrics import OK, OK_THROUGHPUT, P50, P95, P99, REQUESTS, THROUGHPUT
from perftest.store.read import StoredRun

from ..blocks import Block, Bullets, Paragraph, Table
from . import answer, capacity, comparison
from .phrases import (
    endpoint_cells,
    endpoint_headers,
    errors,
    latencies,
    level_name,
    threshold_tally,
)
from .summary import sent_line


def _what_to_do(finding: Any) -> str:
    """The finding's one line under its title: what to do, else its first line of evidence."""
    if finding.recommendation:
        return finding.recommendation
    return next(iter(finding.evidence.splitlines()), "")


def top_findings(stored: StoredRun) -> list[Block]:
    """The ``answer.TOP`` most pressing problems the rules found (configuration, regressions,
    bottlenecks), each its title and one line; nothing when the rules found none."""
    found = answer.problems(stored)
    if not found:
        return []
    shown = found[: answer.TOP]
    more = (
        f" ({len(shown)} of {len(found)}; every one is in the report)"
        if len(found) > len(shown)
        else ""
    )
    return [
        Paragraph(f"Top findings{more}:"),
        Bullets([f.title + (f"\n  {line}" if (line := _what_to_do(f)) else "") for f in shown]),
    ]


def _endpoint_row(endpoint: Any, by_role: bool) -> list[str]:
    return [
        *endpoint_cells(endpoint, by_role),
        REQUESTS.text(endpoint),
        OK.text(endpoint),
        *latencies(endpoint, P50, P95, P99),
        errors(endpoint),
    ]


def _level_row(level: Any) -> list[str]:
    return [
        level_name(level),
        REQUESTS.text(level),
        OK.text(level),
        OK_THROUGHPUT.text(level),
        THROUGHPUT.text(level),
        *latencies(level, P95),
    ]


def blocks(stored: StoredRun) -> list[Block]:
    by_role = stored.by_role
    first = len(endpoint_headers(by_role))
    endpoints = Table(
        [*endpoint_headers(by_role), "Requests", "OK", "p50", "p95", "p99", "Errors / reason"],
        [_endpoint_row(e, by_role) for e in stored.sequential],
        right=frozenset(range(first, first + 5)),
    )
    found: list[Block] = [endpoints]
    if stored.levels:
        found.append(
            Table(
                ["Level", "Requests", "OK", "As expected/s", "All answers/s", "p95"],
                [_level_row(level) for level in stored.levels],
                right=frozenset(range(1, 6)),
            )
        )
    answer = capacity.headline(stored)
    if answer:
        found.append(Paragraph(answer))
    found.append(Paragraph(sent_line(summaries.sent(stored))))
    found.append(Paragraph(f"Thresholds: {threshold_tally(stored.findings)}"))
    baseline = comparison.tally(stored)
    if baseline:
        found.append(Paragraph(baseline))
    return found
