"""The short table printed at the end of a run, in the spirit of Locust's headless summary.

Figures come from the stored run and are formatted by the same helpers as the Markdown
report, so the terminal and the file never disagree about a number.
"""

from __future__ import annotations

from perftest import models
from perftest.formatting import errors, latencies, level_label, ms, threshold_tally

_HEADERS = ("Endpoint", "Requests", "OK", "p50", "p95", "p99", "Errors / reason")
#: Columns aligned to the right: the counts and the latencies.
_NUMERIC = range(1, 6)
_LEVEL_HEADERS = ("Level", "Requests", "OK", "Throughput", "p95")


def _row(endpoint: models.EndpointResult) -> list[str]:
    return [
        endpoint.name,
        str(endpoint.requests),
        str(endpoint.ok),
        *latencies(endpoint, "p50_ms", "p95_ms", "p99_ms"),
        errors(endpoint),
    ]


def _aligned(rows: list[list[str]], numeric: range) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell.rjust(width) if i in numeric else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]


def _level_row(level: models.LoadLevel) -> list[str]:
    return [
        level_label(level),
        str(level.requests),
        str(level.ok),
        f"{level.throughput:.1f} req/s",
        ms(level.p95_ms) if level.requests else "—",
    ]


def summary_table(run: models.Run) -> str:
    """The sequential endpoints, one line per load level, then the threshold tally."""
    endpoints = run.endpoints.filter(phase="sequential")
    lines = _aligned([list(_HEADERS), *(_row(e) for e in endpoints)], _NUMERIC)
    levels = list(run.levels.all())
    if levels:
        lines.append("")
        lines += _aligned([list(_LEVEL_HEADERS), *(_level_row(lv) for lv in levels)], range(1, 5))
    lines.append(f"Thresholds: {threshold_tally(run.findings.all())}")
    return "\n".join(lines)
