"""The report's charts: their series built once from a stored run, as plain data
(``model``), and drawn as static SVG (``svg``).

The figures hold only numbers and labels, so the HTML report and the admin draw the same
ones. Every chart reads the same stored figures as the report's tables, so a bar never
disagrees with a cell; every series wears its kind's colour (``palette``) in every chart.
One module per family of figures: ``endpoints`` (the endpoints' bars, the login left out of
their scale), ``load`` (scaling, the server's account, latency over time per level),
``whole_run`` (the run on one time axis), ``resources`` (the measured processes). Charts of
one unit are drawn by pygal (``pygal_svg``); figures of several units, plots stacked over
one x axis, by ``panels_svg``.
"""

from __future__ import annotations

from . import panels_svg, pygal_svg
from .endpoints import before_after, latencies
from .load import over_time, scaling, server_account
from .model import Builder, Chart, Figure, Mark, Panel, Panels, Series, drawn
from .resources import cpu, rss
from .whole_run import whole_run

__all__ = [
    "Builder",
    "Chart",
    "Figure",
    "Mark",
    "Panel",
    "Panels",
    "Series",
    "before_after",
    "cpu",
    "drawn",
    "latencies",
    "over_time",
    "rss",
    "scaling",
    "server_account",
    "svg",
    "whole_run",
]


def svg(figure: Figure, chart_id: str) -> str:
    """``figure`` as an inline ``<svg>`` element whose id is ``chart-<chart_id>``."""
    if isinstance(figure, Panels):
        return panels_svg.svg(figure, chart_id)
    return pygal_svg.svg(figure, chart_id)
