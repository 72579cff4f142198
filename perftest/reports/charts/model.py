"""What a chart shows, as plain data: series of numbers and labels built once from a stored
run, which the HTML report and the admin draw the same way (``charts.svg``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from perftest.store.read import StoredRun

#: A point of a series; a y of None breaks the line there (between two phases).
Point = tuple[float, "float | None"]


@dataclass(frozen=True)
class Series:
    """One named line or set of bars: ``(x, y)`` points (for bars, x is the category index).

    ``kind`` picks its colour (``palette``), the same for the same figure in every chart.
    """

    name: str
    kind: str
    points: tuple[Point, ...]
    #: Indexes of the bars drawn in the alarm colour (a regression against the baseline).
    flagged: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Chart:
    """One plot drawn by pygal; ``categories`` makes it a bar chart, otherwise lines over x."""

    key: str
    title: str
    x_title: str
    y_title: str
    series: tuple[Series, ...]
    categories: tuple[str, ...] = ()
    #: Bars whose series stack into one column per category (parts of one whole).
    stacked: bool = False
    #: The top of the value axis when charts side by side share one scale; None: the data's.
    y_max: float | None = None
    #: One sentence under the chart, when what it leaves out must be said.
    note: str = ""


@dataclass(frozen=True)
class Mark:
    """A stretch of the x axis named on every panel: a phase or level (``start`` to
    ``end``), or one point (``start == end``: the knee)."""

    label: str
    start: float
    end: float
    #: What the figure writes when ``label`` does not fit over the stretch (``L2``).
    short: str = ""


@dataclass(frozen=True)
class Panel:
    """One plot of a stacked figure: its series share the unit ``y_title`` names."""

    y_title: str
    series: tuple[Series, ...]


@dataclass(frozen=True)
class Panels:
    """Plots stacked over one x axis (figures of different units, no second y axis), with
    the marks drawn across all of them."""

    key: str
    title: str
    x_title: str
    panels: tuple[Panel, ...]
    marks: tuple[Mark, ...] = ()
    #: The x positions to label (the levels' concurrencies); empty: round ticks.
    x_ticks: tuple[float, ...] = ()
    #: Each point drawn as a dot too (a few measured points, not a line of windows).
    dots: bool = False
    note: str = ""


Figure = Chart | Panels

#: Builds one figure from a stored run (None when it would mean nothing for this run), or
#: several (one per level; none when no level has anything to draw).
Builder = Callable[[StoredRun], "Figure | tuple[Figure, ...] | None"]


def drawn(stored: StoredRun, builders: Iterable[Builder]) -> list[Figure]:
    """The figures ``builders`` draw for ``stored``, in order."""
    found: list[Figure] = []
    for build in builders:
        built = build(stored)
        if isinstance(built, (Chart, Panels)):
            found.append(built)
        elif built:
            found.extend(built)
    return found
