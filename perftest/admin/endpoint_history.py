"""The endpoint history as the admin shows it: each endpoint's p95 and queries per request
across a run and the earlier runs of its target and plan, a column per run (each a link to
its page), a sparkline per endpoint, and every mark explained under the table.

History changes as runs are added, so it lives here and never in a report (a report
re-renders byte for byte from its run alone). The run page shows the newest ``PAGE_RUNS``;
its own page (``views.history``) the newest ``store.history.RUNS``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from perftest.analysis import history
from perftest.reports.sections.phrases import NONE
from perftest.store import history as stored_history
from perftest.store.read import StoredRun
from perftest.text import ms

from .sparkline import sparkline
from .tables import Row, Table

#: The runs the run page's history section shows (its own page shows more).
PAGE_RUNS = 8

#: How a mark reads in a cell and under the table.
MARK_WORDS = {
    history.REGRESSION: "regressed",
    history.IMPROVEMENT: "improved",
    history.NOT_JUDGED: "not judged",
    history.NOT_COMPARED: "not compared",
}


@dataclass(frozen=True)
class Note:
    """A mark explained: which run, which endpoint, the mark and the run's stored reason."""

    run: int
    url: str
    endpoint: str
    mark: str
    why: str


@dataclass(frozen=True)
class EndpointHistory:
    table: Table
    notes: tuple[Note, ...]
    #: The runs shown, this one included, and the most there could have been.
    runs: int
    limit: int
    #: The history's own page.
    url: str


def _run_url(pk: int) -> str:
    return reverse("admin:perftest_run_change", args=[pk])


def _head(column: history.Column, this: int) -> SafeString:
    """``#12`` linked, its start, and what it was compared with."""
    if column.baseline is None:
        compared = "no baseline"
    elif column.regressions:
        plural = "" if column.regressions == 1 else "s"
        compared = f"vs #{column.baseline}, {column.regressions} regression{plural}"
    else:
        compared = f"vs #{column.baseline}"
    return format_html(
        '<a href="{}">#{}</a>{}<br><small>{}</small><br><small>{}</small>',
        _run_url(column.pk),
        column.pk,
        " (this run)" if column.pk == this else "",
        column.started_at.strftime("%Y-%m-%d %H:%M"),
        compared,
    )


def _figure(text: str, name: str, point: history.Point) -> SafeString:
    """A figure of a cell, emphasised when the mark is about it."""
    if name in point.figures:
        return format_html('<span class="perftest-history-figure">{}</span>', text)
    return format_html("{}", text)


def _cell(point: history.Point) -> SafeString:
    """The p95, the queries per request and the mark, one line each (the figure the mark is
    about in the mark's colour); the reason on hover and in the notes under the table."""
    p95 = ms(point.p95_ms) if point.p95_ms is not None else NONE
    queries = f"{point.queries:.1f} q/req" if point.queries is not None else NONE
    mark = MARK_WORDS.get(point.mark, "")
    return format_html(
        '<span class="perftest-history-cell perftest-mark-{}" title="{}">{}<br>{}{}</span>',
        point.mark.replace(" ", "-") or "plain",
        point.why,
        _figure(p95, history.P95, point),
        _figure(queries, history.QUERIES, point),
        format_html("<br><strong>{}</strong>", mark) if mark else "",
    )


def of(stored: StoredRun, limit: int = stored_history.RUNS) -> EndpointHistory:
    """The history of ``stored``'s endpoints over it and up to ``limit - 1`` earlier runs."""
    runs = stored_history.earlier_runs(stored, limit)
    columns = history.columns(runs)
    trends = history.trends(stored, runs)
    table = Table(
        "Endpoint history",
        ("Endpoint", "p95 trend", *(_head(column, stored.pk) for column in columns)),
        tuple(
            Row((trend.endpoint, sparkline(trend), *(_cell(p) for p in trend.points)))
            for trend in trends
        ),
        empty="No endpoint under test was stored for these runs.",
        right=frozenset(range(2, 2 + len(columns))),
    )
    notes = tuple(
        Note(point.run, _run_url(point.run), trend.endpoint, MARK_WORDS[point.mark], point.why)
        for trend in trends
        for point in trend.points
        if point.mark
    )
    url = reverse("admin:perftest_run_endpoint_history", args=[stored.pk])
    return EndpointHistory(table, notes, len(runs), limit, url)
