"""``--capacity``'s search as pure logic: which arrival rate to try next, from the steps so far.

Running a step is someone else's job (``measure.levels``, on the plan's engine) and so is
judging it (``measure.capacity_steps``); ``Search`` only proposes the next rate and, at the
end, says what was found, so its every path can be proven with scripted outcomes.

It starts from a measured rate (what one worker sustained in the sequential pass), doubles
it while every bound holds, and once a step fails, halves the gap between the highest
passing and the lowest failing rate until they are within the tolerance. When the very first
step fails (the sequential pass ran on a quieter machine than the steps do, or the bound is
tight), it halves the rate until one passes, then bisects the same way. It ends:

- ``bisected``: the two rates are within the tolerance (the capacity is the passing one);
- ``bound``: a bound failed but the tolerance was not reached: no step passed down to
  ``MIN_RATE`` (there is no capacity under these bounds: ``capacity_rps`` is None), or the
  steps ran out while halving the gap;
- ``generator``: perftest itself could not send a step's rate; the server's capacity is
  above the highest rate that passed, and no step bisects against perftest's own limit;
- ``max_rate``: every step passed up to the plan's highest rate or its last step;
- ``interrupted``: Ctrl-C, with the steps measured so far.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from perftest.plan.capacity import CapacityPlan

BISECTED, BOUND, GENERATOR, MAX_RATE, INTERRUPTED = (
    "bisected",
    "bound",
    "generator",
    "max_rate",
    "interrupted",
)


#: The lowest rate a search tries (and starts from): below it, it ends without a capacity.
MIN_RATE = 1.0


def rounded(rate: float) -> float:
    """A rate to three significant digits (42.5, 168, 1,230 req/s): finer steps measure noise."""
    return float(f"{rate:.3g}")


@dataclass(frozen=True)
class Step:
    """One step's outcome, as judged from its level."""

    rate: float
    passed: bool
    #: The first bound that failed and its measured value ("" when every bound held).
    failed: str = ""
    value: str = ""
    #: Why perftest, not the server, set the step's pace ("" when it sent the rate asked).
    generator: str = ""
    #: Requests per second actually sent, and the p95 of the answers as expected.
    sent_rps: float = 0.0
    p95_ms: float = 0.0
    #: The step's index among the run's levels.
    level: int = 0


class Search:
    """Proposes each step's rate (``next_rate``), is told each outcome (``record``)."""

    def __init__(self, plan: CapacityPlan, start_rps: float):
        self.plan = plan
        self.start_rps = max(MIN_RATE, float(round(start_rps)))
        self.steps: list[Step] = []
        self.ended = ""

    def _server(self) -> list[Step]:
        """The steps that judged the server: those perftest sent as asked."""
        return [step for step in self.steps if not step.generator]

    @property
    def passing(self) -> Step | None:
        """The highest rate where every bound held."""
        return max((s for s in self._server() if s.passed), key=lambda s: s.rate, default=None)

    @property
    def failing(self) -> Step | None:
        """The lowest rate where a bound failed."""
        return min((s for s in self._server() if not s.passed), key=lambda s: s.rate, default=None)

    def next_rate(self) -> float | None:
        """The next step's rate, or None once the search has ended (``ended`` says why)."""
        if self.ended:
            return None
        passing, failing = self.passing, self.failing
        rate = self._proposal(passing, failing)
        if rate is not None and len(self.steps) >= self.plan.max_steps:
            self.ended, rate = BOUND if failing else MAX_RATE, None
        return rate

    def _proposal(self, passing: Step | None, failing: Step | None) -> float | None:
        if not self.steps:
            return min(self.start_rps, self.plan.max_rate)
        if failing is None:  # rising: every step so far passed
            assert passing is not None
            if passing.rate >= self.plan.max_rate:
                self.ended = MAX_RATE
                return None
            return min(rounded(passing.rate * 2), self.plan.max_rate)
        if passing is None:  # every step so far failed: try half the lowest
            lower = rounded(failing.rate / 2)
            if lower < MIN_RATE:
                self.ended = BOUND
                return None
            return lower
        middle = rounded((passing.rate + failing.rate) / 2)
        close = (failing.rate - passing.rate) / passing.rate <= self.plan.tolerance
        if close or not passing.rate < middle < failing.rate:
            self.ended = BISECTED
            return None
        return middle

    def record(self, step: Step) -> None:
        """A step's outcome; a step perftest could not send ends the search."""
        self.steps.append(step)
        if step.generator:
            self.ended = GENERATOR

    def interrupt(self) -> None:
        self.ended = INTERRUPTED

    def to_dict(self) -> dict[str, Any]:
        """The search as ``Run.capacity`` stores it."""
        passing, failing = self.passing, self.failing
        limited = self.ended == GENERATOR
        return {
            "expression": self.plan.expression,
            "bounds": list(self.plan.bounds),
            "steps": [
                {
                    "level": step.level,
                    "rate": step.rate,
                    "passed": step.passed,
                    "failed": step.failed,
                    "value": step.value,
                }
                for step in self.steps
            ],
            "capacity_rps": passing.rate if passing else None,
            "failed_rps": failing.rate if failing else None,
            "failed": failing.failed if failing else "",
            "value": failing.value if failing else "",
            "ended": self.ended,
            "generator_max_rps": round(max(s.sent_rps for s in self.steps), 1) if limited else None,
            "start_rps": self.start_rps,
            "tolerance": self.plan.tolerance,
        }
