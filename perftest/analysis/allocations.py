"""Where an in-process soak's memory grew, as stored: the lines of code whose live memory grew
most between the end of the warm-up and the end of the steady part.

``measure.allocations`` traced them with ``tracemalloc`` and the level keeps them in
``LoadLevel.soak["allocations"]``; this reads them back for the reports and for the findings
that name where a leak allocates (``top_sites``). A level over HTTP, an abandoned soak (no
end snapshot), a soak stored before allocations were traced, and one with
``PERFTEST["SOAK"]["TRACE_ALLOCATIONS"]`` off have none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Site:
    """A line of code and how its live memory grew over the steady part."""

    #: Relative to the project, ``site-packages/…``, or a module's path: never a machine path.
    file: str
    line: int
    #: Bytes and blocks more at the end than when the warm-up ended.
    size_growth: int
    count_growth: int
    #: Bytes and blocks the line held at the end.
    size: int
    count: int

    @property
    def where(self) -> str:
        """``file:line``, as an editor opens it."""
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Allocations:
    """What a soak's level traced: the growing lines, and the traced memory as a whole."""

    sites: tuple[Site, ...]
    #: Bytes tracemalloc saw live when the warm-up ended and when the steady part ended.
    traced_before: int
    traced_after: int
    #: Seconds after the level's start of each snapshot.
    warmup_snapshot_s: float | None
    end_snapshot_s: float | None
    #: How long the first snapshot held the process (the workers waited on it).
    snapshot_pause_ms: float
    #: Bytes tracemalloc itself used at the end, traces included.
    tracing_overhead: int

    @property
    def traced_growth(self) -> int:
        return self.traced_after - self.traced_before


def _site(data: Mapping[str, Any]) -> Site:
    return Site(
        str(data["file"]),
        int(data["line"]),
        int(data["size_growth"]),
        int(data["count_growth"]),
        int(data["size"]),
        int(data["count"]),
    )


def of(level: Any) -> Allocations | None:
    """A stored level's traced allocations (a ``LoadLevel``); None when it traced none."""
    data = (level.soak or {}).get("allocations")
    if not data:
        return None
    return Allocations(
        sites=tuple(_site(site) for site in data["sites"]),
        traced_before=int(data["traced_before"]),
        traced_after=int(data["traced_after"]),
        warmup_snapshot_s=data.get("warmup_snapshot_s"),
        end_snapshot_s=data.get("end_snapshot_s"),
        snapshot_pause_ms=float(data.get("snapshot_pause_ms", 0.0)),
        tracing_overhead=int(data.get("tracing_overhead", 0)),
    )


def top_sites(level: Any, limit: int | None = None) -> list[Site]:
    """The lines whose live memory grew most over a stored soak level's steady part, the
    largest growth first ([] when it traced none): ``top_sites(level)[0].where`` names where
    a leak most likely allocates."""
    traced = of(level)
    if traced is None:
        return []
    return list(traced.sites[:limit])
