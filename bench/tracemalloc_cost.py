"""What tracing allocations costs an in-process soak: perftest's measured requests with
``tracemalloc`` on (one frame, as a soak traces) against off, and the pause of one snapshot.

Both loops run in one process, alternating small blocks many times so that machine noise hits
both alike, each block timed in this thread's CPU time (``inprocess_overhead.py``'s method and
its measured request: transport.send plus recording). Tracing starts before each traced block
and stops after it. The snapshot pause is ``measure.allocations.line_totals`` once the process
holds what it holds after the blocks, timed in wall-clock time (the workers wait that long),
for each target.

    python bench/tracemalloc_cost.py [--blocks 41] [--trivial 200] [--list 50]
"""

from __future__ import annotations

import statistics
import time
import tracemalloc

from inprocess_overhead import compared_targets, perftest_block

from perftest.measure.allocations import TRACE_DEPTH, line_totals
from perftest.measure.transport.base import RequestSpec


def traced_block(spec: RequestSpec, n: int) -> float:
    tracemalloc.start(TRACE_DEPTH)
    try:
        return perftest_block(spec, n)
    finally:
        tracemalloc.stop()


def compare(name: str, path_: str, token: str | None, n: int, blocks: int) -> dict[str, float]:
    """Alternate untraced and traced blocks; compare the medians of their per-request costs,
    then time one snapshot after ``n`` traced requests."""
    headers = (("Authorization", f"Token {token}"),) if token else ()
    spec = RequestSpec(name, "GET", path_, headers)
    perftest_block(spec, n)  # warm the path
    off, on = [], []
    for _ in range(blocks):
        off.append(perftest_block(spec, n))
        on.append(traced_block(spec, n))
    off_us, on_us = statistics.median(off), statistics.median(on)
    pause_s, traced, lines = snapshot_pause(spec, n)
    return {
        "off_us": off_us,
        "on_us": on_us,
        "added_us": on_us - off_us,
        "ratio": on_us / off_us,
        "snapshot_ms": pause_s * 1000,
        "traced_mb": traced / 2**20,
        "lines": lines,
    }


def snapshot_pause(spec: RequestSpec, n: int) -> tuple[float, int, int]:
    """Seconds one snapshot takes with tracing on since before ``n`` requests, the bytes it
    saw traced, and its lines."""
    tracemalloc.start(TRACE_DEPTH)
    try:
        perftest_block(spec, n)
        began = time.perf_counter()
        totals = line_totals()
        return time.perf_counter() - began, sum(s for s, _ in totals.values()), len(totals)
    finally:
        tracemalloc.stop()


def main() -> None:
    rows = compared_targets(__doc__.splitlines()[0], compare)
    print(f"{'target':40} {'off µs':>9} {'traced µs':>10} {'added µs':>9} {'ratio':>7}")
    for name, row in rows:
        print(
            f"{name:40} {row['off_us']:9.1f} {row['on_us']:10.1f} "
            f"{row['added_us']:9.1f} {row['ratio']:7.3f}"
        )
    for name, row in rows:
        print(
            f"{name}: one snapshot {row['snapshot_ms']:.1f} ms for {row['traced_mb']:.1f} MB "
            f"traced, {row['lines']:.0f} lines"
        )


if __name__ == "__main__":
    main()
