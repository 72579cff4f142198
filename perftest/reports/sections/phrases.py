"""How stored rows read in a table cell, shared by the sections that show them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from perftest.analysis.metrics import Metric
from perftest.analysis.rules.base import THRESHOLD
from perftest.store.read import unmeasured
from perftest.text import error_groups

#: What a cell shows where there is no figure.
NONE = "—"


def errors(endpoint: Any) -> str:
    """What went wrong for an endpoint: why it was not measured, else its error groups."""
    reason = unmeasured(endpoint)
    if reason:
        return f"not measured: {reason}"
    parts = [error_groups(endpoint.errors)] if endpoint.errors else []
    if endpoint.interrupted:
        parts.append(f"interrupted after {endpoint.requests} of {endpoint.planned} planned")
    return "; ".join(parts)


def latencies(endpoint: Any, *metrics: Metric) -> list[str]:
    """The named latency figures as text, or dashes when the endpoint was not measured."""
    if unmeasured(endpoint):
        return [NONE] * len(metrics)
    return [metric.text(endpoint) for metric in metrics]


def threshold_tally(findings: Iterable[Any]) -> str:
    """How the threshold checks came out, e.g. ``5 passed, 1 failed, 2 not evaluated``."""
    verdicts = [f.passed for f in findings if f.kind == THRESHOLD]
    return (
        f"{verdicts.count(True)} passed, {verdicts.count(False)} failed, "
        f"{verdicts.count(None)} not evaluated"
    )


def of_kind(findings: Iterable[Any], kind: str) -> list[Any]:
    return [f for f in findings if f.kind == kind]
