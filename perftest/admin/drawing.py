"""The HTML report's charts, drawn for an admin page: the same builders, the same SVG."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.safestring import SafeString

from perftest.reports import charts, html
from perftest.store.read import StoredRun

#: Every chart the HTML report draws, in the report's order.
REPORT_CHARTS: tuple[charts.Builder, ...] = tuple(
    build for builders in html.CHARTS.values() for build in builders
)


@dataclass(frozen=True)
class Drawn:
    key: str
    title: str
    note: str
    svg: SafeString


def drawn(stored: StoredRun, builders: Iterable[charts.Builder] = REPORT_CHARTS) -> list[Drawn]:
    """The charts ``builders`` draw for ``stored``, as inline SVG with ids scoped to the run."""
    return [
        Drawn(
            chart.key,
            chart.title,
            chart.note,
            SafeString(charts.svg(chart, f"run{stored.pk}-{chart.key}")),
        )
        for chart in charts.drawn(stored, builders)
    ]
