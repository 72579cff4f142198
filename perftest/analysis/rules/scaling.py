"""Rules over the scaling curve of a run's levels: peak throughput, the knee (or why there is
none), and the lowest closed level where errors start.

The knee is the first closed level whose scaling efficiency (``efficiency``: the share of the
added workers that became throughput as expected) falls below ``EFFICIENCY_BOUND``, or where
errors start. It replaced a fixed "throughput grows < 10 % while p95 grows > 50 %" rule, which
called a curve whose p95 rose 12× while throughput grew 11.8 % "no knee".

Each rule reads the stored levels in order (``summaries.curve``) and words its finding from
their figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from perftest.store.read import StoredRun
from perftest.text import error_groups, level_label, ms_value

from .. import machine, summaries
from ..efficiency import EFFICIENCY_BOUND, efficiency
from ..metrics import ERROR_RATE, OK_THROUGHPUT, P95, THROUGHPUT
from .base import KEY, RUN, Finding, capital, key, level_rule

PEAK = "key.peak_throughput"
KNEE = "key.knee"
NO_KNEE = "key.no_knee"
ERROR_START = "key.error_start"


def _bends(step: summaries.Step) -> bool:
    """The level turned less than ``EFFICIENCY_BOUND`` of its added workers into throughput."""
    share = _efficiency(step)
    return share is not None and share < EFFICIENCY_BOUND


def _efficiency(step: summaries.Step) -> float | None:
    return efficiency(step.previous, step.level) if step.previous is not None else None


def knee(steps: Sequence[summaries.Step]) -> summaries.Step | None:
    """The first level (after the first) whose scaling efficiency falls below the bound, or
    where errors first appear.

    Errors mark a knee only at the level where they start (``_error_start``'s level): errors
    that come back after a clean level are not where the curve's errors began.
    """
    errors_before = False
    for step in steps:
        errors_start = step.level.errors_total > 0 and not errors_before
        if step.previous is not None and (_bends(step) or errors_start):
            return step
        errors_before = errors_before or step.level.errors_total > 0
    return None


def _errors_text(level: Any) -> str:
    """``12 of 400 requests (3.0 %): HTTP 503 ×12``."""
    reasons = error_groups(level.errors) or "no reason stored"
    return (
        f"{level.errors_total} of {level.requests} requests ({ERROR_RATE.text(level)}): {reasons}"
    )


def _more(value: float) -> str:
    """``11.8 % more``, ``3.2 % less``: a growth in percent as words."""
    return f"{value:.1f} % more" if value >= 0 else f"{-value:.1f} % less"


def _movement(step: summaries.Step) -> str:
    """``100 % more workers (5 → 10) turned into 11.8 % more throughput as expected
    (efficiency 12 %, bound 50 %): 120.0 → 134.2 req/s while p95 went ×12, 40.0 → 480.0 ms``."""
    before, after = step.previous, step.level
    share = _efficiency(step)
    workers = 100 * (after.concurrency - before.concurrency) / before.concurrency
    scaled = (
        f"{workers:.0f} % more workers ({before.concurrency} → {after.concurrency}) turned into "
        f"{_more(step.throughput_growth)} {OK_THROUGHPUT.name} (efficiency {100 * share:.0f} %, "
        f"bound {100 * EFFICIENCY_BOUND:.0f} %): "
        if share is not None and step.throughput_growth is not None
        else f"{OK_THROUGHPUT.name} "
    )
    p95_before = P95.of(before)
    factor = P95.of(after) / p95_before if p95_before else None
    p95 = f"went ×{factor:.1f}" if factor is not None and factor < 10 else f"went ×{factor:.0f}"
    return (
        f"{scaled}{OK_THROUGHPUT.of(before):.1f} → {OK_THROUGHPUT.text(after)} while p95 "
        + (f"{p95}, " if factor is not None else "")
        + f"{ms_value(p95_before)} → {P95.text(after)}"
    )


@level_rule(PEAK, KEY, RUN, "the level with the highest throughput as expected")
def _peak(stored: StoredRun) -> list[Finding]:
    top = summaries.peak(stored.levels)
    if top is None:
        return []
    caveat = machine.caveat(stored, [top])
    return [
        key(
            PEAK,
            level_label(top),
            f"Peak throughput: {OK_THROUGHPUT.text(top)} as expected at {level_label(top)}"
            + (" (on a busy machine)" if caveat else ""),
            f"{P95.phrase(top)}, {top.errors_total} of {top.requests} requests failed"
            + (f" ({THROUGHPUT.text(top)} counting every answer)" if top.errors_total else "")
            + f", over {top.transport}"
            + (f". {caveat}" if caveat else ""),
        )
    ]


@level_rule(KNEE, KEY, RUN, "the level where the scaling curve bends")
def _knee(stored: StoredRun) -> list[Finding]:
    """Why the knee is where it is, with the numbers that put it there."""
    step = knee(summaries.curve(stored.levels))
    if step is None:
        return []
    cause = "" if _bends(step) else f"errors appear ({_errors_text(step.level)}); "
    label = level_label(step.level)
    caveat = machine.caveat(stored, [step.previous, step.level])
    busy = " (on a busy machine)" if caveat else ""
    return [key(KNEE, label, f"Knee at {label}{busy}: {cause}{_movement(step)}", caveat)]


@level_rule(NO_KNEE, KEY, RUN, "a scaling curve without a knee")
def _no_knee(stored: StoredRun) -> list[Finding]:
    steps = summaries.curve(stored.levels)
    if len(steps) < 2 or knee(steps) is not None:
        return []
    labels = ", ".join(str(step.level.concurrency) for step in steps)
    # No knee, so errors (if any) were there from the lowest level on: load did not bring them.
    first = steps[0].level
    errors = (
        f"; errors were there from the lowest level, {level_label(first)} "
        f"({ERROR_RATE.text(first)}), so no level brought them"
        if any(step.level.errors_total for step in steps)
        else ", and none of these levels had errors"
    )
    judged = [(share, step) for step in steps if (share := _efficiency(step)) is not None]
    lowest = ""
    if judged:
        share, step = min(judged, key=lambda pair: pair[0])
        lowest = (
            f" (lowest efficiency {100 * share:.0f} %, from {level_label(step.previous)} to "
            f"{level_label(step.level)})"
        )
    return [
        key(
            NO_KNEE,
            "levels",
            f"No knee across {labels} concurrent: every level turned at least "
            f"{100 * EFFICIENCY_BOUND:.0f} % of its added workers into {OK_THROUGHPUT.name}"
            f"{lowest}{errors}",
        )
    ]


@level_rule(ERROR_START, KEY, RUN, "the lowest closed level with errors")
def _error_start(stored: StoredRun) -> list[Finding]:
    """The lowest closed level with errors, when any closed level had them."""
    closed = summaries.closed_levels(stored.levels)
    start = next((level for level in closed if level.errors_total), None)
    if start is None:
        return []
    label = level_label(start)
    return [key(ERROR_START, label, capital(f"errors start at {label}: {_errors_text(start)}"))]
