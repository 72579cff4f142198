"""How much of the machine a load level had: the other programs' share, and the caveat it earns.

A scaling verdict (peak, knee) compares levels as if the target had the machine to itself.
When other processes used a real share of the CPU during a level, a slowdown may come from
them, so the verdict keeps its numbers but says so plainly. A caveat rather than withholding:
the numbers are still true, a run on a shared CI runner still wants its curve, and the caveat
names the other load so a reader can judge (or rerun on a quiet machine).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from perftest.store.read import StoredRun
from perftest.text import level_label, quantity

#: Other processes busy on this many cores or more during a level make its verdicts suspect:
#: half a core is a busy program (a build, another test suite), well above background noise.
OTHER_CORES_LIMIT = 0.5
#: ...and so does a machine left with less than this share of its CPU free during a level,
#: when other processes took at least half of ``OTHER_CORES_LIMIT`` of it.
MIN_FREE_SHARE = 0.2


def free_share(level: Any, cpu_count: int) -> float | None:
    """The share of the machine's CPU no process used during the level (None if not read)."""
    if level.system_cores is None or cpu_count < 1:
        return None
    return max(0.0, 1 - level.system_cores / cpu_count)


def busy(level: Any, cpu_count: int) -> bool:
    """Other processes took a share of the machine that can move the level's figures."""
    if level.other_cores is None:
        return False
    free = free_share(level, cpu_count)
    crowded = free is not None and free < MIN_FREE_SHARE
    return level.other_cores >= OTHER_CORES_LIMIT or (
        crowded and level.other_cores >= OTHER_CORES_LIMIT / 2
    )


def load_text(stored: StoredRun, level: Any) -> str:
    """``other processes used 1.02 cores of 2 (python3, pid 412: 0.98 cores); 3 % of the
    machine was free``."""
    cpu_count = stored.row.resource_cpu_count
    free = free_share(level, cpu_count)
    left = f"; {free:.0%} of the machine was free" if free is not None else ""
    others = stored.other_processes(level)
    named = ", ".join(
        f"{other['name']}, pid {other['pid']}: {other['cores']:.2f} cores" for other in others
    )
    if named and level.other_cores - sum(other["cores"] for other in others) >= OTHER_CORES_LIMIT:
        named += "; the rest by processes that started or ended during the level"
    return (
        f"other processes used {level.other_cores:.2f} cores of "
        f"{quantity(cpu_count, 'core')}" + (f" ({named})" if named else "") + left
    )


def caveat(stored: StoredRun, levels: Iterable[Any]) -> str:
    """A sentence naming the other load during any of ``levels``, or "" when there was none."""
    crowded = [level for level in levels if busy(level, stored.row.resource_cpu_count)]
    if not crowded:
        return ""
    parts = "; ".join(f"at {level_label(level)} {load_text(stored, level)}" for level in crowded)
    return (
        f"Caveat: the machine was busy with other programs ({parts}), so part of this may "
        "come from them, not from the target."
    )
