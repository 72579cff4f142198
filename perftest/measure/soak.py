"""A soak's level as it goes: checkpoints handed up while it runs, and where its warm-up ends.

A soak (``--soak``, ``plan.soak``) is one open level lasting hours. Every ``checkpoint_s``
seconds the harness merges what its workers measured so far into a ``LevelResult`` and hands
it to ``Checkpoints.store``, a callback the lifecycle passes down, which stores it: the
measuring core itself never touches the database. ``describe`` puts on each level, partial
or whole, what the analysis needs to tell the unjudged warm-up from the steady part:
``warmup_ends_s`` is in the frame of the level's own stored windows (seconds after the start
of its first window), so the windows before it are the warm-up's. An in-process soak also
traces its allocations (``measure.allocations``): the harness tells the trace when the warm-up
is over, between the same ticks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from perftest.plan.soak import SoakPlan

from .heap import give_back_freed_memory, set_long_lived_aside, take_long_lived_back
from .result import LevelResult

if TYPE_CHECKING:
    from .allocations import AllocationTrace

#: Stores a level in progress (the lifecycle's callback, through ``store.write``).
Store = Callable[[LevelResult], None]


def describe(level: LevelResult, soak: SoakPlan, checkpoints: int) -> None:
    """Put the soak's parts, and where its warm-up ends, on ``level`` (``level.soak``)."""
    warmup_ends = level.started_unix_ns / 1e9 + soak.warmup_s
    windows = level.overall.windows
    first_window_s = min(windows.windows) * windows.width_ns / 1e9 if windows.windows else None
    level.soak = {
        "steady_s": soak.steady_s,
        "warmup_s": soak.warmup_s,
        "checkpoint_s": soak.checkpoint_s,
        "checkpoints": checkpoints,
        "covered_s": round(level.window_ns / 1e9, 3),
        "warmup_ends_at": round(warmup_ends, 3) if level.started_unix_ns else None,
        "warmup_ends_s": (
            round(warmup_ends - first_window_s, 3)
            if first_window_s is not None and level.started_unix_ns
            else None
        ),
    }


@dataclass
class Checkpoints:
    """When a soak's level stores what it has so far, and how: ``poll`` is called by the
    harness between progress ticks (never per request), ``take`` stores one checkpoint."""

    soak: SoakPlan
    store: Store
    #: The level's allocation trace (in-process soaks), told when the warm-up is over.
    allocations: AllocationTrace | None = None
    count: int = 0
    _next: float = 0.0
    _warmup_ends: float = 0.0

    def start(self) -> None:
        """Called as the workers are released: the first checkpoint is one interval later.
        What is alive now is set aside from the garbage collector until ``stop``, so each
        checkpoint's collection is short. Without a warm-up, the allocations' first snapshot
        is taken now, before any request."""
        set_long_lived_aside()
        now = time.monotonic()
        self._next = now + self.soak.checkpoint_s
        self._warmup_ends = now + self.soak.warmup_s
        if self.allocations is not None and self.soak.warmup_s <= 0:
            self.allocations.warmup_over()

    def stop(self) -> None:
        """The level ended, however it ended."""
        take_long_lived_back()

    def poll(self, merged: Callable[[], LevelResult]) -> None:
        """Between ticks: the allocations' first snapshot once the warm-up is over, and a
        checkpoint of the figures ``merged`` so far when one is due."""
        now = time.monotonic()
        if self.allocations is not None and now >= self._warmup_ends:
            self.allocations.warmup_over()
        if now >= self._next:
            self.take(merged)

    def take(self, merged: Callable[[], LevelResult]) -> None:
        """Store the workers' figures merged so far (``merged()``), marked as cut short: if the
        run dies before the next checkpoint, that is what it is. The level is built here and
        dropped before the freed memory is given back, so each checkpoint leaves perftest's
        memory where it found it."""
        self.count += 1
        self._next = time.monotonic() + self.soak.checkpoint_s
        level = merged()
        level.interrupted = True
        describe(level, self.soak, self.count)
        self.store(level)
        del level
        give_back_freed_memory()
