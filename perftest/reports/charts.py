"""The report's charts: their series built once from a stored run, as plain data, and drawn
as static SVG.

The series (``Chart``) hold only numbers and labels, so the HTML report draws them here and
the admin can draw the same figures later without reading the run again. Every chart reads
the same stored figures as the report's tables, so a bar never disagrees with a cell.
The before/after bars of a baseline comparison read the stored comparison, as its section does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pygal
from pygal.style import Style

from perftest.analysis import server_account as accounts
from perftest.analysis import summaries
from perftest.analysis.metrics import OK_THROUGHPUT, P50, P95, P99
from perftest.analysis.rules import scaling as scaling_rules
from perftest.store.read import StoredRun
from perftest.store.windows import Windows
from perftest.text import MB, level_label, number

from .sections import comparison


@dataclass(frozen=True)
class Series:
    """One named line or set of bars: ``(x, y)`` points (for bars, x is the category index)."""

    name: str
    points: tuple[tuple[float, float], ...]
    #: Drawn against the right-hand axis, whose unit differs (p95 beside throughput).
    secondary: bool = False
    #: Drawn as marked dots without a line (the knee).
    marker: bool = False
    #: Indexes of the bars drawn in the alarm colour (a regression against the baseline).
    flagged: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Chart:
    """What one chart shows; ``categories`` makes it a bar chart, otherwise lines over x."""

    key: str
    title: str
    x_title: str
    y_title: str
    series: tuple[Series, ...]
    categories: tuple[str, ...] = ()
    #: The x positions to label (the levels' concurrencies); empty: the library chooses.
    x_ticks: tuple[float, ...] = ()
    #: Bars whose series stack into one column per category (parts of one whole).
    stacked: bool = False


#: Builds one chart from a stored run (None when the run has nothing to draw), or several
#: (one per level; none when no level has anything to draw).
Builder = Callable[[StoredRun], "Chart | tuple[Chart, ...] | None"]


def drawn(stored: StoredRun, builders: Iterable[Builder]) -> list[Chart]:
    """The charts ``builders`` draw for ``stored``, in order."""
    found: list[Chart] = []
    for build in builders:
        built = build(stored)
        if isinstance(built, Chart):
            found.append(built)
        elif built:
            found.extend(built)
    return found


def latencies(stored: StoredRun) -> Chart | None:
    """p50 / p95 / p99 of each sequentially measured endpoint that has a latency verdict."""
    endpoints = stored.judged
    if not endpoints:
        return None
    return Chart(
        key="latency",
        title="Latency percentiles per endpoint (sequential)",
        x_title="Endpoint",
        y_title="ms",
        categories=tuple(endpoint.label for endpoint in endpoints),
        series=tuple(
            Series(
                metric.name,
                tuple((float(i), metric.of(endpoint)) for i, endpoint in enumerate(endpoints)),
            )
            for metric in (P50, P95, P99)
        ),
    )


def _figure(row: comparison.Row, name: str) -> dict[str, Any] | None:
    """The row's figure ``name`` when both runs have it, else None."""
    found = next((m for m in row["metrics"] if m["metric"] == name), None)
    if found is None or found["before"] is None or found["after"] is None:
        return None
    return found


def before_after(stored: StoredRun) -> Chart | None:
    """p50 and p95 before (the baseline) and after (this run) of each sequential endpoint and
    each level overall that both runs judged, the after bar of a regression flagged."""
    compared = comparison.of(stored)
    rows = [
        row
        for row in compared.get("rows", ())
        if (row["phase"] == "sequential" or row["endpoint"] == "all")
        and _figure(row, P50.name)
        and _figure(row, P95.name)
    ]
    if not rows:
        return None
    against = comparison.baseline_name(compared)
    series: list[Series] = []
    for metric in (P50, P95):
        figures = [_figure(row, metric.name) for row in rows]
        series += [
            Series(
                f"{metric.name} {against}",
                tuple((float(i), f["before"]) for i, f in enumerate(figures)),
            ),
            Series(
                f"{metric.name} this run",
                tuple((float(i), f["after"]) for i, f in enumerate(figures)),
                flagged=frozenset(
                    i for i, f in enumerate(figures) if f["verdict"] == comparison.REGRESSION
                ),
            ),
        ]
    flagged = any(s.flagged for s in series)
    return Chart(
        key="baseline",
        title=f"p50 and p95 against {against}" + (" (regressions in red)" if flagged else ""),
        x_title="Endpoint or level",
        y_title="ms",
        categories=tuple(comparison.where(row) for row in rows),
        series=tuple(series),
    )


