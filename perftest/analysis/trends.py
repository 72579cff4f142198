"""A soak's trends: after the warm-up, a robust slope with its confidence interval for each
series that can creep over hours, and whether its growth is material.

The series, all read from what the soak's level and the run stored:

- the RSS of each measured process (``ResourceSample.processes``), **one series per process
  lifetime**: a pid is its own series, so a worker recycled by ``max_requests`` is a new
  series, and the drop when it is replaced is never read as a slope. Each process with at
  least ``MIN_READINGS`` steady readings is fitted on its own; one with fewer is not judged
  (the report says how many). The soak's RSS verdict is the process that grows fastest of
  those judged growing;
- the database's open connections, each time window's mean (``LoadLevel.database_connections``
  ``series``, PostgreSQL only);
- the p95 of each latency window of the level (``LoadLevel.windows``) with at least
  ``MIN_WINDOW_ANSWERS`` answers as expected;
- the error rate of each such window (answers not as expected over all its answers).

Each series is fitted by Theil–Sen (``scipy.stats.theilslopes``: the median of the pairwise
slopes, with its 95 % interval), which a garbage collection's sawtooth or a few slow windows
do not tilt as they would a least-squares line. A series **grows** only when the interval's
lower bound is above zero *and* the growth over its steady part (slope × its span) reaches
its material bound below; a shrinking series is never a finding. A process's RSS must also
have kept its growth: its floor (the lowest reading of the second half of its readings,
against the lowest of the first half) must rise by half the material bound, which a steady
leak's does as its fitted growth reaches the bound, since a sawtooth of few teeth tilts even
a robust slope upwards while returning, at each drop, to where it started.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from perftest.store.read import StoredRun
from perftest.store.windows import Windows
from perftest.text import MB

#: Steady readings a series needs to be fitted (fewer: not judged, and the report says so).
MIN_READINGS = 8
#: A latency window's p95 and error rate are read only from windows with this many answers.
MIN_WINDOW_ANSWERS = 10
#: The confidence of the slope's interval.
CONFIDENCE = 0.95

#: Material growth over the steady part, per series: RSS at least 5 MB and 5 % of where the
#: process started; at least one more open connection; p95 at least 20 % and 5 ms higher;
#: the error rate at least one percentage point higher.
RSS_MIN_GROWTH_BYTES = 5 * MB
RSS_MIN_GROWTH_SHARE = 0.05
CONNECTIONS_MIN_GROWTH = 1.0
P95_MIN_GROWTH_SHARE = 0.20
P95_MIN_GROWTH_MS = 5.0
ERROR_RATE_MIN_GROWTH_POINTS = 1.0
#: Where the RSS projection aims: "at this rate it reaches 1 GB in 9 h".
RSS_PROJECTION_BYTES = 1024 * MB

RSS, CONNECTIONS, P95, ERROR_RATE = "rss", "connections", "p95", "error_rate"


@dataclass(frozen=True)
class Fit:
    """A Theil–Sen line through one series: slope per second with its interval, the fitted
    value where the steady readings start, and how long they span."""

    slope: float
    low: float
    high: float
    start: float
    span_s: float

    @property
    def growth(self) -> float:
        """The fitted growth over the series' steady part."""
        return self.slope * self.span_s

    @property
    def end(self) -> float:
        return self.start + self.growth


def fit(offsets_s: Sequence[float], values: Sequence[float]) -> Fit:
    """Theil–Sen over (offset, value) pairs, with its ``CONFIDENCE`` interval."""
    # Imported here: scipy.stats takes over half a second to import, and every manage.py
    # command imports the rules (the admin does), while only a soak's analysis fits.
    from scipy.stats import theilslopes

    result = theilslopes(values, offsets_s, alpha=CONFIDENCE)
    first, last = min(offsets_s), max(offsets_s)
    return Fit(
        slope=float(result.slope),
        low=float(result.low_slope),
        high=float(result.high_slope),
        start=float(result.intercept + result.slope * first),
        span_s=last - first,
    )


@dataclass(frozen=True)
class Trend:
    """One series after the warm-up: what it is, its readings, its fit, and the verdict."""

    series: str
    #: What it follows: "gunicorn (pid 41)", "database connections", "p95", "error rate".
    subject: str
    readings: int
    fit: Fit | None = None
    #: Why the series was not fitted ("" when it was).
    not_judged: str = ""
    #: The growth it needs to reach to be material, in the series' unit.
    material_growth: float = 0.0
    #: A process's RSS only: how far its floor rose, the lowest of the second half of its
    #: readings less the lowest of the first half (what the process kept); None for the
    #: other series.
    floor_rise: float | None = None

    @property
    def above_zero(self) -> bool:
        """The slope's interval lies wholly above zero."""
        return self.fit is not None and self.fit.low > 0

    @property
    def material(self) -> bool:
        """The fitted growth reaches the material bound, and for a process its floor rises by
        half of it (a steady leak's floor, read over halves, rises by half its growth): a
        sawtooth whose drops return to where it started is not a leak, even when its last
        teeth tilt the slope up."""
        if self.fit is None or self.fit.growth < self.material_growth:
            return False
        return self.floor_rise is None or self.floor_rise >= self.material_growth / 2

    @property
    def grows(self) -> bool:
        """A leak or a creep: the interval excludes zero and the growth is material."""
        return self.above_zero and self.material


