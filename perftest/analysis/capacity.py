"""A capacity search as stored (``Run.capacity``): its steps, the levels they measured, and
which of those levels were probes beyond the capacity found.

``--capacity 'p95 < 300ms'`` raises the open-model arrival rate step by step, then bisects,
until a bound fails. A step that fails beyond the capacity found is how the search works, not
a fault of the run: ``probes`` names those levels so the ``@*`` thresholds leave them out
(``thresholds``), while every step that passed is judged as usual.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from perftest.plan.expressions import ExpressionError, parse
from perftest.text import number


@dataclass(frozen=True)
class Step:
    """One rate the search measured, as one stored level."""

    #: The level's position among the run's levels.
    level: int
    rate: float
    passed: bool
    #: The first bound that failed and its measured value ("" when it passed).
    failed: str
    value: str


@dataclass(frozen=True)
class Search:
    """What the search found; ``capacity_rps`` is None when even its first step failed."""

    expression: str
    bounds: tuple[str, ...]
    steps: tuple[Step, ...]
    capacity_rps: float | None
    failed_rps: float | None
    failed: str
    value: str
    #: bisected, bound, generator, max_rate or interrupted.
    ended: str
    generator_max_rps: float | None
    start_rps: float | None = None
    tolerance: float | None = None

    @property
    def generator_most(self) -> float | None:
        """The most this generator could send, when that is what ended the search."""
        if self.ended != "generator":
            return None
        return self.generator_max_rps if self.generator_max_rps is not None else self.capacity_rps

    @property
    def found(self) -> bool:
        """Whether the search found a capacity: a rate that met every bound, or the
        generator's most (the capacity is above it)."""
        return self.capacity_rps is not None or self.generator_most is not None

    @property
    def failed_step(self) -> Step | None:
        """The step at ``failed_rps`` (the lowest failing rate), if the search had one."""
        failing = [step for step in self.steps if not step.passed]
        return min(failing, key=lambda step: step.rate, default=None)

    @property
    def capacity_step(self) -> Step | None:
        """The passing step at the capacity found, if any."""
        passing = [step for step in self.steps if step.passed]
        return max(passing, key=lambda step: step.rate, default=None)


def search(stored: Any) -> Search | None:
    """The run's capacity search; None when the run made none."""
    return read(getattr(stored.row, "capacity", None))


def read(record: Any) -> Search | None:
    """A stored ``Run.capacity`` record as a ``Search``; None when it holds no search."""
    if not isinstance(record, Mapping) or not record.get("steps"):
        return None
    steps = tuple(
        Step(
            level=int(step["level"]),
            rate=float(step["rate"]),
            passed=bool(step["passed"]),
            failed=str(step.get("failed") or ""),
            value=str(step.get("value") or ""),
        )
        for step in record["steps"]
    )
    return Search(
        expression=str(record.get("expression", "")),
        bounds=tuple(record.get("bounds") or ()),
        steps=steps,
        capacity_rps=record.get("capacity_rps"),
        failed_rps=record.get("failed_rps"),
        failed=str(record.get("failed") or ""),
        value=str(record.get("value") or ""),
        ended=str(record.get("ended", "")),
        generator_max_rps=record.get("generator_max_rps"),
        start_rps=record.get("start_rps"),
        tolerance=record.get("tolerance"),
    )


def probes(stored: Any) -> frozenset[int]:
    """The positions of the levels that probed beyond the capacity found: failed steps above
    it. When no step passed there is no capacity to probe beyond, so no level is
    left out: the run could not meet its bounds at the lowest rate it tried."""
    found = search(stored)
    if found is None or found.capacity_rps is None:
        return frozenset()
    return frozenset(
        step.level for step in found.steps if not step.passed and step.rate > found.capacity_rps
    )


def level_of(stored: Any, step: Step) -> Any | None:
    """The stored level a step measured (None when it is missing)."""
    return next((level for level in stored.levels if level.position == step.level), None)


_SIGN = {"<": "<", "<=": "≤", ">": ">", ">=": "≥"}
_UNIT = {"ms": " ms", "MB": " MB", "%": " %", "/s": " req/s"}


def _label(bound: Any) -> str:
    return bound.name.label.removesuffix(" response time")


def bound_text(source: str) -> str:
    """``p95 < 300 ms``, ``error rate < 1 %``: a stored bound as a sentence reads it."""
    try:
        bound = parse(source)
    except ExpressionError:
        return source
    return f"{_label(bound)} {_SIGN[bound.op]} {number(bound.limit)}{_UNIT.get(bound.unit, '')}"


def metric_of(source: str) -> str:
    """The figure a stored bound reads, as a sentence names it: ``p95``, ``error rate``."""
    try:
        return _label(parse(source))
    except ExpressionError:
        return source.split(" ", 1)[0]
