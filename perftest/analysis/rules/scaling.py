"""Rules over the scaling curve of a run's levels: peak throughput, the knee (or why there is
none), and the lowest closed level where errors start.

Each rule reads the stored levels in order (``summaries.curve``) and words its finding from
their figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from perftest.store.read import StoredRun
from perftest.text import error_groups, growth, level_label, ms_value

from .. import machine, summaries
from ..metrics import ERROR_RATE, OK_THROUGHPUT, P95, THROUGHPUT
from .base import KEY, RUN, Finding, capital, key, level_rule

PEAK = "key.peak_throughput"
KNEE = "key.knee"
NO_KNEE = "key.no_knee"
ERROR_START = "key.error_start"

#: A knee: throughput grows by less than this (percent) over the previous level...
KNEE_THROUGHPUT_GROWTH = 10.0
#: ...while p95 grows by more than this (percent).
KNEE_P95_GROWTH = 50.0


def _bends(step: summaries.Step) -> bool:
    return (
        step.throughput_growth is not None
        and step.p95_growth is not None
        and step.throughput_growth < KNEE_THROUGHPUT_GROWTH
        and step.p95_growth > KNEE_P95_GROWTH
    )


def knee(steps: Sequence[summaries.Step]) -> summaries.Step | None:
    """The first level (after the first) that bends the curve or where errors first appear.

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


def _movement(step: summaries.Step) -> str:
    """``throughput as expected +4.2 % (120.1 → 125.2 req/s) while p95 +180 % (40.0 → 112.0
    ms)``."""
    before, after = step.previous, step.level
    return (
        f"{OK_THROUGHPUT.name} {growth(step.throughput_growth)} "
        f"({OK_THROUGHPUT.of(before):.1f} → {OK_THROUGHPUT.text(after)}) while p95 "
        f"{growth(step.p95_growth)} ({ms_value(P95.of(before))} → {P95.text(after)})"
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
    return [
        key(
            NO_KNEE,
            "levels",
            f"No knee across {labels} concurrent: no level grew throughput by less than "
            f"{KNEE_THROUGHPUT_GROWTH:.0f} % while p95 grew by more than "
            f"{KNEE_P95_GROWTH:.0f} %{errors}",
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
