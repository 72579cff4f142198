"""Pass/fail checks against the configured limits, read as plain sentences like k6's.

A check without data is neither passed nor failed: it is stored with ``passed=None`` and the
reason, so a run where nothing was measured can never look green.
"""

from __future__ import annotations

import math

from perftest import models
from perftest.conf import DEFAULTS
from perftest.formatting import (
    error_groups,
    mb,
    ms,
    number,
    percent,
    quantity,
    unmeasured,
)

from . import finding
from .resources import ResourceSummary, summarize

RESPONSE_TIME = "threshold.response_time_p95"
MEMORY_GROWTH = "threshold.memory_growth"
CPU_AVG = "threshold.cpu_avg"
CONCURRENCY_ALL_OK = "threshold.concurrency_all_ok"
CONCURRENCY_MOSTLY_OK = "threshold.concurrency_mostly_ok"


def limits(run: models.Run) -> dict[str, float]:
    """The run's limits as configured when it ran, defaults filling any key it lacks."""
    configured = run.config.get("thresholds") or {}
    return {**DEFAULTS["THRESHOLDS"], **configured}


def resource_gap(run: models.Run, summary: ResourceSummary | None) -> str:
    """Why resource figures cannot be judged ("" when they can): growth needs two readings."""
    if summary is not None and summary.samples >= 2:
        return ""
    return run.resource_unavailable or "fewer than 2 samples"


def _check(rule: str, subject: str, title: str, target: str, **outcome: object) -> models.Finding:
    return finding(
        kind=models.Finding.Kind.THRESHOLD,
        rule=rule,
        subject=subject,
        title=title,
        target=target,
        **outcome,
    )


def _not_evaluated(rule: str, subject: str, title: str, target: str, reason: str) -> models.Finding:
    return _check(rule, subject, title, target, actual="not measured", passed=None, evidence=reason)


def _response_time(endpoint: models.EndpointResult, limit: float) -> models.Finding:
    title = f"p95 response time of {endpoint.name} < {number(limit)} ms"
    target = f"< {number(limit)} ms"
    reason = unmeasured(endpoint)
    if reason:
        return _not_evaluated(RESPONSE_TIME, endpoint.name, title, target, reason)
    return _check(
        RESPONSE_TIME,
        endpoint.name,
        title,
        target,
        actual=ms(endpoint.p95_ms),
        passed=endpoint.p95_ms < limit,
        evidence=(
            f"p50 {ms(endpoint.p50_ms)}, p95 {ms(endpoint.p95_ms)}, p99 {ms(endpoint.p99_ms)} "
            f"over {endpoint.requests} requests"
        ),
    )


def _memory(summary: ResourceSummary | None, gap: str, limit: float) -> models.Finding:
    title = f"RSS growth of the measured process < {number(limit)} MB"
    target = f"< {number(limit)} MB"
    if gap:
        return _not_evaluated(MEMORY_GROWTH, "process", title, target, gap)
    return _check(
        MEMORY_GROWTH,
        "process",
        title,
        target,
        actual=mb(summary.rss_growth_mb),
        passed=summary.rss_growth_mb < limit,
        evidence=(
            f"RSS last minus first sample over {summary.duration_s:.1f} s "
            f"({summary.samples} samples); peak {mb(summary.rss_max_mb)}"
        ),
    )


def _cpu(summary: ResourceSummary | None, gap: str, limit: float, cpu_count: int) -> models.Finding:
    title = (
        f"Average CPU of the measured process < {number(limit)}% of all "
        f"{quantity(cpu_count, 'core')}"
    )
    target = f"< {number(limit)}%"
    if gap:
        return _not_evaluated(CPU_AVG, "process", title, target, gap)
    return _check(
        CPU_AVG,
        "process",
        title,
        target,
        actual=percent(summary.cpu_mean_pct),
        passed=summary.cpu_mean_pct < limit,
        evidence=(
            f"mean {percent(summary.cpu_mean_pct)}, max {percent(summary.cpu_max_pct)} of "
            f"{quantity(cpu_count, 'core')} over {quantity(summary.samples - 1, 'reading')} "
            "(the first reading, always 0, is left out)"
        ),
    )


def _share(ok: int, requests: int) -> str:
    """ok/requests in percent, rounded down: 899 of 1000 reads 89.9%, never a passing 90.0%."""
    return percent(math.floor(1000 * ok / requests) / 10)


def _success(
    rule: str, levels: list[models.LoadLevel], concurrency: int, rate: float
) -> list[models.Finding]:
    """One check per closed level of exactly ``concurrency`` workers: ok/requests ≥ ``rate``."""
    everything = rate >= 100
    subject = f"{concurrency} concurrent"
    title = f"{subject}: " + (
        "all requests succeed" if everything else f"≥ {number(rate)}% succeed"
    )
    target = "100%" if everything else f"≥ {number(rate)}%"
    matching = [
        level
        for level in levels
        if level.model == models.LoadLevel.Model.CLOSED and level.concurrency == concurrency
    ]
    if not matching:
        reason = f"no {concurrency}-concurrent level was run"
        return [
            _check(
                rule, subject, title, target, actual="not evaluated", passed=None, evidence=reason
            )
        ]
    checks = []
    for level in matching:
        if not level.requests:
            reason = f"the {concurrency}-concurrent level completed no request"
            checks.append(
                _check(
                    rule,
                    subject,
                    title,
                    target,
                    actual="not evaluated",
                    passed=None,
                    evidence=reason,
                )
            )
            continue
        checks.append(
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
        )
    return checks


def concurrency(run: models.Run, levels: list[models.LoadLevel]) -> list[models.Finding]:
    """The original report's two concurrency checks, when the run ran or planned load levels.

    A run that only measured sequentially gets neither: they would say nothing about it.
    """
    load = run.config.get("load") or {}
    planned = load.get("concurrency") if isinstance(load, dict) else None
    if not levels and not planned and not run.config.get("concurrency"):
        return []
    limit = limits(run)
    return [
        *_success(CONCURRENCY_ALL_OK, levels, int(limit["CONCURRENCY_ALL_OK"]), 100.0),
        *_success(
            CONCURRENCY_MOSTLY_OK,
            levels,
            int(limit["CONCURRENCY_MOSTLY_OK"]),
            float(limit["CONCURRENCY_MOSTLY_OK_RATE"]),
        ),
    ]


def evaluate(run: models.Run) -> list[models.Finding]:
    """One check per sequentially measured endpoint, memory growth, CPU average, then the
    concurrency checks when the run has load levels."""
    limit = limits(run)
    checks = [
        _response_time(endpoint, limit["RESPONSE_TIME_P95_MS"])
        for endpoint in run.endpoints.filter(phase="sequential")
    ]
    summary = summarize(run.resource_samples.all(), run.resource_cpu_count)
    gap = resource_gap(run, summary)
    checks.append(_memory(summary, gap, limit["MEMORY_GROWTH_MB"]))
    checks.append(_cpu(summary, gap, limit["CPU_PERCENT_AVG"], run.resource_cpu_count))
    return checks + concurrency(run, list(run.levels.all()))
