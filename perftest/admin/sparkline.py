"""A sparkline: one endpoint's p95 across runs as a small inline SVG beside its row.

Plain SVG rather than a chart library: a line and a dot per run fit in a table cell and
need no axes (the cells beside it hold the numbers). The line takes the text's colour, so
it reads in the admin's light and dark themes; a run whose p95 regressed has a red dot, one
whose p95 improved a green one, one whose p95 was not judged a hollow one (a mark about the
queries only leaves the dot plain). A run without the figure leaves a gap.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from perftest.analysis import history
from perftest.text import ms

WIDTH, HEIGHT, PAD = 120, 28, 3

#: Each mark's dot, as a class of ``admin/perftest/styles.html``.
DOTS = {
    history.REGRESSION: "perftest-dot-regression",
    history.IMPROVEMENT: "perftest-dot-improvement",
    history.NOT_JUDGED: "perftest-dot-unjudged",
    history.NOT_COMPARED: "perftest-dot-unjudged",
}


def _xy(index: int, count: int, value: float, top: float) -> tuple[float, float]:
    step = (WIDTH - 2 * PAD) / max(count - 1, 1)
    y = HEIGHT - PAD - (HEIGHT - 2 * PAD) * (value / top if top else 0)
    return round(PAD + index * step, 1), round(y, 1)


def sparkline(trend: history.Trend) -> SafeString:
    """``trend``'s p95 from 0 to its own highest, oldest run on the left."""
    points: Sequence[history.Point] = trend.points
    values = [p.p95_ms for p in points if p.p95_ms is not None]
    if not values:
        return SafeString("")
    top = max(values)
    placed = [
        (_xy(i, len(points), p.p95_ms, top), p.mark, history.P95 in p.figures)
        for i, p in enumerate(points)
        if p.p95_ms is not None
    ]
    line = " ".join(f"{x},{y}" for (x, y), _, _ in placed)
    dots = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="2.5" class="{}"/>',
        ((x, y, DOTS[mark] if about_p95 else "perftest-dot") for (x, y), mark, about_p95 in placed),
    )
    label = f"p95 of {trend.endpoint}, {len(values)} runs: {ms(values[0])} to {ms(values[-1])}"
    return format_html(
        '<svg class="perftest-sparkline" role="img" width="{}" height="{}" viewBox="0 0 {} {}">'
        '<title>{}</title><polyline points="{}" fill="none" stroke="currentColor"'
        ' stroke-width="1.2"/>{}</svg>',
        WIDTH,
        HEIGHT,
        WIDTH,
        HEIGHT,
        label,
        line,
        dots,
    )
