"""The scaling curve of a run's closed-model levels, and where it bends.

Pure functions on stored ``LoadLevel`` rows: the closed levels ordered by concurrency, the
growth of throughput and p95 from each level to the next, the knee (the first level where
adding workers stops buying throughput and starts costing latency, or where errors appear)
and the level where errors start. The sentences are built here from those figures, so the
report section and the key findings word the same numbers the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from perftest import models
from perftest.formatting import error_groups, growth, level_label, ms, ms_value

#: A knee: throughput grows by less than this (percent) over the previous level...
KNEE_THROUGHPUT_GROWTH = 10.0
#: ...while p95 grows by more than this (percent).
KNEE_P95_GROWTH = 50.0


@dataclass(frozen=True)
class Step:
    """One closed level on the curve, compared with the level before it (if any)."""

    level: models.LoadLevel
    previous: models.LoadLevel | None
    throughput_growth: float | None
    p95_growth: float | None

    @property
    def error_rate(self) -> float:
        """Percent of the level's counted requests that did not answer as expected."""
        return error_rate(self.level)


def error_rate(level: models.LoadLevel) -> float:
    return 100 * level.errors_total / level.requests if level.requests else 0.0


def change(before: float, after: float) -> float | None:
    """Growth from ``before`` to ``after`` in percent; None when ``before`` is 0 (no base)."""
    return 100 * (after - before) / before if before else None


def closed_levels(levels: Iterable[models.LoadLevel]) -> list[models.LoadLevel]:
    """The closed-model levels that counted requests, by concurrency (then stored order)."""
    closed = [
        level for level in levels if level.model == models.LoadLevel.Model.CLOSED and level.requests
    ]
    return sorted(closed, key=lambda level: (level.concurrency, level.position))


def curve(levels: Iterable[models.LoadLevel]) -> list[Step]:
    """Each closed level with its growth of throughput and p95 over the previous one."""
    steps: list[Step] = []
    previous = None
    for level in closed_levels(levels):
        steps.append(
            Step(
                level=level,
                previous=previous,
                throughput_growth=(
                    change(previous.throughput, level.throughput) if previous else None
                ),
                p95_growth=change(previous.p95_ms, level.p95_ms) if previous else None,
            )
        )
        previous = level
    return steps


def _bends(step: Step) -> bool:
    return (
        step.throughput_growth is not None
        and step.p95_growth is not None
        and step.throughput_growth < KNEE_THROUGHPUT_GROWTH
        and step.p95_growth > KNEE_P95_GROWTH
    )


def _errors_appear(step: Step) -> bool:
    return step.level.errors_total > 0 and step.previous.errors_total == 0


def knee(steps: Sequence[Step]) -> Step | None:
    """The first level (after the first) that bends the curve or where errors appear."""
    for step in steps:
        if step.previous is not None and (_bends(step) or _errors_appear(step)):
            return step
    return None


def error_start(levels: Iterable[models.LoadLevel]) -> models.LoadLevel | None:
    """The lowest closed level with errors, or None when every closed level was clean."""
    return next((level for level in closed_levels(levels) if level.errors_total), None)


def errors_text(level: models.LoadLevel) -> str:
    """``12 of 400 requests (3.0 %): HTTP 503 ×12``."""
    reasons = error_groups(level.errors) or "no reason stored"
    return (
        f"{level.errors_total} of {level.requests} requests ({error_rate(level):.1f} %): {reasons}"
    )


def movement(step: Step) -> str:
    """``throughput +4.2 % (120.1 → 125.2 req/s) while p95 +180 % (40.0 → 112.0 ms)``."""
    before, after = step.previous, step.level
    return (
        f"throughput {growth(step.throughput_growth)} "
        f"({before.throughput:.1f} → {after.throughput:.1f} req/s) while p95 "
        f"{growth(step.p95_growth)} ({ms_value(before.p95_ms)} → {ms(after.p95_ms)})"
    )


def knee_sentence(step: Step) -> str:
    """Why the knee is where it is, with the numbers that put it there."""
    where = f"knee at {level_label(step.level)}: "
    if _bends(step):
        return where + movement(step)
    return f"{where}errors appear ({errors_text(step.level)}); {movement(step)}"


def no_knee_sentence(steps: Sequence[Step]) -> str:
    labels = ", ".join(str(step.level.concurrency) for step in steps)
    return (
        f"no knee across {labels} concurrent: no level grew throughput by less than "
        f"{KNEE_THROUGHPUT_GROWTH:.0f} % while p95 grew by more than {KNEE_P95_GROWTH:.0f} %, "
        "and no errors appeared"
    )


def error_start_sentence(level: models.LoadLevel) -> str:
    return f"errors start at {level_label(level)}: {errors_text(level)}"


def peak(levels: Iterable[models.LoadLevel]) -> models.LoadLevel | None:
    """The level (closed or open) with the highest throughput; the first one on a tie."""
    counted = [level for level in levels if level.requests]
    return max(counted, key=lambda level: level.throughput, default=None)
