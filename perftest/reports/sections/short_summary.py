"""The short summary printed at the end of a run, in the spirit of Locust's headless table:
the sequential endpoints, one line per load level, the capacity when the run searched for it,
every request sent to the target, the threshold tally, then the tally of the comparison with
the baseline when there is one."""

from __future__ import annotations

from typing import Any

from perftest.analysis import summaries
from perftest.analysis.metrics import OK, OK_THROUGHPUT, P50, P95, P99, REQUESTS, THROUGHPUT
from perftest.store.read import StoredRun

from ..blocks import Block, Paragraph, Table
from . import capacity, comparison
from .phrases import (
    endpoint_cells,
    endpoint_headers,
    errors,
    latencies,
    level_name,
    threshold_tally,
)
from .summary import sent_line


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
