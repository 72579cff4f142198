"""``Panels`` drawn as static SVG: plots stacked over one x axis, marks across all of them.

pygal cannot line up several plots on one x axis or shade a stretch of it, and a second y
axis beside the first reads as bare numbers (23.06, 46.12); so figures of several units are
drawn here, each unit in its own titled plot with round ticks. The SVG names what it shows
for a reader and a test: the figure's ``<title>``, each series a ``<g class="series">``
with its name as ``data-series`` and ``<title>``, each phase or level a
``<g class="phase-marker">``.
"""

from __future__ import annotations

from collections.abc import Callable
from xml.sax.saxutils import escape, quoteattr

from . import palette, ticks
from .model import Panel, Panels, Series

WIDTH = 900
LEFT, RIGHT = 78, 24
TITLE_H, MARKS_H, LEGEND_H, PLOT_H, GAP = 34, 22, 20, 120, 14
AXIS_H = 50
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif"
#: Pixels a character of an 11 px label takes, to tell whether a label fits its band.
CHAR_W = 6.2

Scale = Callable[[float], float]


def _text(x: float, y: float, text: str, size: int = 11, **attrs: str) -> str:
    extra = "".join(f" {name.replace('_', '-')}={quoteattr(v)}" for name, v in attrs.items())
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{palette.INK}"{extra}>'
        f"{escape(text)}</text>"
    )


def _x_scale(figure: Panels) -> tuple[tuple[float, ...], Scale]:
    """The x ticks and the x -> pixel mapping: from 0 to the last tick."""
    xs = [x for p in figure.panels for s in p.series for x, _ in s.points]
    xs += [m.end for m in figure.marks]
    top = max(xs, default=1.0)
    marks = figure.x_ticks or ticks.upto(top, 8)
    right = max(marks[-1], top) or 1.0
    return marks, lambda x: LEFT + (WIDTH - LEFT - RIGHT) * x / right


def _marks(figure: Panels, x: Scale, top: float, bottom: float) -> list[str]:
    parts = []
    for i, mark in enumerate(figure.marks):
        left, right = x(mark.start), x(mark.end)
        label = mark.label
        if right - left < CHAR_W * len(label) and mark.short:
            label = mark.short
        middle = (left + right) / 2
        if mark.start == mark.end:
            shape = (
                f'<line x1="{left:.1f}" y1="{top:.1f}" x2="{left:.1f}" y2="{bottom:.1f}" '
                f'stroke="{palette.INK}" stroke-dasharray="4 3"/>'
            )
        else:
            fill = palette.BAND if i % 2 == 0 else "#ffffff"
            shape = (
                f'<rect x="{left:.1f}" y="{top:.1f}" width="{right - left:.1f}" '
                f'height="{bottom - top:.1f}" fill="{fill}" stroke="{palette.SUBTLE}" '
                'stroke-width="0.5"/>'
            )
        # A label that would run off either edge is anchored to it.
        half = CHAR_W * len(label) / 2
        anchor = "end" if middle + half > WIDTH else "start" if middle - half < 0 else "middle"
        at = {"end": WIDTH - 2, "start": 2, "middle": middle}[anchor]
        parts.append(
            f'<g class="phase-marker" data-label={quoteattr(mark.label)}>'
            f"<title>{escape(mark.label)}</title>{shape}"
            + _text(at, top - 6, label, text_anchor=anchor)
            + "</g>"
        )
    return parts


def _segments(series: Series) -> list[list[tuple[float, float]]]:
    """The series' points as unbroken runs (a y of None breaks the line)."""
    runs: list[list[tuple[float, float]]] = [[]]
    for px, py in series.points:
        if py is None:
            runs.append([])
        else:
            runs[-1].append((px, py))
    return [run for run in runs if run]


def _series(series: Series, colour: str, x: Scale, y: Scale, dots: bool) -> str:
    drawn = []
    for run in _segments(series):
        if len(run) > 1:
            points = " ".join(f"{x(px):.1f},{y(py):.1f}" for px, py in run)
            drawn.append(f'<polyline points="{points}" fill="none" stroke-width="2"/>')
        if dots or len(run) == 1:
            drawn += [f'<circle cx="{x(px):.1f}" cy="{y(py):.1f}" r="3"/>' for px, py in run]
    return (
        f'<g class="series" data-series={quoteattr(series.name)} stroke="{colour}" '
        f'fill="{colour}"><title>{escape(series.name)}</title>{"".join(drawn)}</g>'
    )


def _panel(panel: Panel, top: float, x: Scale, dots: bool) -> list[str]:
    values = [py for s in panel.series for _, py in s.points if py is not None]
    scale = ticks.upto(max(values, default=0.0) or 1.0)
    plot_top, bottom = top + LEGEND_H, top + LEGEND_H + PLOT_H

    def y(value: float) -> float:
        return bottom - PLOT_H * value / scale[-1]

    parts = [f'<g class="panel" data-unit={quoteattr(panel.y_title)}>']
    for tick in scale:
        parts.append(
            f'<line x1="{LEFT}" y1="{y(tick):.1f}" x2="{WIDTH - RIGHT}" y2="{y(tick):.1f}" '
            f'stroke="{palette.SUBTLE}" stroke-width="0.4"/>'
        )
        parts.append(_text(LEFT - 6, y(tick) + 4, ticks.label(tick), text_anchor="end"))
    middle = (plot_top + bottom) / 2
    turned = f"rotate(-90 16 {middle:.1f})"
    parts.append(_text(16, middle, panel.y_title, 12, text_anchor="middle", transform=turned))
    legend_x = LEFT
    for series in panel.series:
        colour = palette.colour(series.kind)
        parts.append(_series(series, colour, x, y, dots))
        parts.append(
            f'<rect x="{legend_x}" y="{top + 4}" width="12" height="12" fill="{colour}"/>'
            + _text(legend_x + 16, top + 14, series.name, 12)
        )
        legend_x += 40 + CHAR_W * 1.1 * len(series.name)
    parts.append("</g>")
    return parts


def svg(figure: Panels, chart_id: str) -> str:
    """``figure`` as an inline ``<svg>`` element with the id ``chart-<chart_id>``; the same
    figure always gives the same bytes."""
    panels_top = TITLE_H + MARKS_H
    panel_h = LEGEND_H + PLOT_H + GAP
    bottom = panels_top + panel_h * len(figure.panels) - GAP
    height = bottom + AXIS_H
    x_ticks, x = _x_scale(figure)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="chart-{chart_id}" '
        f'class="perftest-panels" viewBox="0 0 {WIDTH} {height:.0f}" width="{WIDTH}" '
        f'height="{height:.0f}" role="img" font-family={quoteattr(FONT)}>',
        f"<title>{escape(figure.title)}</title>",
        f'<rect width="{WIDTH}" height="{height:.0f}" fill="#ffffff"/>',
        _text(WIDTH / 2, 22, figure.title, 16, text_anchor="middle"),
        *_marks(figure, x, panels_top, bottom),
    ]
    for i, panel in enumerate(figure.panels):
        parts += _panel(panel, panels_top + i * panel_h, x, figure.dots)
    for tick in x_ticks:
        parts.append(
            f'<line x1="{x(tick):.1f}" y1="{bottom}" x2="{x(tick):.1f}" y2="{bottom + 5}" '
            f'stroke="{palette.INK}"/>'
            + _text(x(tick), bottom + 18, ticks.label(tick), text_anchor="middle")
        )
    parts.append(_text(WIDTH / 2, bottom + 40, figure.x_title, 12, text_anchor="middle"))
    parts.append("</svg>")
    return "\n".join(parts)
