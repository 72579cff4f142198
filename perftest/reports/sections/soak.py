"""A soak's trends after its warm-up (``analysis.trends``): each series' Theil–Sen slope, its
95 % interval, its growth over the steady part, and whether it is judged a leak or a creep.
Only soaks have this section; every figure in it is fitted from what the run stored."""

from __future__ import annotations

from perftest.analysis import trend_words, trends
from perftest.analysis.trends import SoakTrends, Trend
from perftest.store.read import StoredRun
from perftest.text import MB, number, quantity, span

from ..blocks import Block, Heading, Paragraph, Table

HEADING = "Trends over the soak"
#: Processes the table shows at most, the fastest growing first; the others are counted.
PROCESSES_SHOWN = 10


def _row(trend: Trend) -> list[object]:
    subject = f"RSS of {trend.subject}" if trend.series == trends.RSS else trend.subject
    if trend.fit is None:
        return [subject, trend.readings, "—", "—", "—", trend_words.judged(trend)]
    line, series = trend.fit, trend.series
    return [
        subject,
        trend.readings,
        trend_words.per_hour(series, line.slope),
        trend_words.slope_range(trend),
        f"{trend_words.value(series, line.start)} to {trend_words.value(series, line.end)}",
        trend_words.judged(trend),
    ]


def _bounds() -> str:
    return (
        "A series is judged a leak or a creep only when its 95 % interval lies above zero and "
        "its growth over the steady part is material: RSS at least "
        f"{number(trends.RSS_MIN_GROWTH_BYTES / MB)} MB and "
        f"{trends.RSS_MIN_GROWTH_SHARE:.0%} of where the process started (and its floor, the "
        "lowest reading of its second half against its first half's, rises by half that: a "
        "sawtooth is not a leak); "
        f"{number(trends.CONNECTIONS_MIN_GROWTH)} more database connection; p95 at least "
        f"{trends.P95_MIN_GROWTH_SHARE:.0%} and {number(trends.P95_MIN_GROWTH_MS)} ms higher; "
        f"the error rate at least {number(trends.ERROR_RATE_MIN_GROWTH_POINTS)} percentage "
        f"point higher. A series needs {trends.MIN_READINGS} steady readings (a latency "
        f"window, {trends.MIN_WINDOW_ANSWERS} answers) to be judged."
    )


def _notes(found: SoakTrends, stored: StoredRun) -> list[Block]:
    notes = []
    hidden = len(found.processes) - PROCESSES_SHOWN
    if hidden > 0:
        notes.append(f"{quantity(hidden, 'more process', 'more processes')} judged, not shown.")
    if found.unjudged_processes:
        notes.append(
            f"{quantity(found.unjudged_processes, 'process')} lived too briefly after the "
            f"warm-up to be judged (fewer than {trends.MIN_READINGS} readings each)."
        )
    if found.connections is None:
        level = trends.soak_level(stored)
        why = (level.database_connections or {}).get("unavailable") or "no count was stored"
        notes.append(f"Database connections were not followed: {why}.")
    return [Paragraph(" ".join(notes))] if notes else []


def section(stored: StoredRun) -> list[Block]:
    found = trends.trends(stored)
    if found is None:
        return []
    shown = (*found.processes[:PROCESSES_SHOWN], *found.series[len(found.processes) :])
    return [
        Heading(HEADING),
        Paragraph(
            f"After the warm-up, {span(found.steady_s)} of steady load: each series fitted by "
            "Theil–Sen (the median of its pairwise slopes, which a garbage collector's "
            "sawtooth or a few slow windows do not tilt), each process's RSS over its own "
            "lifetime, so a recycled worker is a new series. " + _bounds()
        ),
        Table(
            ["Series", "Readings", "Slope", "95 % interval", "Fitted, start to end", "Judged"],
            [_row(trend) for trend in shown],
        ),
        *_notes(found, stored),
    ]
