"""The endpoints' bars: p50 / p95 / p99 of each endpoint, and p50 / p95 before and after a
baseline comparison, read from the same stored figures as the report's tables.

The login is left out of their scale unless the plan puts it under test
(``analysis.login``): its password hash, slow on purpose, would squash every other bar.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from perftest.analysis import login
from perftest.analysis.metrics import P50, P95, P99
from perftest.store.read import StoredRun

from ..sections import comparison
from . import palette
from .model import Chart, Series

#: Said under an endpoint chart that leaves the login out.
LOGIN_LEFT_OUT = (
    "The login is left out of this chart: its password hash is slow on purpose, and its own "
    "line in the tables gives its time."
)


def _login_note(left_out: list[str]) -> str:
    """The note to write when the chart left the login's row out."""
    return LOGIN_LEFT_OUT if left_out else ""


def latencies(stored: StoredRun) -> Chart | None:
    """p50 / p95 / p99 of each sequentially measured endpoint under test that has a latency
    verdict."""
    endpoints = login.under_test(stored.judged, stored)
    if not endpoints:
        return None
    left_out = [e.name for e in stored.judged if e not in endpoints]
    return Chart(
        key="latency",
        title="Latency percentiles per endpoint (sequential)",
        x_title="Endpoint",
        y_title="latency (ms)",
        categories=tuple(endpoint.label for endpoint in endpoints),
        series=tuple(
            Series(
                metric.name,
                metric.name,
                tuple((float(i), metric.of(endpoint)) for i, endpoint in enumerate(endpoints)),
            )
            for metric in (P50, P95, P99)
        ),
        note=_login_note(left_out),
    )


def _figure(row: comparison.Row, name: str) -> dict[str, Any] | None:
    """The row's figure ``name`` when both runs have it, else None."""
    found = next((m for m in row["metrics"] if m["metric"] == name), None)
    if found is None or found["before"] is None or found["after"] is None:
        return None
    return found


def _is_login_row(row: comparison.Row, stored: StoredRun) -> bool:
    """Whether a compared row is the login's and the login is set apart."""
    named = SimpleNamespace(name=row["endpoint"])
    return row["phase"] == "sequential" and not login.under_test([named], stored)


#: Each figure of the before/after bars: the baseline's colour and this run's.
_BEFORE_AFTER = ((P50, palette.P50_BEFORE, palette.P50), (P95, palette.P95_BEFORE, palette.P95))


def before_after(stored: StoredRun) -> Chart | None:
    """p50 and p95 before (the baseline) and after (this run) of each sequential endpoint under
    test and each level overall that both runs judged, the after bar of a regression flagged."""
    compared = comparison.of(stored)
    rows = [
        row
        for row in compared.get("rows", ())
        if (row["phase"] == "sequential" or row["endpoint"] == "all")
        and _figure(row, P50.name)
        and _figure(row, P95.name)
    ]
    logins = [row["endpoint"] for row in rows if _is_login_row(row, stored)]
    rows = [row for row in rows if not _is_login_row(row, stored)]
    if not rows:
        return None
    against = comparison.baseline_name(compared)
    series: list[Series] = []
    for metric, before, after in _BEFORE_AFTER:
        figures = [_figure(row, metric.name) for row in rows]
        series += [
            Series(
                f"{metric.name} {against}",
                before,
                tuple((float(i), f["before"]) for i, f in enumerate(figures)),
            ),
            Series(
                f"{metric.name} this run",
                after,
                tuple((float(i), f["after"]) for i, f in enumerate(figures)),
                flagged=frozenset(
                    i for i, f in enumerate(figures) if f["verdict"] == comparison.REGRESSION
                ),
            ),
        ]
    flagged = any(s.flagged for s in series)
    return Chart(
        key="baseline",
        title=f"p50 and p95 against {against}" + (" (regressions in red)" if flagged else ""),
        x_title="Endpoint or level",
        y_title="latency (ms)",
        categories=tuple(comparison.where(row) for row in rows),
        series=tuple(series),
        note=_login_note(logins),
    )