def _knee_level(stored: StoredRun, steps: list[summaries.Step]) -> Any | None:
    """The level the stored knee finding names (analysis decided it once), if any."""
    subject = next((f.subject for f in stored.findings if f.rule == scaling_rules.KNEE), None)
    return next((step.level for step in steps if level_label(step.level) == subject), None)


def scaling(stored: StoredRun) -> Chart | None:
    """Throughput as expected and p95 against concurrency over the closed levels, with the
    knee marked where the stored findings put it."""
    steps = summaries.curve(stored.levels)
    if not steps:
        return None
    series = [
        Series(
            f"{OK_THROUGHPUT.name} (req/s)",
            tuple((s.level.concurrency, OK_THROUGHPUT.of(s.level)) for s in steps),
        ),
        Series(
            "p95 (ms, right axis)",
            tuple((s.level.concurrency, P95.of(s.level)) for s in steps),
            secondary=True,
        ),
    ]
    knee = _knee_level(stored, steps)
    if knee is not None:
        series.append(
            Series(
                f"knee: {level_label(knee)}",
                ((knee.concurrency, OK_THROUGHPUT.of(knee)),),
                marker=True,
            )
        )
    return Chart(
        key="scaling",
        title="Throughput as expected and p95 against concurrency",
        x_title="Concurrent workers (closed model)",
        y_title="req/s",
        x_ticks=tuple(step.level.concurrency for step in steps),
        series=tuple(series),
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
        ("outside the app", lambda split: split.outside_mean_ms),
        ("app without SQL", lambda split: split.app_only_mean_ms),
        ("SQL", lambda split: split.sql_mean_ms),
    )
    return Chart(
        key="breakdown",
        title="Mean latency per level: outside the app, app, SQL (the server's account)",
        x_title="Load level",
        y_title="ms",
        categories=tuple(level_label(level) for level, _ in timed),
        series=tuple(
            Series(name, tuple((float(i), part(split)) for i, (_, split) in enumerate(timed)))
            for name, part in parts
        ),
        stacked=True,
    )


def _over_time(level: Any) -> Chart | None:
    """p50 and p95 of one level's answers as expected, window by window (at least two)."""
    windows = Windows.from_stored(level.windows)
    if len(windows.windows) < 2:
        return None
    return Chart(
        key=f"over-time-{level.position}",
        title=f"p50 and p95 over time, {level_label(level)}",
        x_title=f"seconds since the first window ({number(windows.width_s)} s windows)",
        y_title="ms",
        series=tuple(
            Series(
                f"p{percentile}",
                tuple((w.offset_s, w.percentile_ms(percentile)) for w in windows.windows),
            )
            for percentile in (50, 95)
        ),
    )


def over_time(stored: StoredRun) -> tuple[Chart, ...]:
    """p50 and p95 over time, one chart per load level that has at least two windows."""
    return tuple(chart for level in stored.levels if (chart := _over_time(level)))


def _process_series(
    stored: StoredRun, value: Callable[[dict], float], cpu: bool
) -> tuple[Series, ...]:
    """One series per sampled process (``value`` of each reading), or one for the sampled
    total when the samples carry no per-process detail (runs stored before it existed)."""
    readings = summaries.process_readings(stored.samples)
    if not readings:
        totals = {
            "the measured process": [
                {"rss_bytes": s.rss_bytes, "cpu_percent": s.cpu_percent, "at": s.offset_s}
                for s in sorted(stored.samples, key=lambda s: s.offset_s)
            ]
        }
    else:
        totals = {f"{rows[-1]['name']} (pid {pid})": rows for pid, rows in readings.items()}
    return tuple(
        Series(
            name,
            tuple(
                (row["at"], value(row)) for row in (summaries.cpu_readings(rows) if cpu else rows)
            ),
        )
        for name, rows in totals.items()
        if rows
    )


