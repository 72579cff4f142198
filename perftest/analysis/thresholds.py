"""Pass/fail checks against the configured limits, read as plain sentences like k6's.

A check without data is neither passed nor failed: it is stored with ``passed=None`` and the
reason, so a run where nothing was measured can never look green.
"""

from __future__ import annotations

from perftest import models
from perftest.conf import DEFAULTS
from perftest.reports.formatting import mb, ms, number, percent, quantity, unmeasured

from . import finding
from .resources import ResourceSummary, summarize

RESPONSE_TIME = "threshold.response_time_p95"
MEMORY_GROWTH = "threshold.memory_growth"
CPU_AVG = "threshold.cpu_avg"


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


def evaluate(run: models.Run) -> list[models.Finding]:
    """One check per sequentially measured endpoint, then memory growth and CPU average."""
    limit = limits(run)
    checks = [
        _response_time(endpoint, limit["RESPONSE_TIME_P95_MS"])
        for endpoint in run.endpoints.filter(phase="sequential")
    ]
    summary = summarize(run.resource_samples.all(), run.resource_cpu_count)
    gap = resource_gap(run, summary)
    checks.append(_memory(summary, gap, limit["MEMORY_GROWTH_MB"]))
    checks.append(_cpu(summary, gap, limit["CPU_PERCENT_AVG"], run.resource_cpu_count))
    return checks
