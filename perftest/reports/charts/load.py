"""The load levels' charts: the scaling curve, the server's account of each HTTP level, and
each level's latency over time on one shared scale."""

from __future__ import annotations

from typing import Any

from perftest.analysis import server_account as accounts
from perftest.analysis import summaries
from perftest.analysis.metrics import OK_THROUGHPUT, P95
from perftest.analysis.rules import scaling as scaling_rules
from perftest.store.read import StoredRun
from perftest.store.windows import Windows
from perftest.text import level_label, number

from . import palette
from .model import Chart, Mark, Panel, Panels, Series


def _knee_level(stored: StoredRun, steps: list[summaries.Step]) -> Any | None:
    """The level the stored knee finding names (analysis decided it once), if any."""
    subject = next((f.subject for f in stored.findings if f.rule == scaling_rules.KNEE), None)
    return next((step.level for step in steps if level_label(step.level) == subject), None)


def scaling(stored: StoredRun) -> Panels | None:
    """Throughput as expected over p95 against concurrency over the closed levels, with the
    knee marked where the stored findings put it; None under two levels (no curve)."""
    steps = summaries.curve(stored.levels)
    if len(steps) < 2:
        return None
    knee = _knee_level(stored, steps)
    marks = (
        (Mark(f"knee: {level_label(knee)}", knee.concurrency, knee.concurrency),)
        if knee is not None
        else ()
    )
    return Panels(
        key="scaling",
        title="Throughput as expected and p95 against concurrency",
        x_title="concurrent workers (closed model)",
        x_ticks=tuple(step.level.concurrency for step in steps),
        marks=marks,
        dots=True,
        panels=(
            Panel(
                "answers/s",
                (
                    Series(
                        OK_THROUGHPUT.name,
                        palette.AS_EXPECTED,
                        tuple((s.level.concurrency, OK_THROUGHPUT.of(s.level)) for s in steps),
                    ),
                ),
            ),
            Panel(
                "latency (ms)",
                (
                    Series(
                        P95.name,
                        palette.P95,
                        tuple((s.level.concurrency, P95.of(s.level)) for s in steps),
                    ),
                ),
            ),
        ),
    )


def server_account(stored: StoredRun) -> Chart | None:
    """Each HTTP level's mean latency stacked from the server's account: outside the app, the
    app without its SQL, SQL (``analysis.server_account``); None when no level was timed."""
    timed = [
        (level, split)
        for level in accounts.http_levels(stored)
        if (split := accounts.account(level)) is not None
    ]
    if not timed:
        return None
    parts = (
        (palette.OUTSIDE, lambda split: split.outside_mean_ms),
        (palette.APP, lambda split: split.app_only_mean_ms),
        (palette.SQL, lambda split: split.sql_mean_ms),
    )
    return Chart(
        key="breakdown",
        title="Mean latency per level: outside the app, app, SQL (the server's account)",
        x_title="Load level",
        y_title="mean latency (ms)",
        categories=tuple(level_label(level) for level, _ in timed),
        series=tuple(
            Series(kind, kind, tuple((float(i), part(split)) for i, (_, split) in enumerate(timed)))
            for kind, part in parts
        ),
        stacked=True,
    )


#: The percentiles drawn over time, each with its series kind.
_OVER_TIME = ((50, palette.P50), (95, palette.P95))


def over_time(stored: StoredRun) -> tuple[Chart, ...]:
    """p50 and p95 over time, one chart per load level that has at least two windows, all on
    one scale so levels compare at a glance."""
    windowed = [
        (level, windows)
        for level in stored.levels
        if len((windows := Windows.from_stored(level.windows)).windows) >= 2
    ]
    top = max(
        (w.percentile_ms(95) for _, windows in windowed for w in windows.windows), default=0.0
    )
    return tuple(
        Chart(
            key=f"over-time-{level.position}",
            title=f"p50 and p95 over time, {level_label(level)}",
            x_title=f"seconds since the level's first window ({number(windows.width_s)} s windows)",
            y_title="latency (ms)",
            series=tuple(
                Series(
                    f"p{percentile}",
                    kind,
                    tuple((w.offset_s, w.percentile_ms(percentile)) for w in windows.windows),
                )
                for percentile, kind in _OVER_TIME
            ),
            y_max=top or None,
        )
        for level, windows in windowed
    )