def rss(stored: StoredRun) -> Chart | None:
    """Resident memory of each measured process over the run."""
    series = _process_series(stored, lambda row: row["rss_bytes"] / MB, cpu=False)
    if not series:
        return None
    return Chart("rss", "RSS over time per process", "seconds into the run", "MB", series)


def cpu(stored: StoredRun) -> Chart | None:
    """CPU of each measured process over the run, in percent of all the machine's cores (as
    the resource table); the first reading of each process carries no CPU figure."""
    cores = max(stored.row.resource_cpu_count, 1)
    series = _process_series(stored, lambda row: row["cpu_percent"] / cores, cpu=True)
    if not series:
        return None
    return Chart(
        "cpu", "CPU over time per process", "seconds into the run", "% of all cores", series
    )


#: Colours readable on white and told apart in grey; fonts the reader's machine already has.
STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#222222",
    foreground_strong="#111111",
    foreground_subtle="#888888",
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif",
    colors=("#1f6fb2", "#e07b00", "#6a4fb3", "#2a9d4b", "#8c564b", "#5a6270"),
    title_font_size=16,
    label_font_size=11,
    legend_font_size=12,
)


#: The colour of a flagged bar: kept out of ``STYLE.colors`` so only a regression is red.
ALARM = "#d0021b"


def _static(root: Any) -> Any:
    """The chart without what would make it change or run: pygal writes the day it drew the
    chart in an XML comment (a stored run must always draw the same bytes) and a script of
    its configuration for its tooltips (the page runs no script)."""
    for parent in list(root.iter()):
        for child in list(parent):
            if not isinstance(child.tag, str) or child.tag.rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    return root


def _axis_number(value: float) -> str:
    """Axis and value labels to four significant digits (``12.35``, not ``12.351234``)."""
    return f"{value:.4g}"


def _graph(chart: Chart) -> Any:
    # Bars are horizontal (long labels read on the vertical axis) unless they stack.
    bars = bool(chart.categories) and not chart.stacked
    options = {
        "style": STYLE,
        "title": chart.title,
        # Horizontal bars put the categories on the vertical axis and the values below.
        "x_title": chart.y_title if bars else chart.x_title,
        "y_title": chart.x_title if bars else chart.y_title,
        "js": (),  # no tooltip script: the report opens offline
        "disable_xml_declaration": True,
        "width": 900,
        "height": max(260, 120 + 36 * len(chart.categories)) if bars else 420,
        "legend_at_bottom": True,
        "truncate_legend": -1,
        "truncate_label": -1,
        "print_values": False,
        # Every value axis starts at zero, so a 1 % change never looks like a cliff.
        "include_x_axis": True,
        "value_formatter": _axis_number,
    }
    if bars:
        graph = pygal.HorizontalBar(**options)
        graph.x_labels = chart.categories
        for series in chart.series:
            graph.add(
                series.name,
                [
                    {"value": y, "color": ALARM} if i in series.flagged else y
                    for i, (_, y) in enumerate(series.points)
                ],
            )
        return graph
    if chart.stacked:
        graph = pygal.StackedBar(**options)
        graph.x_labels = chart.categories
        for series in chart.series:
            graph.add(series.name, [y for _, y in series.points])
        return graph
    graph = pygal.XY(**options, dots_size=3)
    if chart.x_ticks:
        graph.x_labels = chart.x_ticks
    for series in chart.series:
        extra = {"stroke": False, "dots_size": 9} if series.marker else {}
        graph.add(series.name, list(series.points), secondary=series.secondary, **extra)
    return graph


def svg(chart: Chart, chart_id: str) -> str:
    """``chart`` as an inline ``<svg>`` element; ``chart_id`` scopes its CSS within a page
    that holds several charts, and stands in for pygal's random id so output is stable."""
    graph = _graph(chart)
    graph.uuid = chart_id
    graph.add_xml_filter(_static)
    return graph.render(is_unicode=True)
