"""The resource series of a stored run, reduced to the few figures a reader compares.

CPU is reported as percent of the whole machine: the sampler stores percent of one core
summed over processes, which reads as "350%" on a four-core box and misleads. psutil's first
``cpu_percent`` reading is always 0 (it has nothing to compare with), so the CPU figures skip
it whenever there is a later reading.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from perftest import models
from perftest.formatting import MB


@dataclass(frozen=True)
class ResourceSummary:
    samples: int
    duration_s: float
    rss_min_mb: float
    rss_mean_mb: float
    rss_max_mb: float
    rss_growth_mb: float
    rss_slope_mb_per_min: float
    cpu_mean_pct: float
    cpu_max_pct: float
    threads_max: int
    open_files_max: int


@dataclass(frozen=True)
class ProcessSummary:
    """One process of a sampled tree (gunicorn master or a worker)."""

    pid: int
    name: str
    samples: int
    rss_max_mb: float
    cpu_mean_pct: float


def per_process(samples: Sequence[models.ResourceSample], cpu_count: int) -> list[ProcessSummary]:
    """Each process of the tree, in pid order; empty when only one process was sampled.

    A process's first reading is left out of its CPU mean for the same reason as above.
    """
    readings: dict[int, list[dict]] = {}
    for sample in sorted(samples, key=lambda s: s.offset_s):
        for process in sample.processes:
            readings.setdefault(process["pid"], []).append(process)
    if len(readings) < 2:
        return []
    summaries = []
    for pid in sorted(readings):
        series = readings[pid]
        cpu = [r["cpu_percent"] for r in (series[1:] if len(series) >= 2 else series)]
        summaries.append(
            ProcessSummary(
                pid=pid,
                name=series[-1]["name"],
                samples=len(series),
                rss_max_mb=max(r["rss_bytes"] for r in series) / MB,
                cpu_mean_pct=sum(cpu) / len(cpu) / max(cpu_count, 1),
            )
        )
    return summaries


def _slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope of ys over xs; 0 when xs do not vary (one sample, or one instant)."""
    n = len(xs)
    mean_x = sum(xs) / n
    mean_y = sum(ys) / n
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return 0.0
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


def summarize(samples: Sequence[models.ResourceSample], cpu_count: int) -> ResourceSummary | None:
    """Figures of a resource series in time order; None when nothing was sampled."""
    series = sorted(samples, key=lambda s: s.offset_s)
    if not series:
        return None
    rss = [s.rss_bytes / MB for s in series]
    cpu_readings = series[1:] if len(series) >= 2 else series
    cpu = [s.cpu_percent / max(cpu_count, 1) for s in cpu_readings]
    minutes = [s.offset_s / 60 for s in series]
    return ResourceSummary(
        samples=len(series),
        duration_s=series[-1].offset_s - series[0].offset_s,
        rss_min_mb=min(rss),
        rss_mean_mb=sum(rss) / len(rss),
        rss_max_mb=max(rss),
        rss_growth_mb=rss[-1] - rss[0],
        rss_slope_mb_per_min=_slope(minutes, rss),
        cpu_mean_pct=sum(cpu) / len(cpu),
        cpu_max_pct=max(cpu),
        threads_max=max(s.threads for s in series),
        open_files_max=max(s.open_files for s in series),
    )
