"""How stored rows read in a table cell, shared by the sections that show them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from perftest.analysis.metrics import Metric
from perftest.analysis.rules.base import KEY, THRESHOLD, retry_afters
from perftest.analysis.thresholds import NOT_MEASURED
from perftest.store.vocabulary import unjudged, unmeasured
from perftest.text import error_groups, level_label, ms

from ..blocks import Block, Paragraph, Table

#: What a cell shows where there is no figure.
NONE = "—"

#: A finding's kind as a person reads it, where the stored word is an internal one: a "key"
#: finding is a fact of the run (its totals, slowest endpoint, capacity).
KIND_WORDS = {KEY: "fact"}


def kind_word(kind: str) -> str:
    """How a finding's stored kind reads in a list or a table."""
    return KIND_WORDS.get(kind, kind)


def endpoint_headers(by_role: bool) -> list[str]:
    """The first columns of a table of endpoint rows: a Role column when the run has roles."""
    return ["Endpoint", "Role"] if by_role else ["Endpoint"]


def endpoint_cells(endpoint: Any, by_role: bool) -> list[str]:
    """The cells under ``endpoint_headers``: the endpoint's name, and its role when split."""
    return [endpoint.name, endpoint.role] if by_role else [endpoint.name]


def errors(endpoint: Any) -> str:
    """What went wrong for an endpoint: why it was not measured, else its error groups."""
    reason = unmeasured(endpoint)
    if reason:
        return f"not measured: {reason}"
    parts = [error_groups(endpoint.errors)] if endpoint.errors else []
    if endpoint.interrupted:
        parts.append(f"interrupted after {endpoint.requests} of {endpoint.planned} planned")
    return "; ".join(parts)


def latencies(figures: Any, *metrics: Metric) -> list[str]:
    """The named latency figures of an endpoint or level as text, or dashes when it has no
    latency verdict (not measured, or no answer as expected)."""
    if unjudged(figures):
        return [NONE] * len(metrics)
    return [metric.text(figures) for metric in metrics]


def retry_after_cell(figures: Any, answer_class: str) -> str:
    """The Retry-After values of one class of answers, and how many carried none beside them."""
    waits = retry_afters(figures, [answer_class])
    if not waits.told:
        return NONE
    return waits.text() + (f"; {waits.untold} without" if waits.untold else "")


def answers_otherwise(rows: Iterable[tuple[str, Any]]) -> list[Block]:
    """Each class of unexpected answers of the labelled ``rows`` with its own latency, apart
    from the verdict figures; nothing when every answer was as expected."""
    table = [
        [
            label,
            answers["class"],
            answers["count"],
            *(ms(answers[f"{name}_ms"]) for name in ("p50", "p95", "p99", "max")),
            retry_after_cell(figures, answers["class"]),
        ]
        for label, figures in rows
        for answers in figures.answer_classes
    ]
    if not table:
        return []
    return [
        Paragraph(
            "Answers otherwise: each class of unexpected answers with its own latency, kept "
            "out of the figures above (which cover the answers as expected only):"
        ),
        Table(["Of", "Answer", "Count", "p50", "p95", "p99", "max", "Retry-After"], table),
    ]


def threshold_tally(findings: Iterable[Any]) -> str:
    """How the threshold checks came out, e.g. ``5 passed, 1 failed, 2 not evaluated``; checks
    that could not be measured are told apart (``1 not measured``), since they make a run red."""
    checks = [f for f in findings if f.kind == THRESHOLD]
    verdicts = [f.passed for f in checks]
    unmeasured = sum(f.actual == NOT_MEASURED for f in checks)
    return (
        f"{verdicts.count(True)} passed, {verdicts.count(False)} failed, "
        + (f"{unmeasured} not measured, " if unmeasured else "")
        + f"{verdicts.count(None) - unmeasured} not evaluated"
    )


def of_kind(findings: Iterable[Any], kind: str) -> list[Any]:
    return [f for f in findings if f.kind == kind]


def level_name(level: Any) -> str:
    """``2 concurrent``, marked ``(interrupted)`` or ``(aborted)`` when it was cut short."""
    return (
        level_label(level)
        + (" (interrupted)" if level.interrupted else "")
        + (" (aborted)" if level.aborted else "")
    )
