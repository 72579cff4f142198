"""The whole run on one time axis: throughput, latency, errors and workers across every phase
(the sequential pass, each load level or capacity step), each phase marked.

Each phase is placed where its stored latency windows (``store.windows``) say it started on
the wall clock, so the axis is seconds since the run started and the set-up between phases
(logins, seeding, warm-up) shows as a gap. A run stored before windows kept their start has
only each phase's own length: its phases are laid end to end in the order they ran, and the
figure says so. A window's throughput is drawn only for windows wholly inside a level (the
first and last are partly outside it); a level without windows, and each endpoint of the
sequential pass (most fit in one window), is drawn from its whole figures, flat across its
stretch.
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

NOT_AS_EXPECTED, ACTIVE_WORKERS = "answers not as expected", "active workers"
#: The series of the figure, each once, by panel: (name, palette kind).
THROUGHPUT = ((OK_THROUGHPUT.name, palette.AS_EXPECTED), (NOT_AS_EXPECTED, palette.NOT_AS_EXPECTED))
LATENCY = ((P50.name, palette.P50), (P95.name, palette.P95))
ERRORS = ((ERROR_RATE.name, palette.ERRORS),)
WORKERS = ((ACTIVE_WORKERS, palette.WORKERS),)
PANELS = (
    ("answers/s", THROUGHPUT),
    ("latency (ms)", LATENCY),
    ("error rate (% of requests)", ERRORS),
    ("workers", WORKERS),
)
#: What a level's windows do not hold, drawn from its whole figures.
LEVEL_WIDE = (NOT_AS_EXPECTED, ERROR_RATE.name, ACTIVE_WORKERS)

LAID_END_TO_END = (
    "Phases are drawn end to end in the order they ran; the time between them (logging in, "
    "seeding, warm-up) is not stored and is left out."
)
ON_THE_CLOCK = (
    "Each phase starts where it started in the run; the gaps between phases are set-up "
    "(logging in, seeding, warm-up), when nothing was measured."
)


@dataclass
class _Timeline:
    """The figure's points as they are laid, phase after phase."""

    points: dict[str, list[Point]] = field(
        default_factory=lambda: {name: [] for _, panel in PANELS for name, _ in panel}
    )
    marks: list[Mark] = field(default_factory=list)
    at: float = 0.0
    #: The run's start on the wall clock (seconds since the Unix epoch) when every phase's
    #: windows say when it started; None lays the phases end to end.
    origin: float | None = None

    def move_to(self, windows: Windows) -> None:
        """On the clock, go to where ``windows`` started (never back over a phase already
        laid: a window's start is rounded down to its width)."""
        if self.origin is not None and windows.start_unix_s is not None:
            self.at = max(self.at, windows.start_unix_s - self.origin)

    def whole(
        self,
        row: Any,
        stretch: tuple[float, float],
        seconds: float,
        workers: float,
        names: Iterable[str] = (),
    ) -> None:
        """The series ``names`` (every one unless told) flat across ``stretch`` at ``row``'s
        whole figures, its answers counted over ``seconds``."""
        figures = {
            OK_THROUGHPUT.name: row.ok / seconds if seconds else 0.0,
            NOT_AS_EXPECTED: (row.requests - row.ok) / seconds if seconds else 0.0,
            P50.name: P50.of(row),
            P95.name: P95.of(row),
            ERROR_RATE.name: ERROR_RATE.of(row),
            ACTIVE_WORKERS: workers,
        }
        for name in names or figures:
            self.points[name] += [(stretch[0], figures[name]), (stretch[1], figures[name])]

    def close(self, mark: Mark) -> None:
        """End a phase: its mark, and a break in every line before the next one."""
        self.marks.append(mark)
        self.at = mark.end
        for points in self.points.values():
            points.append((mark.end, None))


def _sequential(timeline: _Timeline, rows: Iterable[Any], label: str, short: str) -> None:
    """A sequential pass, endpoint after endpoint, each over its time in requests."""
    start = None
    for row in rows:
        seconds = row.sum_ns / 1e9
        if row.requests and seconds:
            timeline.move_to(Windows.from_stored(row.windows))
            start = timeline.at if start is None else start
            timeline.whole(row, (timeline.at, timeline.at + seconds), seconds, 1)
            timeline.at += seconds
    if start is not None:
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
    wide = LEVEL_WIDE if count >= 3 else (OK_THROUGHPUT.name, *LEVEL_WIDE)
    timeline.whole(level, (start, end), level.window_s, _workers(level), wide)
    return end - start


def _level(timeline: _Timeline, level: Any) -> bool:
    """Lay one level; whether it had windows (False: drawn from its whole figures)."""
    windows = Windows.from_stored(level.windows)
    timeline.move_to(windows)
    start = timeline.at
    if windows.windows and windows.width_s > 0:
        seconds = _windowed(timeline, level, windows)
    else:
        seconds = level.window_s or level.duration_s or 0.0
        timeline.whole(level, (start, start + seconds), seconds, _workers(level))
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


def _origin(stored: StoredRun, levels: list[Any]) -> float | None:
    """The run's start on the wall clock when every phase drawn says when it started (its
    windows' start), else None: a run stored before windows kept their start."""
    rows = [
        *login.under_test(stored.sequential, stored),
        *login.under_test(stored.sequential_http, stored),
    ]
    phases = [row for row in rows if row.requests and row.sum_ns] + levels
    starts = [Windows.from_stored(phase.windows).start_unix_s for phase in phases]
    if any(start is None for start in starts):
        return None
    return stored.row.started_at.timestamp()


def whole_run(stored: StoredRun) -> Panels | None:
    """Every phase of the run on one time axis; None when the run has no load level (the
    sequential pass alone has its own table and bars)."""
    levels = [level for level in stored.levels if level.requests]
    if not levels:
        return None
    timeline = _Timeline(origin=_origin(stored, levels))
    _sequential(timeline, login.under_test(stored.sequential, stored), "sequential pass", "seq")
    _sequential(
        timeline,
        login.under_test(stored.sequential_http, stored),
        "sequential pass over HTTP",
        "seq HTTP",
    )
    flat = [level_label(level) for level in levels if not _level(timeline, level)]
    note = LAID_END_TO_END if timeline.origin is None else ON_THE_CLOCK
    if flat:
        note += (
            f" Without stored time windows, {', '.join(flat)} "
            f"{'is' if len(flat) == 1 else 'are'} drawn flat at the level's whole figures."
        )
    return Panels(
        key="whole-run",
        title="The whole run over time",
        x_title="seconds of measuring (phases end to end)"
        if timeline.origin is None
        else "seconds since the run started",
        panels=_as_panels(timeline),
        marks=tuple(timeline.marks),
        note=note,
    )
