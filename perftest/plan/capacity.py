"""``--capacity``: the plan of a capacity search, checked before anything runs.

``--capacity 'p95 < 300ms'`` asks for the highest open-model arrival rate of the plan's mix
that meets the expression (the threshold grammar, ``plan.expressions``), with the run's error
rate and dropped-request bounds besides: a rate whose answers are fast but mostly errors, or
that perftest could not even send, is no capacity. The search itself (``measure.capacity``)
replaces the load levels; this module says what it searches for and how far it may go, as
plain data the stored plan keeps (``CapacityPlan.from_dict`` reads it back; a stored plan
without it has no search).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from perftest import limits
from perftest.conf import DEFAULTS, ConfigError
from perftest.text import number

from .expressions import ENDPOINT, LEVEL, ExpressionError, Threshold, parse

#: Each step's length when ``--duration`` does not set it: long enough to judge (at least
#: ``STEP_MIN_S`` seconds and ``STEP_REQUESTS`` requests at the step's rate, so a p95 reads
#: ten answers above it), and at most ``STEP_MAX_S`` seconds, so a slow rate cannot stretch
#: a step (at 1 req/s a step holds 30 requests rather than 200).
STEP_MIN_S = 3.0
STEP_REQUESTS = 200
STEP_MAX_S = 30.0
#: Once a rate has failed, the steps that narrow the capacity down run this many times as
#: long: near the capacity the server is almost saturated and a few seconds' p95 swings with
#: every burst of the queue, so the rates being told apart need more answers each.
NARROWING_FACTOR = 2
#: The search ends once the highest passing and the lowest failing rate are this close
#: ((failing − passing) / passing).
TOLERANCE = 0.05
#: At most this many steps: twelve doublings from the start reach 2,048 times it.
MAX_STEPS = 12
#: Identities the steps share when ``--identities`` does not say (each logs in once; a step's
#: workers, whose number changes with its rate, take them in turn).
IDENTITIES = 10
#: The bounds every search adds to the expression, by metric: the run's own (its
#: ``THRESHOLDS`` and ``--threshold``) when it sets one, else the defaults'.
ADDED_BOUNDS = ("error_rate", "dropped")
_UNITS = {"time": "ms", "share": "%", "rate": "/s", "memory": "MB", "count": ""}


@dataclass(frozen=True)
class CapacityPlan:
    """What a capacity search looks for and how far it may go."""

    #: The expression as the user wrote it, e.g. ``p95 < 300ms``.
    expression: str
    #: Every bound a step must meet, in the order they are judged: the expression first.
    bounds: tuple[str, ...]
    #: Each step's seconds (``--duration``), or None: long enough to judge (``step_seconds``).
    step_s: float | None = None
    tolerance: float = TOLERANCE
    max_steps: int = MAX_STEPS
    #: The highest rate a step may ask for.
    max_rate: float = limits.RATE.high
    #: The largest worker pool of a step (``MAX_THREAD_WORKERS``, or Locust users).
    max_workers: int = 500

    def step_seconds(self, rate: float, narrowing: bool = False) -> float:
        """How long the step at ``rate`` runs; ``narrowing``: a rate has failed already and
        this step tells two rates near the capacity apart (``NARROWING_FACTOR``)."""
        if self.step_s is not None:
            return self.step_s
        factor = NARROWING_FACTOR if narrowing else 1
        return min(STEP_MAX_S, factor * max(STEP_MIN_S, STEP_REQUESTS / rate))

    @classmethod
    def from_dict(cls, data: Any) -> CapacityPlan | None:
        """The stored search, or None for a plan that had none."""
        if not isinstance(data, Mapping) or not data.get("expression"):
            return None
        known = {part.name for part in dataclasses.fields(cls)}
        fields = {key: value for key, value in data.items() if key in known}
        return cls(**{**fields, "bounds": tuple(fields.get("bounds") or ())})


def _written(threshold: Threshold) -> str:
    """A bound as a step reads it, without ``@*``: ``dropped < 10%``."""
    unit = _UNITS[threshold.name.kind]
    return f"{threshold.metric} {threshold.op} {number(threshold.limit)}{unit}"


def _expression(text: str) -> Threshold:
    """The user's expression: one a load level has a figure for, read on the whole step."""
    try:
        threshold = parse(text)
    except ExpressionError as error:
        raise ConfigError(f"--capacity: {error}") from None
    name = threshold.name
    if name.scope not in (ENDPOINT, LEVEL) or not name.per_level:
        raise ConfigError(
            f"--capacity judges each step as a load level, and a level has no {threshold.metric}: "
            "give p50…p99, mean or max, error_rate, success, rps, ok_rps or dropped."
        )
    scoped = threshold.endpoint is not None or threshold.role is not None
    if scoped or threshold.level is not None or threshold.other_levels or threshold.abort:
        raise ConfigError(
            f"--capacity {text!r}: a step is judged as a whole; write the expression without "
            "an {endpoint}, a role, an @level or abort, e.g. 'p95 < 300ms'."
        )
    return threshold


def _added(metric: str, thresholds: Sequence[str]) -> Threshold:
    """The run's own bound on ``metric`` (one naming no endpoint, role or single level), else
    the defaults'."""
    for texts in (thresholds, DEFAULTS["THRESHOLDS"]):
        for threshold in map(parse, texts):
            scoped = threshold.endpoint or threshold.role or threshold.level is not None
            if threshold.metric == metric and not scoped and not threshold.abort:
                return threshold
    raise AssertionError(f"the default THRESHOLDS bound {metric}")  # pragma: no cover


def capacity_plan(
    text: str, thresholds: Sequence[str], *, step_s: float | None, max_workers: int
) -> CapacityPlan:
    """``--capacity text`` as a plan; ``thresholds`` are the run's (already checked)."""
    expression = _expression(text)
    bounds = [expression.source]
    for metric in ADDED_BOUNDS:
        if metric != expression.metric:
            bounds.append(_written(_added(metric, thresholds)))
    # A step plans rate × seconds requests, which a level may hold at most so many of.
    longest = step_s if step_s is not None else STEP_MAX_S
    max_rate = min(limits.RATE.high, limits.LEVEL_REQUESTS.high / longest)
    return CapacityPlan(
        expression.source, tuple(bounds), step_s, max_rate=max_rate, max_workers=max_workers
    )
