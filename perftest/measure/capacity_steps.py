"""A capacity search's steps as levels: where the search starts, how large each step's worker
pool is, and what a measured step says (``measure.capacity.Step``).

A step is an ordinary open level; its bounds are read from its ``LevelResult`` as a stored
level's thresholds read them: latency from the answers as expected, the error rate and the
rates from its counts (``plan.expressions.level_reading``, which the abort rules read too),
the dropped share of its schedule; each is judged by ``Threshold.holds``.

A step also says whether perftest, not the server, set its pace: requests sent late although
a worker was free and waiting (perftest's own process was slow), by a lag of the order of the
latency judged (on a busy machine a few sends lag by milliseconds while the server's queue
adds hundreds: that step measured the server); or fewer requests sent than asked while the
pool had room for the latency the server answered with (or the pool was at its maximum).
Such a step measures the generator, and the search stops there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from perftest.plan.capacity import CapacityPlan
from perftest.plan.expressions import Threshold, level_reading
from perftest.plan.model import Mix
from perftest.text import ms, number, percent

from .capacity import Step
from .endpoint_result import EndpointResult
from .result import LevelResult

#: A pool this many times the requests in flight at the step's rate and latency (Little's
#: law: in flight = rate × latency), so that the pool is never what limits a step.
POOL_HEADROOM = 2
MIN_POOL = 4
#: A step's sends lagged behind perftest's own process when more than this share of its
#: requests went out late although a worker was free and waiting for them, by a lag of at
#: least half its p95.
LATE_WHILE_IDLE_SHARE = 0.05
#: A step sent what was asked when it sent at least this share of the asked rate.
SENT_SHARE = 0.9
_PERCENTILES = {"p50": 50, "p90": 90, "p95": 95, "p99": 99}


def start_rate(rows: Sequence[EndpointResult], mix: Mix) -> float:
    """The rate one worker sustains on the mix: 1 / the mean latency of the sequential pass's
    answers, each endpoint weighted as the mix sends it (1 req/s when nothing answered)."""
    weighted = total = 0.0
    for name, weight in mix.weights:
        answered = [row.latency for row in rows if row.name == name and row.latency.count]
        if answered:
            mean = sum(s.sum_ns for s in answered) / sum(s.count for s in answered) / 1e6
            weighted, total = weighted + weight * mean, total + weight
    return 1000 * total / weighted if weighted else 1.0


def start_p95_ms(rows: Sequence[EndpointResult], mix: Mix) -> float:
    """The slowest p95 among the mix's endpoints in the sequential pass (0 when none answered)."""
    return max(
        (row.latency.percentile_ms(95) for row in rows if row.name in mix.names),
        default=0.0,
    )


def pool_size(
    rate: float, bounds: Sequence[Threshold], observed_p95_ms: float, plan: CapacityPlan
) -> int:
    """Workers for a step at ``rate``: room for twice the requests in flight at the latency a
    bound allows (or the latest p95 seen, when higher), at least ``MIN_POOL``, at most the
    plan's maximum."""
    allowed = [b.limit for b in bounds if b.name.kind == "time" and b.op in ("<", "<=")]
    latency_s = max([observed_p95_ms, *allowed]) / 1000
    return max(MIN_POOL, min(plan.max_workers, math.ceil(rate * latency_s * POOL_HEADROOM)))


def reading(threshold: Threshold, level: LevelResult) -> float | None:
    """``threshold``'s figure on a step, or None when the step has none (no answer as
    expected for a latency, no request for a rate)."""
    overall, metric = level.overall, threshold.metric
    if metric == "dropped":
        scheduled = overall.requests + level.dropped
        return 100 * level.dropped / scheduled if scheduled else None
    if metric == "failed_workers":
        return 100 * len(level.worker_failures) / level.concurrency
    if threshold.name.kind == "time":
        latency = overall.latency
        if not latency.count:
            return None
        if metric in _PERCENTILES:
            return latency.percentile_ms(_PERCENTILES[metric])
        return {"min": latency.min_ms, "max": latency.max_ms, "mean": latency.mean_ms}[metric]
    if not overall.requests:
        return None
    return level_reading(metric, overall.requests, overall.ok, level.window_ns / 1e9)


def _text(threshold: Threshold, value: float | None) -> str:
    if value is None:
        return "not measured (no answer as expected)"
    kind = threshold.name.kind
    if kind == "time":
        return ms(value)
    if kind == "rate":
        return f"{number(round(value, 1))} req/s"
    return percent(value)


def sent_rps(level: LevelResult) -> float:
    """Requests sent per second of the step's schedule (a slot not sent by its end is dropped)."""
    return level.overall.requests / level.duration_s if level.duration_s else 0.0


def _generator(level: LevelResult, rate: float, max_workers: int) -> str:
    """Why perftest, not the server, set the step's pace; "" when it sent as asked."""
    requests, sent = level.overall.requests, sent_rps(level)
    p95_ms, lag_ms = level.overall.latency.percentile_ms(95), level.max_lateness_ns / 1e6
    if level.late_while_idle > LATE_WHILE_IDLE_SHARE * max(requests, 1) and lag_ms >= p95_ms / 2:
        return (
            f"{level.late_while_idle} of {requests} requests were sent late although a worker "
            f"was free and waiting for them, up to {ms(lag_ms)} (p95 {ms(p95_ms)}): "
            "perftest's own process was too slow"
        )
    if sent >= SENT_SHARE * rate:
        return ""
    pool = level.concurrency
    if pool >= max_workers:
        return f"sent {sent:.1f} of {number(rate)} req/s with a step's most workers ({pool})"
    if level.overall.latency.count and rate * p95_ms / 1000 <= pool / POOL_HEADROOM:
        return (
            f"sent {sent:.1f} of {number(rate)} req/s although the {pool} workers had room for "
            f"the server's answers (p95 {ms(p95_ms)})"
        )
    return ""


def judge(
    level: LevelResult, bounds: Sequence[Threshold], rate: float, index: int, max_workers: int
) -> Step:
    """The step measured as ``level`` (the run's level ``index``): its first failing bound
    with the value read, and whether perftest could send its rate."""
    failed = value = ""
    for bound in bounds:
        figure = reading(bound, level)
        if figure is None or not bound.holds(figure):
            failed, value = bound.source, _text(bound, figure)
            break
    return Step(
        rate=rate,
        passed=not failed,
        failed=failed,
        value=value,
        generator=_generator(level, rate, max_workers),
        sent_rps=sent_rps(level),
        p95_ms=level.overall.latency.percentile_ms(95),
        level=index,
    )
