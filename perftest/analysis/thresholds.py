"""Pass/fail checks against the configured limits, read as plain sentences like k6's.

A check without data is neither passed nor failed: it is stored with ``passed=None`` and the
reason, so a run where nothing was measured can never look green.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from perftest.store.read import LevelModel, StoredRun, unjudgeable
from perftest.text import error_groups, mb, number, percent, quantity

from . import metrics, summaries
from .metrics import P50, P95, P99, RSS_GROWTH, Metric, phrases
from .rules.base import THRESHOLD, Finding
from .summaries import ResourceSummary

RESPONSE_TIME = "threshold.response_time_p95"
MEMORY_GROWTH = "threshold.memory_growth"
CPU_AVG = "threshold.cpu_avg"
CONCURRENCY_ALL_OK = "threshold.concurrency_all_ok"
CONCURRENCY_MOSTLY_OK = "threshold.concurrency_mostly_ok"


def _check(rule: str, subject: str, title: str, target: str, **outcome: Any) -> Finding:
    return Finding(THRESHOLD, rule, subject, title, target=target, **outcome)


def _not_evaluated(rule: str, subject: str, title: str, target: str, reason: str) -> Finding:
    return _check(rule, subject, title, target, actual="not measured", passed=None, evidence=reason)


def _below(
    rule: str,
    subject: str,
    title: str,
    target: str,
    reading: tuple[Metric, Any, float],
    gap: str,
    evidence: str,
) -> Finding:
    """Passed when the figure (metric, figures, limit) stays below its limit; not evaluated,
    with the reason, when there is a gap instead of figures."""
    if gap:
        return _not_evaluated(rule, subject, title, target, gap)
    metric, figures, limit = reading
    passed = metric.of(figures) < limit
    return _check(
        rule, subject, title, target, actual=metric.text(figures), passed=passed, evidence=evidence
    )


def _response_time(endpoint: Any, limit: float) -> Finding:
    reason = unjudgeable(endpoint)
    return _below(
        RESPONSE_TIME,
        endpoint.name,
        f"p95 response time of {endpoint.name} < {number(limit)} ms",
        f"< {number(limit)} ms",
        (P95, endpoint, limit),
        reason,
        "" if reason else f"{phrases(endpoint, P50, P95, P99)} over {endpoint.requests} requests",
    )


def _memory(summary: ResourceSummary | None, gap: str, limit: float) -> Finding:
    return _below(
        MEMORY_GROWTH,
        "process",
        f"RSS growth of the measured process < {number(limit)} MB",
        f"< {number(limit)} MB",
        (RSS_GROWTH, summary, limit),
        gap,
        ""
        if gap
        else (
            f"RSS last minus first sample over {summary.duration_s:.1f} s "
            f"({summary.samples} samples); peak {mb(summary.rss_max_mb)}"
        ),
    )


def _cpu(summary: ResourceSummary | None, gap: str, limit: float, cpu_count: int) -> Finding:
    cores = quantity(cpu_count, "core")
    return _below(
        CPU_AVG,
        "process",
        f"Average CPU of the measured process < {number(limit)}% of all {cores}",
        f"< {number(limit)}%",
        (metrics.CPU_AVG, summary, limit),
        gap,
        ""
        if gap
        else (
            f"mean {metrics.CPU_AVG.text(summary)}, max {percent(summary.cpu_max_pct)} of "
            f"{cores} over {quantity(summary.samples - 1, 'reading')} "
            "(the first reading, always 0, is left out)"
        ),
    )


def _share(ok: int, requests: int) -> str:
    """ok/requests in percent, rounded down: 899 of 1000 reads 89.9%, never a passing 90.0%."""
    return percent(math.floor(1000 * ok / requests) / 10)


def _success(rule: str, levels: Sequence[Any], concurrency: int, rate: float) -> list[Finding]:
    """One check per closed level of exactly ``concurrency`` workers: ok/requests ≥ ``rate``."""
    everything = rate >= 100
    subject = f"{concurrency} concurrent"
    title = f"{subject}: " + (
        "all requests succeed" if everything else f"≥ {number(rate)}% succeed"
    )
    target = "100%" if everything else f"≥ {number(rate)}%"

    def unevaluated(reason: str) -> Finding:
        return _check(
            rule, subject, title, target, actual="not evaluated", passed=None, evidence=reason
        )

    matching = [
        level
        for level in levels
        if level.model == LevelModel.CLOSED and level.concurrency == concurrency
    ]
    if not matching:
        return [unevaluated(f"no {concurrency}-concurrent level was run")]
    return [
        _check(
            rule,
            subject,
            title,
            target,
            actual=_share(level.ok, level.requests),
            passed=level.ok * 100 >= rate * level.requests,
            evidence=(
                f"{level.ok} of {level.requests} requests answered as expected over "
                f"{level.transport}; errors: {error_groups(level.errors) or 'none'}"
            ),
        )
        if level.requests
        else unevaluated(f"the {concurrency}-concurrent level completed no request")
        for level in matching
    ]


def concurrency(stored: StoredRun) -> list[Finding]:
    """The original report's two concurrency checks, when the run ran or planned load levels.

    A run that only measured sequentially gets neither: they would say nothing about it.
    """
    if not stored.levels and not stored.plan.load.concurrency:
        return []
    limit = stored.thresholds
    return [
        *_success(CONCURRENCY_ALL_OK, stored.levels, int(limit["CONCURRENCY_ALL_OK"]), 100.0),
        *_success(
            CONCURRENCY_MOSTLY_OK,
            stored.levels,
            int(limit["CONCURRENCY_MOSTLY_OK"]),
            float(limit["CONCURRENCY_MOSTLY_OK_RATE"]),
        ),
    ]


def evaluate(stored: StoredRun) -> list[Finding]:
    """One check per sequentially measured endpoint, memory growth, CPU average, then the
    concurrency checks when the run has load levels."""
    limit = stored.thresholds
    checks = [
        _response_time(endpoint, limit["RESPONSE_TIME_P95_MS"]) for endpoint in stored.sequential
    ]
    summary = summaries.resources(stored)
    gap = summaries.resource_gap(stored, summary)
    checks.append(_memory(summary, gap, limit["MEMORY_GROWTH_MB"]))
    checks.append(_cpu(summary, gap, limit["CPU_PERCENT_AVG"], stored.row.resource_cpu_count))
    return checks + concurrency(stored)
