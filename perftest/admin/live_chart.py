"""The live panel's chart: a running soak's p50 and p95 per time window and the measured
processes' RSS, stacked on the run's clock (seconds since the run started), its warm-up and
steady part so far marked.

Drawn by the reports' own ``panels_svg`` from the rows the soak's last checkpoint stored: the
level's latency windows (``store.windows``) and the run's resource samples. The samples count
from when sampling started; the soak's level stores where that was (its warm-up end in both
frames, ``LoadLevel.soak``), which puts them on the run's clock too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.utils.safestring import SafeString

from perftest.analysis.metrics import P50, P95
from perftest.reports.charts import Mark, Panel, Panels, Series, palette, panels_svg
from perftest.store.read import StoredRun
from perftest.store.windows import Windows
from perftest.text import MB

#: The one series of the RSS panel, named as the resource table names its column.
RSS = "RSS of the measured processes"
ON_THE_RUNS_CLOCK = "seconds since the run started"


def _sampling_starts_s(soak: Mapping[str, Any], run_start: float) -> float:
    """When resource sampling started, in seconds since the run started: the warm-up's end
    on the wall clock less its end in the samples' frame; 0 when the level has not stored
    both (sampling starts as the run begins, before seeding)."""
    ends_at, ends_in_samples = soak.get("warmup_ends_at"), soak.get("resources_warmup_ends_s")
    if ends_at is None or ends_in_samples is None:
        return 0.0
    return ends_at - ends_in_samples - run_start


def _latency(windows: Windows, at: float) -> tuple[Series, ...]:
    """p50 and p95 at the middle of each window; the windows start ``at`` seconds in."""
    middle = windows.width_s / 2
    return tuple(
        Series(
            metric.name,
            kind,
            tuple(
                (round(at + w.offset_s + middle, 3), round(w.percentile_ms(pct), 3))
                for w in windows.windows
            ),
        )
        for metric, kind, pct in ((P50, palette.P50, 50), (P95, palette.P95, 95))
    )


def _rss(samples: Sequence[Any], at: float) -> Series:
    return Series(
        RSS,
        palette.WORKERS,
        tuple((round(at + s.offset_s, 3), round(s.rss_bytes / MB, 1)) for s in samples),
    )


def _marks(soak: Mapping[str, Any], at: float) -> tuple[Mark, ...]:
    """The warm-up, then the steady part as far as the soak has covered it."""
    covered = soak.get("covered_s") or 0.0
    stored_end = soak.get("warmup_ends_s")
    warmup_ends = min(soak.get("warmup_s", 0.0) if stored_end is None else stored_end, covered)
    marks = [Mark("warm-up", at, at + warmup_ends, "w")] if warmup_ends > 0 else []
    if covered > warmup_ends:
        marks.append(Mark("steady so far", at + warmup_ends, at + covered, "steady"))
    return tuple(marks)


def figure(stored: StoredRun, level: Any) -> Panels | None:
    """The soak ``level`` so far; None when no window is stored yet."""
    windows = Windows.from_stored(level.windows)
    if not windows.windows or windows.width_s <= 0:
        return None
    run_start = stored.row.started_at.timestamp()
    level_at = windows.start_unix_s - run_start if windows.start_unix_s is not None else 0.0
    panels = [Panel("latency (ms)", _latency(windows, level_at))]
    if stored.samples:
        sampling_at = _sampling_starts_s(level.soak, run_start)
        panels.append(Panel("RSS (MB)", (_rss(stored.samples, sampling_at),)))
    return Panels(
        key="live",
        title="The soak so far",
        x_title=ON_THE_RUNS_CLOCK,
        panels=tuple(panels),
        marks=_marks(level.soak, level_at),
    )


def chart(stored: StoredRun, level: Any) -> SafeString:
    """``figure`` as inline SVG; empty when there is none yet."""
    drawn = figure(stored, level)
    return SafeString(panels_svg.svg(drawn, f"run{stored.pk}-live") if drawn else "")
