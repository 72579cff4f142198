"""``--capacity``'s answer: the headline every format states first, and the search's steps.

The search stored its record with the run (``Run.capacity``: the bounds, each step's rate,
level and outcome, the answer and why it ended). The headline is the stored key finding's
title when the analysis wrote one (it adds what gave way); otherwise it is worded here from
the record's figures. Each step is a stored load level, so its throughput and p95 are the
level's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from perftest.analysis.metrics import OK_THROUGHPUT, P95
from perftest.store.read import StoredRun
from perftest.text import level_label, number

from ..blocks import Block, Heading, Paragraph, Table
from .phrases import NONE, latencies

#: The key finding the analysis writes about the search (its rule id starts so).
FINDING_PREFIX = "key.capacity"

#: How the search ended, as the sentence under its steps says it.
ENDED = {
    "bisected": "bisection narrowed it to within the tolerance",
    "bound": "a bound failed and the search stopped there",
    "generator": "this generator could send no more",
    "max_rate": "it reached its highest rate with every bound met",
    "interrupted": "the run was interrupted",
}

STEP_HEADERS = (
    "Step",
    "Rate",
    "Level",
    "Result",
    "Failed bound",
    "Value",
    "Throughput as expected",
    "p95",
)
#: The columns of ``STEP_HEADERS`` aligned right (counts, rates and times).
STEP_RIGHT = frozenset({0, 1, 6, 7})


def record(stored: StoredRun) -> Mapping[str, Any]:
    """The search's stored record; empty when the run searched no capacity."""
    found = stored.row.capacity
    return found if isinstance(found, Mapping) else {}


def rps(value: float) -> str:
    """A rate of the search: ``142 req/s``, ``142.5 req/s``."""
    return f"{number(round(value, 1))} req/s"


def _generator_most(search: Mapping[str, Any]) -> float | None:
    """The most this generator could send, when that is what ended the search."""
    if search.get("ended") != "generator":
        return None
    most = search.get("generator_max_rps")
    return most if most is not None else search.get("capacity_rps")


def found(search: Mapping[str, Any]) -> bool:
    """Whether the search found a capacity: a rate that met every bound, or the generator's
    most (the capacity is above it)."""
    return search.get("capacity_rps") is not None or _generator_most(search) is not None


def short(search: Mapping[str, Any]) -> str:
    """The answer in a list's cell: ``30 req/s``, ``above 55 req/s`` (the generator's most),
    ``none found``; ``—`` without a search."""
    if not search:
        return NONE
    most, found = _generator_most(search), search.get("capacity_rps")
    if most is not None:
        return f"above {rps(most)}"
    return "none found" if found is None else rps(found)


def _failure(search: Mapping[str, Any]) -> str:
    """`` (at 168 req/s, p95 < 300ms failed: 912 ms)``: the lowest rate that failed."""
    failed_at = search.get("failed_rps")
    if failed_at is None:
        return ""
    value = f": {search['value']}" if search.get("value") else ""
    return f" (at {rps(failed_at)}, {search.get('failed') or 'a bound'} failed{value})"


def _from_figures(search: Mapping[str, Any]) -> str:
    """The headline from the record alone (no stored finding words it)."""
    found, expression = search.get("capacity_rps"), search.get("expression", "")
    most = _generator_most(search)
    if most is not None:
        return (
            f"Capacity: above {rps(most)}, the most this generator could send (to send more: "
            "--engine locust --processes N)."
        )
    if search.get("ended") == "interrupted":
        met = f"was {rps(found)}" if found is not None else "was none"
        return (
            f"Capacity: the search was interrupted; the highest rate that met {expression} {met}."
        )
    if found is None:
        start = search.get("failed_rps")
        start = start if start is not None else search.get("start_rps")
        first = f", {rps(start)}," if start is not None else ""
        value = f" ({search['value']})" if search.get("value") else ""
        return (
            f"Capacity: not found: the first step{first} already failed "
            f"{search.get('failed') or expression}{value}."
        )
    at_least = "at least " if search.get("ended") == "max_rate" else ""
    return f"Capacity: {at_least}{rps(found)} of this mix with {expression}{_failure(search)}."


def headline(stored: StoredRun) -> str:
    """The search's answer in one sentence; "" when the run searched no capacity."""
    search = record(stored)
    if not search:
        return ""
    worded = next((f.title for f in stored.findings if f.rule.startswith(FINDING_PREFIX)), "")
    return worded or _from_figures(search)


def step_rows(stored: StoredRun) -> list[tuple[list[str], bool]]:
    """Each step of the search as table cells (``STEP_HEADERS``), with whether it passed."""
    levels = {level.position: level for level in stored.levels}
    rows = []
    for index, step in enumerate(record(stored).get("steps") or (), start=1):
        level = levels.get(step.get("level"))
        passed = bool(step.get("passed"))
        cells = [
            str(index),
            rps(step.get("rate") or 0.0),
            level_label(level) if level is not None else NONE,
            "passed" if passed else "failed",
            step.get("failed") or NONE,
            step.get("value") or NONE,
            OK_THROUGHPUT.text(level) if level is not None else NONE,
            latencies(level, P95)[0] if level is not None else NONE,
        ]
        rows.append((cells, passed))
    return rows


def _how(search: Mapping[str, Any]) -> str:
    bounds = "; ".join(search.get("bounds") or ()) or search.get("expression", "")
    start, tolerance = search.get("start_rps"), search.get("tolerance")
    began = f"from {rps(start)}" if start is not None else "from a measured start"
    within = f" to within {tolerance:.0%}" if tolerance else ""
    ended = ENDED.get(search.get("ended", ""), search.get("ended") or "not recorded")
    return (
        f"Each step sends the plan's mix at a fixed arrival rate (open model) and is stored as "
        f"a load level; the search rises {began} until a bound fails, then bisects{within}. "
        f"Bounds: {bounds}. It ended because {ended}."
    )


def search(stored: StoredRun) -> list[Block]:
    """The search's answer, how it searched and each step; nothing without a search."""
    found = record(stored)
    if not found:
        return []
    rows = step_rows(stored)
    return [
        Heading("Capacity search"),
        Paragraph(headline(stored)),
        Paragraph(_how(found)),
        Table(STEP_HEADERS, [cells for cells, _ in rows], right=STEP_RIGHT)
        if rows
        else Paragraph("No step of the search was stored."),
    ]
