"""The whole run on one time axis: throughput, latency, errors and workers across every phase
(the sequential pass, each load level or capacity step), each phase marked.

The run does not store when each phase started, only each phase's own length and its latency
per time window (``store.windows``), so the phases are laid end to end in the order they ran
and the set-up between them (logins, seeding, warm-up) is left out; the figure says so. A
window's throughput is drawn only for windows wholly inside a level (the first and last are
partly outside it); a level without windows, and each endpoint of the sequential pass (most
fit in one window), is drawn from its whole figures, flat across its stretch.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from perftest.analysis import login
from perftest.analysis.efficiency import littles_law
from perftest.analysis.metrics import ERROR_RATE, OK_THROUGHPUT, P50, P95
from perftest.store.read import LevelModel, StoredRun
from perftest.store.windows import Windows
from perftest.text import level_label

from . import palette
from .model import Mark, Panel, Panels, Point, Series

#: The series of the figure, each once, by panel: (name, palette kind).
THROUGHPUT = (
    (OK_THROUGHPUT.name, palette.AS_EXPECTED),
    ("answers not as expected", palette.NOT_AS_EXPECTED),
)
LATENCY = ((P50.name, palette.P50), (P95.name, palette.P95))
ERRORS = ((ERROR_RATE.name, palette.ERRORS),)
WORKERS = (("active workers", palette.WORKERS),)
PANELS = (
    ("answers/s", THROUGHPUT),
    ("latency (ms)", LATENCY),
    ("error rate (% of requests)", ERRORS),
    ("workers", WORKERS),
)

LAID_END_TO_END = (
    "Phases are drawn end to end in the order they ran; the time between them (logging in, "
    "seeding, warm-up) is not stored and is left out."
)


@dataclass
class _Timeline:
    """The figure's points as they are laid, phase after phase."""

    points: dict[str, list[Point]] = field(
        default_factory=lambda: {name: [] for _, panel in PANELS for name, _ in panel}
    )
    marks: list[Mark] = field(default_factory=list)
    at: float = 0.0

    def flat(self, name: str, start: float, end: float, value: float) -> None:
        self.points[name] += [(start, value), (end, value)]

    def whole(self, row: Any, start: float, end: float, workers: float) -> None:
        """Every series flat across ``start``..``end`` at ``row``'s whole figures."""
        errors = row.requests - row.ok
        seconds = end - start
        self.flat(OK_THROUGHPUT.name, start, end, row.ok / seconds if seconds else 0.0)
        self.flat("answers not as expected", start, end, errors / seconds if seconds else 0.0)
        for metric in (P50, P95, ERROR_RATE):
            self.flat(metric.name, start, end, metric.of(row))
        self.flat("active workers", start, end, workers)

    def close(self, mark: Mark) -> None:
        """End a phase: its mark, and a break in every line before the next one."""
        self.marks.append(mark)
        self.at = mark.end
        for points in self.points.values():
            points.append((mark.end, None))


def _sequential(timeline: _Timeline, rows: Iterable[Any], label: str, short: str) -> None:
    """A sequential pass, endpoint after endpoint, each over its time in requests."""
    start = timeline.at
    for row in rows:
        seconds = row.sum_ns / 1e9
        if row.requests and seconds:
            timeline.whole(row, timeline.at, timeline.at + seconds, 1)
            timeline.at += seconds
    if timeline.at > start:
        timeline.close(Mark(label, start, timeline.at, short))


def _workers(level: Any) -> float:
    """A closed level's workers; an open level's busy in requests on average: the workers'
    stored seconds inside requests over the level's window, or else throughput × mean
    latency (never more than its pool)."""
    if level.model != LevelModel.OPEN:
        return level.concurrency
    busy_s = (level.lateness or {}).get("busy_s")
    if busy_s is not None and level.window_s:
        return round(busy_s / level.window_s, 2)
    law = littles_law(level)
    return round(min(law.busy, level.concurrency), 2) if law else level.concurrency


def _windowed(timeline: _Timeline, level: Any, windows: Windows) -> float:
    """A level's windows laid from ``timeline.at``; returns its length (the windows' span)."""
    width, start = windows.width_s, timeline.at
    by_index = {round(w.offset_s / width): w for w in windows.windows}
    count = max(by_index) + 1
    for i in range(count):
        middle = start + (i + 0.5) * width
        window = by_index.get(i)
        if 0 < i < count - 1:  # wholly inside the level: its throughput is its count / width
            answers = window.count if window else 0
            timeline.points[OK_THROUGHPUT.name].append((middle, answers / width))
        for name, percentile in ((P50.name, 50), (P95.name, 95)):
            value = window.percentile_ms(percentile) if window else None
            timeline.points[name].append((middle, value))
    end = start + count * width
    if count < 3:
        timeline.flat(OK_THROUGHPUT.name, start, end, OK_THROUGHPUT.of(level))
    errors = level.requests - level.ok
    timeline.flat(
        "answers not as expected", start, end, errors / level.window_s if level.window_s else 0
    )
    timeline.flat(ERROR_RATE.name, start, end, ERROR_RATE.of(level))
    timeline.flat("active workers", start, end, _workers(level))
    return end - start


def _level(timeline: _Timeline, level: Any) -> bool:
    """Lay one level; whether it had windows (False: drawn from its whole figures)."""
    windows = Windows.from_stored(level.windows)
    start = timeline.at
    if windows.windows and windows.width_s > 0:
        seconds = _windowed(timeline, level, windows)
    else:
        seconds = level.window_s or level.duration_s or 0.0
        timeline.whole(level, start, start + seconds, _workers(level))
    label = f"level {level.position + 1}: {level_label(level)}"
    timeline.close(Mark(label, start, start + seconds, f"L{level.position + 1}"))
    return windows.width_s > 0 and bool(windows.windows)


def _as_panels(timeline: _Timeline) -> tuple[Panel, ...]:
    return tuple(
        Panel(
            unit,
            tuple(Series(name, kind, tuple(timeline.points[name][:-1])) for name, kind in panel),
        )
        for unit, panel in PANELS
    )


def whole_run(stored: StoredRun) -> Panels | None:
    """Every phase of the run on one time axis; None when the run has no load level (the
    sequential pass alone has its own table and bars)."""
    levels = [level for level in stored.levels if level.requests]
    if not levels:
        return None
    timeline = _Timeline()
    _sequential(timeline, login.under_test(stored.sequential, stored), "sequential pass", "seq")
    _sequential(
        timeline,
        login.under_test(stored.sequential_http, stored),
        "sequential pass over HTTP",
        "seq HTTP",
    )
    flat = [level_label(level) for level in levels if not _level(timeline, level)]
    note = LAID_END_TO_END
    if flat:
        note += (
            f" Without stored time windows, {', '.join(flat)} "
            f"{'is' if len(flat) == 1 else 'are'} drawn flat at the level's whole figures."
        )
    return Panels(
        key="whole-run",
        title="The whole run over time",
        x_title="seconds of measuring (phases end to end)",
        panels=_as_panels(timeline),
        marks=tuple(timeline.marks),
        note=note,
    )