@dataclass(frozen=True)
class SoakTrends:
    """A soak's trends: the steady part's length, each process's RSS, and the level's series."""

    steady_s: float
    processes: tuple[Trend, ...]
    #: Processes seen after the warm-up with too few readings to be judged.
    unjudged_processes: int
    connections: Trend | None
    p95: Trend
    error_rate: Trend

    @property
    def series(self) -> tuple[Trend, ...]:
        """Every series fitted or not, the processes first."""
        level = (self.connections, self.p95, self.error_rate)
        return (*self.processes, *(trend for trend in level if trend is not None))

    @property
    def fastest_rss(self) -> Trend | None:
        """The process whose RSS grows fastest of those judged growing, or None."""
        growing = [trend for trend in self.processes if trend.grows]
        return max(growing, key=lambda trend: trend.fit.slope) if growing else None


def soak_level(stored: StoredRun) -> Any | None:
    """The run's soak level (its stored ``soak`` parts say where the warm-up ended), or None
    for a run that is not a soak."""
    for level in stored.levels:
        if level.soak:
            return level
    return None


#: The growth a series must reach to be material, from where its fitted line starts.
Bound = Callable[[float], float]


def _rss_bound(start: float) -> float:
    return max(RSS_MIN_GROWTH_BYTES, RSS_MIN_GROWTH_SHARE * start)


def _p95_bound(start: float) -> float:
    return max(P95_MIN_GROWTH_MS, P95_MIN_GROWTH_SHARE * start)


def _fitted(
    series: str, subject: str, points: Sequence[tuple[float, float]], bound: Bound
) -> Trend:
    """``points`` fitted, or not judged when there are too few of them."""
    if len(points) < MIN_READINGS:
        why = f"{len(points)} steady readings, at least {MIN_READINGS} needed"
        return Trend(series, subject, len(points), not_judged=why)
    offsets, values = zip(*points, strict=True)
    line = fit(offsets, values)
    floor = _floor_rise(values) if series == RSS else None
    return Trend(
        series, subject, len(points), line, material_growth=bound(line.start), floor_rise=floor
    )


def _floor_rise(values: Sequence[float]) -> float:
    """The lowest of the second half of ``values`` less the lowest of the first half."""
    half = len(values) // 2
    return min(values[half:]) - min(values[:half])


def process_trends(
    samples: Sequence[Any], warmup_ends_s: float, ends_s: float
) -> tuple[tuple[Trend, ...], int]:
    """Each process's RSS between ``warmup_ends_s`` and ``ends_s`` (the samples' frame), one
    series per pid; the fitted ones, fastest first, and how many had too few readings."""
    by_pid: dict[int, list[tuple[float, float]]] = {}
    names: dict[int, str] = {}
    for sample in samples:
        if not warmup_ends_s <= sample.offset_s <= ends_s:
            continue
        for process in sample.processes or ():
            by_pid.setdefault(process["pid"], []).append((sample.offset_s, process["rss_bytes"]))
            names[process["pid"]] = process.get("name") or "process"
    judged = [
        _fitted(RSS, f"{names[pid]} (pid {pid})", points, _rss_bound)
        for pid, points in by_pid.items()
        if len(points) >= MIN_READINGS
    ]
    judged.sort(key=lambda trend: trend.fit.slope, reverse=True)
    return tuple(judged), len(by_pid) - len(judged)


def _connections(level: Any, warmup_ends_at: float | None) -> Trend | None:
    """The mean open connections of each steady window; None where none were counted."""
    use: Mapping[str, Any] = level.database_connections or {}
    if warmup_ends_at is None or not use.get("series"):
        return None
    steady = [
        (start - warmup_ends_at, mean)
        for start, mean, _peak in use["series"]
        if start >= warmup_ends_at
    ]
    return _fitted(CONNECTIONS, "database connections", steady, lambda _: CONNECTIONS_MIN_GROWTH)


def _window_trends(level: Any, warmup_ends_s: float) -> tuple[Trend, Trend]:
    """The p95 and the error rate (in %) of each steady window with enough answers."""
    windows = Windows.from_stored(level.windows)
    answers: dict[float, list[Any]] = {w.offset_s: [w, 0] for w in windows.windows}
    for offset, count in windows.errors:
        answers.setdefault(offset, [None, 0])[1] = count
    p95, error_rate = [], []
    for offset, (window, failed) in sorted(answers.items()):
        expected = window.count if window is not None else 0
        if offset < warmup_ends_s or expected + failed < MIN_WINDOW_ANSWERS:
            continue
        if expected >= MIN_WINDOW_ANSWERS:
            p95.append((offset, window.percentile_ms(95)))
        error_rate.append((offset, 100 * failed / (expected + failed)))
    return (
        _fitted(P95, "p95", p95, _p95_bound),
        _fitted(ERROR_RATE, "error rate", error_rate, lambda _: ERROR_RATE_MIN_GROWTH_POINTS),
    )


def trends(stored: StoredRun) -> SoakTrends | None:
    """The soak's trends after its warm-up; None when the run is not a soak."""
    level = soak_level(stored)
    if level is None:
        return None
    soak = level.soak
    steady_s = max(0.0, soak.get("covered_s", 0.0) - soak.get("warmup_s", 0.0))
    processes: tuple[Trend, ...] = ()
    unjudged = 0
    if soak.get("resources_warmup_ends_s") is not None:
        begins = soak["resources_warmup_ends_s"]
        processes, unjudged = process_trends(stored.samples, begins, begins + steady_s)
    if soak.get("warmup_ends_s") is not None:
        p95, error_rate = _window_trends(level, soak["warmup_ends_s"])
    else:
        why = "no latency window says where the warm-up ended (no answer was as expected)"
        p95, error_rate = (
            Trend(P95, "p95", 0, not_judged=why),
            Trend(ERROR_RATE, "error rate", 0, not_judged=why),
        )
    return SoakTrends(
        steady_s=steady_s,
        processes=processes,
        unjudged_processes=unjudged,
        connections=_connections(level, soak.get("warmup_ends_at")),
        p95=p95,
        error_rate=error_rate,
    )
