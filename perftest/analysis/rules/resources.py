"""Rules over the measured process's resource series: memory growth, CPU, and their trend.

They read the series only when it can be judged (two readings or more, the process readable
to the end); otherwise the thresholds say why nothing was judged.
"""

from __future__ import annotations

from functools import partial

from perftest.store.read import StoredRun
from perftest.text import mb, number, percent, quantity

from .. import summaries
from ..metrics import CPU_AVG, RSS_GROWTH, Metric
from .base import BOTTLENECK, KEY, RUN, Finding, bottleneck, key, rule

MEMORY_GROWTH = "bottleneck.memory_growth"
CPU_HIGH = "bottleneck.cpu_high"
RESOURCES = "key.resources"

_rule = partial(rule, family="endpoints")


#: In-process, perftest's own figures grow in the same process as the app's.
IN_PROCESS_MEMORY = (
    "In-process, this process is the app and perftest together: the growth includes "
    "perftest's own figures (latency histograms, counters, error examples), not the app's alone"
)
IN_PROCESS_MEMORY_ADVICE = (
    "Measure over HTTP against a separate server (--base-url) to see the app's own growth; "
    "if it grows there too, look for data kept between requests (module-level caches, "
    "growing lists)."
)


def _judged_resources(stored: StoredRun) -> summaries.ResourceSummary | None:
    """The resource summary when it can be judged (two readings or more), else None."""
    summary = summaries.resources(stored)
    return None if summaries.resource_gap(stored, summary) else summary


def _reached(
    stored: StoredRun, metric: Metric, limit_key: str
) -> tuple[summaries.ResourceSummary | None, float]:
    """The judged resource summary when ``metric`` reached its limit (else None), and the limit."""
    summary, limit = _judged_resources(stored), stored.thresholds[limit_key]
    return (summary if summary is not None and metric.of(summary) >= limit else None), limit


@_rule(
    MEMORY_GROWTH,
    BOTTLENECK,
    RUN,
    "RSS growth at or above its threshold",
    "Look for data kept between requests (module-level caches, growing lists); rerun "
    "with more iterations to see whether the growth levels off.",
)
def _memory_growth(stored: StoredRun) -> list[Finding]:
    summary, limit = _reached(stored, RSS_GROWTH, "MEMORY_GROWTH_MB")
    if summary is None:
        return []
    in_process = stored.row.mode == "in-process"
    return [
        bottleneck(
            MEMORY_GROWTH,
            "process",
            f"RSS of {summaries.measured_process(stored)} grew {RSS_GROWTH.text(summary)} "
            f"during the run (threshold {number(limit)} MB)",
            f"min {mb(summary.rss_min_mb)}, max {mb(summary.rss_max_mb)}, trend "
            f"{summaries.rss_trend(summary)} over {summary.duration_s:.1f} s "
            f"({summary.samples} samples)" + (f". {IN_PROCESS_MEMORY}" if in_process else ""),
            IN_PROCESS_MEMORY_ADVICE if in_process else "",
        )
    ]


@_rule(
    CPU_HIGH,
    BOTTLENECK,
    RUN,
    "average CPU at or above its threshold",
    "Profile the busiest endpoints (cProfile, py-spy); in in-process mode the figure "
    "includes the client's own work.",
)
def _cpu_high(stored: StoredRun) -> list[Finding]:
    summary, limit = _reached(stored, CPU_AVG, "CPU_PERCENT_AVG")
    if summary is None:
        return []
    cpu_count = stored.row.resource_cpu_count
    return [
        bottleneck(
            CPU_HIGH,
            "process",
            f"CPU averaged {CPU_AVG.text(summary)} of {quantity(cpu_count, 'core')} "
            f"(threshold {number(limit)}%)",
            f"mean {CPU_AVG.text(summary)}, max {percent(summary.cpu_max_pct)} "
            f"over {quantity(summary.samples - 1, 'reading')}",
        )
    ]


@_rule(RESOURCES, KEY, RUN, "the trend of memory and CPU")
def _resource_trend(stored: StoredRun) -> list[Finding]:
    summary = _judged_resources(stored)
    if summary is None:
        return []
    long_enough = summary.duration_s >= summaries.TREND_MIN_S
    trend = f" ({summaries.rss_trend(summary)})" if long_enough else ""
    return [
        key(
            RESOURCES,
            "process",
            f"RSS changed by {summary.rss_growth_mb:+.1f} MB{trend} over "
            f"{summary.duration_s:.1f} s; "
            f"CPU averaged {CPU_AVG.text(summary)} of "
            f"{quantity(stored.row.resource_cpu_count, 'core')}",
            f"RSS {mb(summary.rss_min_mb)} to {mb(summary.rss_max_mb)}, "
            f"CPU max {percent(summary.cpu_max_pct)}, {summary.samples} samples",
        )
    ]
