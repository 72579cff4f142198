"""A ``Chart`` drawn as static SVG by pygal: horizontal bars, stacked bars or lines over x.

The SVG is the same bytes for the same chart (no date, no random id, no script), so a stored
run always renders the same report; the colours are the palette's, by series kind.
"""

from __future__ import annotations

from typing import Any

import pygal
from pygal.style import Style

from . import palette, ticks
from .model import Chart


def style(chart: Chart) -> Style:
    """The report's look with each series in its kind's colour; fonts the reader has."""
    others = 0
    colours = []
    for series in chart.series:
        colours.append(palette.colour(series.kind, others))
        others += not series.kind
    return Style(
        background="#ffffff",
        plot_background="#ffffff",
        foreground=palette.INK,
        foreground_strong="#111111",
        foreground_subtle=palette.SUBTLE,
        font_family="system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif",
        colors=tuple(colours),
        title_font_size=16,
        label_font_size=11,
        legend_font_size=12,
    )


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
    """Value labels to four significant digits (``12.35``, not ``12.351234``)."""
    return f"{value:.4g}"


def _graph(chart: Chart) -> Any:
    # Bars are horizontal (long labels read on the vertical axis) unless they stack.
    bars = bool(chart.categories) and not chart.stacked
    options: dict[str, Any] = {
        "style": style(chart),
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
    if chart.y_max:
        # Charts side by side share one scale: the same round ticks on each.
        scale = ticks.upto(chart.y_max)
        options["range"] = (0, scale[-1])
        options["y_labels"] = scale
    if bars:
        graph = pygal.HorizontalBar(**options)
        graph.x_labels = chart.categories
        for series in chart.series:
            graph.add(
                series.name,
                [
                    {"value": y, "color": palette.ALARM} if i in series.flagged else y
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
    for series in chart.series:
        graph.add(series.name, list(series.points))
    return graph


def svg(chart: Chart, chart_id: str) -> str:
    """``chart`` as an inline ``<svg>`` element; ``chart_id`` scopes its CSS within a page
    that holds several charts, and stands in for pygal's random id so output is stable."""
    graph = _graph(chart)
    graph.uuid = chart_id
    graph.add_xml_filter(_static)
    return graph.render(is_unicode=True)
