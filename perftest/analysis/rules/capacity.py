"""The capacity a ``--capacity`` search found, as the run's headline: the highest arrival rate
of the plan's mix that met every bound, the first rate that did not and why (the first
candidate to give way there, ``analysis.candidates``), or the most this generator could send.

Registered first among the key findings, since it is the answer the run was made for. A
capacity is only ever claimed from a passing step, and every step is judged on all the
search's bounds (its expression, the error rate and the dropped share), so rates answered by a
throttle or a failing server fail their step and name the bound they broke.
"""

from __future__ import annotations

from typing import Any

from perftest.store.read import StoredRun
from perftest.text import number

from ..candidates import rank
from ..capacity import Search, bound_text, level_of, metric_of, search
from ..metrics import ERROR_RATE, OK_THROUGHPUT, P95
from .base import KEY, RUN, Finding, endpoint_rule, key

CAPACITY = "key.capacity"

#: How each way the search can end reads.
ENDED = {
    "bisected": "bisected between the highest passing and the lowest failing rate",
    "bound": "stopped at the first rate that failed a bound",
    "generator": "stopped at the most this generator could send",
    "max_rate": "reached the highest rate it was allowed to try",
    "interrupted": "was interrupted before it ended",
}


def _rate(value: float) -> str:
    return f"{number(round(value, 1))} req/s"


def _why(stored: StoredRun, found: Search) -> str:
    """``: the 2 server workers were busy 99 % of the time`` at the failed step's level."""
    failed = found.failed_step
    level = level_of(stored, failed) if failed else None
    first = rank(stored, level).first if level is not None else None
    return f": {first.why}" if first else ""


def _failure(found: Search, bound_named: bool = False) -> str:
    """``p95 was 912 ms`` or ``error rate was 3.2 %, beyond its bound error rate < 1 %`` (the
    bound is named when it is not the expression, unless the sentence named it already)."""
    was = f"{metric_of(found.failed)} was {found.value}"
    if found.failed and found.failed != found.expression and not bound_named:
        was += f", beyond its bound {bound_text(found.failed)}"
    return was


def _headline(stored: StoredRun, found: Search) -> str:
    meets = f"of this mix with {bound_text(found.expression)}"
    if found.ended == "generator":
        most = found.generator_most or 0.0
        cores = stored.row.resource_cpu_count
        return (
            f"Capacity: above {_rate(most)}, the most this generator could send: measure with "
            f"--engine locust --processes {cores} (one per core of this {cores}-core machine), "
            "or from another machine"
        )
    if found.capacity_rps is None:
        lowest = found.failed_step
        at = _rate(lowest.rate) if lowest else "its lowest rate"
        return (
            f"Capacity: none found {meets}: even the lowest rate tried, {at}, failed "
            f"{bound_text(found.failed)} ({_failure(found, True)}{_why(stored, found)})"
        )
    if found.failed_rps is None:
        ended = ENDED.get(found.ended, found.ended)
        return (
            f"Capacity: at least {_rate(found.capacity_rps)} {meets}: every step met the "
            f"bounds up to the highest rate tried (the search {ended})"
        )
    return (
        f"Capacity: {_rate(found.capacity_rps)} {meets} (at {_rate(found.failed_rps)} "
        f"{_failure(found)}{_why(stored, found)})"
    )


def _step_text(step: Any) -> str:
    outcome = "passed" if step.passed else f"failed {bound_text(step.failed)} ({step.value})"
    return f"{_rate(step.rate)} {outcome}"


def _evidence(stored: StoredRun, found: Search) -> str:
    lines = [
        "Bounds: " + ", ".join(bound_text(bound) for bound in found.bounds) + ".",
        "Steps: " + "; ".join(_step_text(step) for step in found.steps) + ".",
        f"The search {ENDED.get(found.ended, found.ended)}.",
    ]
    if not any(bound.startswith("error_rate") for bound in found.bounds):
        lines.append("No error-rate bound: answers not as expected did not fail a step.")
    best = found.capacity_step
    level = level_of(stored, best) if best else None
    if level is not None:
        lines.append(
            f"At {_rate(best.rate)}: {OK_THROUGHPUT.text(level)} answered as expected, "
            f"{P95.phrase(level)}, error rate {ERROR_RATE.text(level)}."
        )
    return "\n".join(lines)


# Registered with the run's own findings (the "endpoints" family reads the run as a whole), so
# that it is the first key finding of a run that searched for its capacity.
@endpoint_rule(CAPACITY, KEY, RUN, "the capacity a --capacity search found")
def _capacity(stored: StoredRun) -> list[Finding]:
    found = search(stored)
    if found is None:
        return []
    return [key(CAPACITY, "capacity", _headline(stored, found), _evidence(stored, found))]
