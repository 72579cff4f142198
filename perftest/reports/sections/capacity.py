"""``--capacity``'s answer: the headline every format states first, and the search's steps.

The search stored its record with the run (``Run.capacity``, read by ``analysis.capacity``):
the bounds, each step's rate, level and outcome, the answer and why it ended. The headline is
the stored key finding's title (``rules.capacity``), which adds what gave way. Each step is a
stored load level, so its throughput and p95 are the level's own.
"""

from __future__ import annotations

from typing import Any

from perftest.analysis import capacity
from perftest.analysis.metrics import OK_THROUGHPUT, P95
from perftest.analysis.rules.capacity import CAPACITY
from perftest.store.read import StoredRun
from perftest.text import level_label, number

from .. import anchors
from ..blocks import Block, Heading, Paragraph, Table
from .phrases import NONE, latencies

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


def rps(value: float) -> str:
    """A rate of the search: ``142 req/s``, ``142.5 req/s``."""
    return f"{number(round(value, 1))} req/s"


def short(record: Any) -> str:
    """The answer in a list's cell: ``30 req/s``, ``above 55 req/s`` (the generator's most),
    ``none found``; ``—`` without a search."""
    found = capacity.read(record)
    if found is None:
        return NONE
    if found.generator_most is not None:
        return f"above {rps(found.generator_most)}"
    return "none found" if found.capacity_rps is None else rps(found.capacity_rps)


def headline(stored: StoredRun) -> str:
    """The search's answer in one sentence, as the analysis worded it; "" when the run
    searched no capacity."""
    return next((f.title for f in stored.findings if f.rule == CAPACITY), "")


def step_rows(stored: StoredRun) -> list[tuple[list[str], bool]]:
    """Each step of the search as table cells (``STEP_HEADERS``), with whether it passed."""
    found = capacity.search(stored)
    rows = []
    for index, step in enumerate(found.steps if found else (), start=1):
        level = capacity.level_of(stored, step)
        cells = [
            str(index),
            rps(step.rate),
            level_label(level) if level is not None else NONE,
            "passed" if step.passed else "failed",
            step.failed or NONE,
            step.value or NONE,
            OK_THROUGHPUT.text(level) if level is not None else NONE,
            latencies(level, P95)[0] if level is not None else NONE,
        ]
        rows.append((cells, step.passed))
    return rows


def _how(found: capacity.Search) -> str:
    bounds = "; ".join(found.bounds) or found.expression
    began = f"from {rps(found.start_rps)}" if found.start_rps is not None else "from its start"
    within = f" to within {found.tolerance:.0%}" if found.tolerance else ""
    ended = ENDED.get(found.ended, found.ended or "not recorded")
    return (
        f"Each step sends the plan's mix at a fixed arrival rate (open model) and is stored as "
        f"a load level; the search rises {began} until a bound fails, then bisects{within}. "
        f"Bounds: {bounds}. It ended because {ended}."
    )


def search(stored: StoredRun) -> list[Block]:
    """The search's answer, how it searched and each step; nothing without a search."""
    found = capacity.search(stored)
    if found is None:
        return []
    answer = headline(stored)
    return [
        Heading(anchors.CAPACITY_SEARCH_HEADING),
        *([Paragraph(answer)] if answer else []),
        Paragraph(_how(found)),
        Table(STEP_HEADERS, [cells for cells, _ in step_rows(stored)], right=STEP_RIGHT),
    ]
