"""Latency per time window: a small log-bucket histogram for each second (or few) of a phase.

Pooled per-request samples are autocorrelated (a slow second slows every request in it), so at
10⁵ samples any two runs differ "significantly"; the baseline comparison's noise rule resamples
whole windows instead, and the report draws p50/p95 over time from the same windows.

A window is keyed by the wall clock at record time (``time_ns() // width_ns``), so the
windows of different workers, and of different processes, line up and merge exactly. Its
values are kept to ``SIGNIFICANT_BITS`` bits (HDR-style log buckets, each stored as its
midpoint: within 1/64 of the true value), so a window is a small dict of bucket -> count
rather than a full HdrHistogram, which is tens of KB per window per worker. At most
``MAX_WINDOWS`` windows are kept: one more doubles the width and merges neighbours
(key ``k`` -> ``k // 2``), so a phase of any length stays small and loses no count.

Beside the answers as expected, each window counts the other answers (``errors``, one number
per window, keyed and widened the same way; a window with errors only counts towards the
bound), so a soak's error rate can be followed window by window.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from perftest.plan.model import FIRST_WINDOW_S, MAX_WINDOWS

#: The width a phase starts with; every width is this times a power of two.
FIRST_WIDTH_NS = FIRST_WINDOW_S * 1_000_000_000
#: Bits of each value kept: 32 buckets per doubling, relative error at most 1/64.
SIGNIFICANT_BITS = 6
_EXACT_BELOW_US = 1 << SIGNIFICANT_BITS

#: A window's bucket value in µs -> answers in it.
Buckets = dict[int, int]


def bucket_us(micros: int) -> int:
    """The bucket ``micros`` falls in, as its midpoint in µs (values below 64 µs are exact)."""
    if micros < _EXACT_BELOW_US:
        return micros
    shift = micros.bit_length() - SIGNIFICANT_BITS
    return (micros >> shift << shift) | (1 << (shift - 1))


def _add(into: dict[int, Buckets], key: int, buckets: Buckets) -> None:
    window = into.setdefault(key, {})
    for value, count in buckets.items():
        window[value] = window.get(value, 0) + count


def _coarser(windows: dict[int, Buckets], times: int) -> dict[int, Buckets]:
    """``windows`` with each ``times`` neighbouring keys merged into one (``times`` a power of
    two: key ``k`` -> ``k // times``)."""
    merged: dict[int, Buckets] = {}
    for key, buckets in windows.items():
        _add(merged, key // times, buckets)
    return merged


def _coarser_counts(counts: dict[int, int], times: int) -> dict[int, int]:
    """``counts`` per window with each ``times`` neighbouring keys added into one."""
    merged: dict[int, int] = {}
    for key, count in counts.items():
        merged[key // times] = merged.get(key // times, 0) + count
    return merged


@dataclass
class LatencyWindows:
    """Answers as expected per time window, recorded one at a time or merged from workers.

    ``clock`` is the wall clock in ns (``time.time_ns``; a test passes its own to cross many
    windows without sleeping); it is not compared or carried to another process.
    """

    width_ns: int = FIRST_WIDTH_NS
    windows: dict[int, Buckets] = field(default_factory=dict)
    #: Window key -> answers not as expected in it (only windows that had one).
    errors: dict[int, int] = field(default_factory=dict)
    clock: Callable[[], int] = field(default=time.time_ns, compare=False, repr=False)

    def record(self, elapsed_ns: int) -> None:
        """Count one answer in the window of now: one clock read and a dict update."""
        key = self.clock() // self.width_ns
        window = self.windows.get(key)
        if window is None:
            key = self._room_for(key)
            window = self.windows.setdefault(key, {})
        value = bucket_us(elapsed_ns // 1000)
        window[value] = window.get(value, 0) + 1

    def record_error(self) -> None:
        """Count one answer that was not as expected in the window of now."""
        key = self.clock() // self.width_ns
        if key not in self.errors:
            key = self._room_for(key)
        self.errors[key] = self.errors.get(key, 0) + 1

    def _kept(self) -> int:
        """How many windows are kept: those with answers as expected or errors."""
        return len(self.windows.keys() | self.errors.keys())

    def _room_for(self, key: int) -> int:
        """``key`` at the width that keeps at most ``MAX_WINDOWS`` windows once it is added."""
        while key not in self.windows and key not in self.errors and self._kept() >= MAX_WINDOWS:
            self._widen()
            key //= 2
        return key

    def _widen(self) -> None:
        self.windows = _coarser(self.windows, 2)
        self.errors = _coarser_counts(self.errors, 2)
        self.width_ns *= 2

    def merge(self, other: LatencyWindows) -> None:
        """Add another worker's windows: both at the coarser width first, then the counts;
        exact, and the same whatever the order of the merges."""
        theirs, their_errors = other.windows, other.errors
        if other.width_ns > self.width_ns:
            times = other.width_ns // self.width_ns
            self.windows = _coarser(self.windows, times)
            self.errors = _coarser_counts(self.errors, times)
            self.width_ns = other.width_ns
        elif other.width_ns < self.width_ns:
            times = self.width_ns // other.width_ns
            theirs = _coarser(theirs, times)
            their_errors = _coarser_counts(their_errors, times)
        for key, buckets in theirs.items():
            _add(self.windows, key, buckets)
        for key, count in their_errors.items():
            self.errors[key] = self.errors.get(key, 0) + count
        while self._kept() > MAX_WINDOWS:
            self._widen()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data for another process; ``from_dict`` rebuilds equal windows."""
        return {
            "width_ns": self.width_ns,
            "windows": [
                [key, sorted(buckets.items())] for key, buckets in sorted(self.windows.items())
            ],
            "errors": sorted(self.errors.items()),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LatencyWindows:
        return cls(
            data["width_ns"],
            {key: dict(pairs) for key, pairs in data["windows"]},
            {key: count for key, count in data.get("errors", ())},
        )

    def stored(self) -> dict[str, Any]:
        """The row's ``windows`` column: width in seconds, the first window's start on the wall
        clock (seconds since the Unix epoch: it places the phase on the run's time axis),
        windows oldest first with their start after the first one's, counts and ascending
        [µs, count] pairs; {} when empty. With answers not as expected, ``errors`` holds
        [start, count] for each window that had some (a start can be before the first
        window's, when errors came before any answer as expected)."""
        if not self.windows and not self.errors:
            return {}
        first = min(self.windows or self.errors)
        width_s = self.width_ns / 1e9
        errors = (
            {"errors": [[(key - first) * width_s, n] for key, n in sorted(self.errors.items())]}
            if self.errors
            else {}
        )
        return {
            "width_s": width_s,
            "start_unix_s": first * self.width_ns / 1e9,
            "windows": [
                {
                    "offset_s": (key - first) * width_s,
                    "count": sum(buckets.values()),
                    "values_us": [[value, count] for value, count in sorted(buckets.items())],
                }
                for key, buckets in sorted(self.windows.items())
            ],
            **errors,
        }
