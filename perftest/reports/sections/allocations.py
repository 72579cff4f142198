"""Where an in-process soak's memory grew: the lines of code whose live memory grew most over
its steady part, as ``tracemalloc`` traced them (``analysis.allocations``).

RSS growth says that memory grew; these lines say where to look. The section also says what
tracing cost, since the soak's latencies were measured with it on.
"""

from __future__ import annotations

from typing import Any

from perftest.analysis import allocations
from perftest.analysis.allocations import Allocations
from perftest.store.read import StoredRun
from perftest.text import level_label, ms, size, span

from ..blocks import Block, Heading, Paragraph, Table

HEADING = "Where memory grew (allocation sites, in-process)"


def _traced(stored: StoredRun) -> list[tuple[Any, Allocations]]:
    return [(level, traced) for level in stored.levels if (traced := allocations.of(level))]


def _moment(seconds: float | None) -> str:
    return f" ({span(seconds)} into the level)" if seconds is not None else ""


def _level(level: Any, traced: Allocations) -> list[Block]:
    end = "its interruption" if level.interrupted else "the steady part's end"
    grew = traced.traced_growth
    blocks: list[Block] = [
        Paragraph(
            f"Level {level_label(level)}: between the warm-up's end"
            f"{_moment(traced.warmup_snapshot_s)} and {end}{_moment(traced.end_snapshot_s)}, "
            f"the memory tracemalloc traced {'grew' if grew >= 0 else 'shrank'} by "
            f"{size(abs(grew))} ({size(traced.traced_before)} to {size(traced.traced_after)})."
        )
    ]
    if not traced.sites:
        blocks.append(Paragraph("No line's live memory grew."))
        return blocks
    blocks += [
        Paragraph("The lines whose live memory grew most:"),
        Table(
            ["Where (file:line)", "Growth", "Blocks added", "Held at the end", "Blocks at the end"],
            [
                [
                    site.where,
                    f"+{size(site.size_growth)}",
                    site.count_growth,
                    size(site.size),
                    site.count,
                ]
                for site in traced.sites
            ],
            right=frozenset({1, 2, 3, 4}),
        ),
    ]
    return blocks


def section(stored: StoredRun) -> list[Block]:
    """The growing lines of each traced level; nothing for a run that traced none."""
    traced = _traced(stored)
    if not traced:
        return []
    blocks: list[Block] = [
        Heading(HEADING),
        Paragraph(
            "In-process, this process is the app and perftest together: tracemalloc traced "
            "every allocation from the soak's start, one frame per block (the line that "
            "allocated it), and compared the memory live per line at the warm-up's end and "
            "at the end."
        ),
    ]
    for level, level_traced in traced:
        blocks += _level(level, level_traced)
    return blocks


def methodology(stored: StoredRun) -> list[str]:
    """The methodology's line: this soak's latencies were measured with tracemalloc on."""
    traced = _traced(stored)
    if not traced:
        return []
    pause = max(level_traced.snapshot_pause_ms for _, level_traced in traced)
    overhead = max(level_traced.tracing_overhead for _, level_traced in traced)
    return [
        "Allocations were traced (tracemalloc, one frame per block) from the soak's start: "
        "its latencies were measured with tracing on, which slows every allocation of this "
        f"process; the warm-up's snapshot held the process {ms(pause)} and tracemalloc itself "
        f'held {size(overhead)} at the end (PERFTEST["SOAK"]["TRACE_ALLOCATIONS"] = False '
        "turns tracing off)."
    ]
