"""Rules over the measured process's resource series: memory growth, CPU, and their trend.

They read the series only when it can be judged (two readings or more, the process readable
to the end); otherwise the thresholds say why nothing was judged.
"""

from __future__ import annotations

from collections.abc import Callable

from perftest.store.read import StoredRun
from perftest.text import mb, number, percent, quantity

from .. import summaries
from ..login import under_test
from ..metrics import CPU_AVG, RSS_GROWTH, Metric
from .base import BOTTLENECK, KEY, RUN, Finding, bottleneck, endpoint_rule, key, worded

MEMORY_GROWTH = "bottleneck.memory_growth"
CPU_HIGH = "bottleneck.cpu_high"
RESOURCES = "key.resources"


#: What to do about memory that grew (``IN_PROCESS_MEMORY_ADVICE`` in-process).
MEMORY_ADVICE = (
    "Look for data kept between requests (module-level caches, growing lists); rerun "
    "with more iterations to see whether the growth levels off."
)
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


#: How a threshold rule words what reached its limit: ``describe(stored, summary, limit)`` ->
#: (title, evidence, recommendation; "" for the rule's own).
Describe = Callable[[StoredRun, summaries.ResourceSummary, float], tuple[str, str, str]]


def _reaching(
    rule_id: str, metric: Metric, limit_key: str, looks_for: str, recommendation: str = ""
) -> Callable[[Describe], Describe]:
    """Register a rule that fires when ``metric`` of the judged resource summary reaches its
    threshold ``limit_key``; the decorated function words the finding."""

    def check(describe: Describe, stored: StoredRun) -> list[Finding]:
        summary, limit = _judged_resources(stored), stored.thresholds[limit_key]
        if summary is None or metric.of(summary) < limit:
            return []
        return [bottleneck(rule_id, "process", *describe(stored, summary, limit))]

    return worded(endpoint_rule(rule_id, BOTTLENECK, RUN, looks_for, recommendation), check)


@_reaching(
    MEMORY_GROWTH,
    RSS_GROWTH,
    "MEMORY_GROWTH_MB",
    "RSS growth at or above its threshold",
    MEMORY_ADVICE,
)
def _memory_growth(
    stored: StoredRun, summary: summaries.ResourceSummary, limit: float
) -> tuple[str, str, str]:
    in_process = stored.row.mode == "in-process"
    return (
        f"RSS of {summaries.measured_process(stored)} grew {RSS_GROWTH.text(summary)} "
        f"during the run (threshold {number(limit)} MB)",
        f"min {mb(summary.rss_min_mb)}, max {mb(summary.rss_max_mb)}, trend "
        f"{summaries.rss_trend(summary)} over {summary.duration_s:.1f} s "
        f"({summary.samples} samples)" + (f". {IN_PROCESS_MEMORY}" if in_process else ""),
        IN_PROCESS_MEMORY_ADVICE if in_process else "",
    )


@_reaching(
    CPU_HIGH,
    CPU_AVG,
    "CPU_PERCENT_AVG",
    "average CPU at or above its threshold",
)
def _cpu_high(
    stored: StoredRun, summary: summaries.ResourceSummary, limit: float
) -> tuple[str, str, str]:
    cores = quantity(stored.row.resource_cpu_count, "core")
    title = f"CPU averaged {CPU_AVG.text(summary)} of {cores} (threshold {number(limit)}%)"
    readings = quantity(summary.samples - 1, "reading")
    spread = f"mean {CPU_AVG.text(summary)}, max {percent(summary.cpu_max_pct)}"
    return title, f"{spread} over {readings}", _cpu_advice(stored)


#: How many endpoints the CPU advice names, those that took most of the measured time first.
BUSIEST_SHOWN = 2


def _cpu_advice(stored: StoredRun) -> str:
    """Which endpoints to profile first (those under test that took most of the measured
    time), and in-process, that the CPU is the client's too."""
    ranked = sorted(under_test(stored.judged, stored), key=lambda e: e.sum_ns, reverse=True)
    names = " and ".join(e.label for e in ranked[:BUSIEST_SHOWN])
    first = (
        f"Profile {names} first, which took most of the measured time"
        if names
        else "Profile the endpoints"
    )
    if stored.row.mode == "in-process":
        return (
            f"{first}. In-process, this CPU includes perftest's own work as the client: "
            "measure over HTTP before blaming the app."
        )
    return f"{first} (cProfile, py-spy)."


@endpoint_rule(RESOURCES, KEY, RUN, "the trend of memory and CPU")
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
