"""One colour per kind of series, in every chart: p95 is the same orange in the latency bars,
the over-time lines, the scaling curve and the whole run, so a reader learns it once.

Colours are readable on white, told apart in grey, and none is the alarm red, which only a
regression's bar wears.
"""

from __future__ import annotations

#: The kinds of series the charts draw, each with its one colour.
P50, P95, P99, MAX = "p50", "p95", "p99", "max"
P50_BEFORE, P95_BEFORE = "p50 before", "p95 before"
AS_EXPECTED, NOT_AS_EXPECTED = "as expected", "not as expected"
ERRORS, WORKERS = "errors", "workers"
OUTSIDE, APP, SQL = "outside the app", "app without SQL", "SQL"

COLOURS: dict[str, str] = {
    P50: "#1f6fb2",
    P95: "#e07b00",
    P99: "#6a4fb3",
    MAX: "#5a6270",
    # The baseline's bars: the same hue as this run's, lighter, so a pair reads as one figure.
    P50_BEFORE: "#9cc3e6",
    P95_BEFORE: "#f2bf85",
    AS_EXPECTED: "#2a9d4b",
    NOT_AS_EXPECTED: "#b8860b",
    ERRORS: "#c2185b",
    WORKERS: "#138d90",
    OUTSIDE: "#a0a8b3",
    APP: "#e377c2",
    SQL: "#8c564b",
}

#: Series that are not one kind of figure but one of many alike (each measured process),
#: coloured in turn from colours no kind above wears.
OTHERS = ("#3b4cc0", "#7f8c1f", "#b04a8c", "#4a7f6a", "#9c6b30", "#2f4f6f")

#: The colour of a flagged bar (a regression against the baseline), no series' colour.
ALARM = "#d0021b"

#: Phase bands of the charts over time, every other one shaded; and the axes' ink.
BAND, INK, SUBTLE = "#eef1f5", "#222222", "#888888"


def colour(kind: str, index: int = 0) -> str:
    """The colour of a series of ``kind``; a series of no named kind (``""``), the
    ``index``-th of the others."""
    return COLOURS.get(kind) or OTHERS[index % len(OTHERS)]
