"""Stored latency per time window, read back: what the baseline comparison resamples and the
charts draw over time.

``measure.windows`` records an endpoint's or level's answers as expected per time window
(``MeasuredFigures.windows``); here they are read as plain data, and a window's percentile is
read with the one percentile rank (``perftest.percentiles``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from perftest.percentiles import value_at
from perftest.plan import model as plan_model

#: How latency per time window is kept, named for the reports that state it.
FIRST_WINDOW_S, MAX_WINDOWS = plan_model.FIRST_WINDOW_S, plan_model.MAX_WINDOWS


@dataclass(frozen=True)
class Window:
    """One time window of stored latency: its start, its answers as expected, their buckets."""

    offset_s: float
    count: int
    #: (bucket value in µs, answers), ascending by value.
    values_us: tuple[tuple[int, int], ...]

    def percentile_ms(self, percentile: float) -> float:
        """The window's ``percentile`` in ms (0.0 for a window without answers)."""
        return value_at(self.values_us, self.count, percentile) / 1000


@dataclass(frozen=True)
class Windows:
    """An endpoint's or level's latency per time window, read.

    Rows stored before windows existed, and rows without an answer as expected, read as none.
    """

    width_s: float = 0.0
    windows: tuple[Window, ...] = ()
    #: The first window's start on the wall clock (seconds since the Unix epoch); None for
    #: rows stored before it was.
    start_unix_s: float | None = None
    #: Answers not as expected per window: (window start, count), only windows that had some
    #: (rows stored before they were counted per window have none).
    errors: tuple[tuple[float, int], ...] = ()

    @classmethod
    def from_stored(cls, stored: Any) -> Windows:
        stored = stored if isinstance(stored, Mapping) else {}
        windows = tuple(
            Window(
                offset_s=window["offset_s"],
                count=window["count"],
                values_us=tuple((value, count) for value, count in window["values_us"]),
            )
            for window in stored.get("windows") or ()
        )
        errors = tuple((offset, count) for offset, count in stored.get("errors") or ())
        if not windows and not errors:
            return cls()
        return cls(stored.get("width_s", 0.0), windows, stored.get("start_unix_s"), errors)

    def pooled(self) -> Window:
        """Every window's answers as one (its percentiles are the row's within the buckets'
        resolution); a bootstrap pools resampled windows the same way."""
        buckets: dict[int, int] = {}
        for window in self.windows:
            for value, count in window.values_us:
                buckets[value] = buckets.get(value, 0) + count
        total = sum(window.count for window in self.windows)
        return Window(0.0, total, tuple(sorted(buckets.items())))
