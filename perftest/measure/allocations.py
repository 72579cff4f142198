"""Where an in-process soak's memory grew: ``tracemalloc`` totals per line of code, taken when
the warm-up ends and when the steady part ends, compared.

RSS says that memory grew, not where. In-process the server is perftest's own process, so
Python can say which lines hold the memory: ``tracemalloc`` records the line that allocated
each live block. It starts as the soak's level starts (the warm-up's first allocations are
traced, settled by the time of the first snapshot) with one frame per block, the cheapest
depth; each snapshot is reduced at once to a total per line (a few thousand entries instead of
one per live block), so what the steady part keeps of it is small. Over HTTP the server's memory
is another process's and nothing is traced.

File names are never a path of this machine: relative to the project (``settings.BASE_DIR``),
``site-packages/…`` for installed packages, or the module's path on ``sys.path``.
"""

from __future__ import annotations

import os
import sys
import time
import tracemalloc
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.conf import settings

#: One frame per block: the line that allocated it, the cheapest depth that names a line.
TRACE_DEPTH = 1
#: How many growing lines a soak's level keeps.
TOP_SITES = 10

#: tracemalloc's own, the import system's and this module's lines: not the measured code's
#: memory. Left out line by line after grouping (with one frame per block the same as
#: ``Snapshot.filter_traces``, which matches every block in Python: seconds for a million).
_NOT_MEASURED = frozenset(
    {
        tracemalloc.__file__,
        __file__,
        "<frozen importlib._bootstrap>",
        "<frozen importlib._bootstrap_external>",
        "<unknown>",
    }
)

#: A line of code, as tracemalloc names it: (file name, line number).
Line = tuple[str, int]
#: Bytes and blocks live per line at one moment.
Totals = Mapping[Line, tuple[int, int]]


def line_totals() -> dict[Line, tuple[int, int]]:
    """Bytes and blocks live now per line that allocated them (tracing must be on)."""
    totals = {}
    for stat in tracemalloc.take_snapshot().statistics("lineno"):
        frame = stat.traceback[0]
        if frame.filename not in _NOT_MEASURED:
            totals[(frame.filename, frame.lineno)] = (stat.size, stat.count)
    return totals


def project_roots() -> list[str]:
    """Where the measured code's files are named from: the project first, then ``sys.path``'s
    folders, deepest first (so ``json/encoder.py``, not ``encoder.py``)."""
    base = getattr(settings, "BASE_DIR", None) if settings.configured else None
    folders = sorted(
        {os.path.abspath(entry) for entry in sys.path if entry and os.path.isdir(entry)},
        key=len,
        reverse=True,
    )
    return ([os.path.abspath(str(base))] if base else []) + folders


def site_name(filename: str, roots: Sequence[str]) -> str:
    """``filename`` as a report shows it: never a path of this machine."""
    if filename.startswith("<"):  # "<frozen …>", "<string>": no path to hide
        return filename
    parts = os.path.normpath(filename).split(os.sep)
    for packages in ("site-packages", "dist-packages"):
        if packages in parts:
            after = len(parts) - parts[::-1].index(packages)
            return "/".join(["site-packages", *parts[after:]])
    path = os.path.abspath(filename)
    for root in roots:
        if path.startswith(root.rstrip(os.sep) + os.sep):
            return os.path.relpath(path, root).replace(os.sep, "/")
    return os.path.basename(path)


def growing_sites(
    before: Totals, after: Totals, roots: Sequence[str], limit: int = TOP_SITES
) -> list[dict[str, Any]]:
    """The ``limit`` lines whose live bytes grew most from ``before`` to ``after``: where,
    how much (bytes and blocks), and what each holds at the end."""
    grown = []
    for line, (size, count) in after.items():
        size_before, count_before = before.get(line, (0, 0))
        if size > size_before:
            grown.append((size - size_before, count - count_before, line, size, count))
    grown.sort(key=lambda site: (-site[0], site[2]))
    return [
        {
            "file": site_name(filename, roots),
            "line": lineno,
            "size_growth": size_growth,
            "count_growth": count_growth,
            "size": size,
            "count": count,
        }
        for size_growth, count_growth, (filename, lineno), size, count in grown[:limit]
    ]


def _total(totals: Totals) -> int:
    return sum(size for size, _ in totals.values())


def _seconds_after(moment: float, start_unix_ns: int) -> float | None:
    return round(moment - start_unix_ns / 1e9, 3) if start_unix_ns else None


class AllocationTrace:
    """``tracemalloc`` over one in-process soak level: ``start`` as the level starts,
    ``warmup_over`` once its warm-up ends (the harness's thread, between progress ticks),
    ``finish`` when the level has ended, with the growing lines as ``LoadLevel.soak`` keeps
    them. Tracing stops with ``finish`` or ``stop`` only if this trace started it."""

    def __init__(self, roots: Iterable[str]):
        self.roots = list(roots)
        self._started_here = False
        self._before: dict[Line, tuple[int, int]] | None = None
        self._before_at = 0.0
        #: How long the warm-up's snapshot held the process (every worker waits on it).
        self._pause_s = 0.0

    def start(self) -> None:
        if not tracemalloc.is_tracing():
            tracemalloc.start(TRACE_DEPTH)
            self._started_here = True

    def warmup_over(self) -> None:
        """The first snapshot, once: what the steady part's growth is measured from."""
        if self._before is None and tracemalloc.is_tracing():
            began = time.perf_counter()
            self._before, self._before_at = line_totals(), time.time()
            self._pause_s = time.perf_counter() - began

    def finish(self, level_started_unix_ns: int) -> dict[str, Any] | None:
        """The second snapshot compared with the first: the growing lines and what was
        traced. None when the warm-up never ended (nothing to compare with)."""
        try:
            if self._before is None or not tracemalloc.is_tracing():
                return None
            after, after_at = line_totals(), time.time()
            before_total, after_total = _total(self._before), _total(after)
            return {
                "depth": tracemalloc.get_traceback_limit(),
                "warmup_snapshot_s": _seconds_after(self._before_at, level_started_unix_ns),
                "end_snapshot_s": _seconds_after(after_at, level_started_unix_ns),
                "snapshot_pause_ms": round(self._pause_s * 1000, 1),
                "traced_before": before_total,
                "traced_after": after_total,
                "traced_growth": after_total - before_total,
                "tracing_overhead": tracemalloc.get_tracemalloc_memory(),
                "sites": growing_sites(self._before, after, self.roots),
            }
        finally:
            self.stop()

    def stop(self) -> None:
        """Tracing stops if this trace started it; a second call does nothing."""
        self._before = None
        if self._started_here:
            tracemalloc.stop()
            self._started_here = False
