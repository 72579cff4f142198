"""The short table printed at the end of a run, in the spirit of Locust's headless summary.

Figures come from the stored run and are formatted by the same helpers as the Markdown
report, so the terminal and the file never disagree about a number.
"""

from __future__ import annotations

from perftest import models

from .formatting import errors, latencies, threshold_tally

_HEADERS = ("Endpoint", "Requests", "OK", "p50", "p95", "p99", "Errors / reason")
#: Columns aligned to the right: the counts and the latencies.
_NUMERIC = range(1, 6)


def _row(endpoint: models.EndpointResult) -> list[str]:
    return [
        endpoint.name,
        str(endpoint.requests),
        str(endpoint.ok),
        *latencies(endpoint, "p50_ms", "p95_ms", "p99_ms"),
        errors(endpoint),
    ]


def summary_table(run: models.Run) -> str:
    """An aligned plain-text table of the run's endpoints, then the threshold tally."""
    rows = [list(_HEADERS), *(_row(e) for e in run.endpoints.all())]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_HEADERS))]
    lines = [
        "  ".join(
            cell.rjust(width) if i in _NUMERIC else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]
    lines.append(f"Thresholds: {threshold_tally(run.findings.all())}")
    return "\n".join(lines)
