"""How much of the machine a phase had, and how the machine itself drifted between two runs.

A scaling verdict (peak, knee) compares levels as if the target had the machine to itself.
When other processes used a real share of the CPU during a level, a slowdown may come from
them, so the verdict keeps its numbers but says so plainly. A caveat rather than withholding:
the numbers are still true, a run on a shared CI runner still wants its curve, and the caveat
names the other load so a reader can judge (or rerun on a quiet machine).

A comparison with a baseline is stricter, since it can fail a build: a phase (a sequential
pass, a level) that was busy in either run gets no latency or throughput verdict at all
(``busy_note``), and the drift of the machine between the runs, read from both runs'
calibration samples (``Drift``), is set aside before a latency or throughput change counts.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from perftest.store.read import MachineUse, StoredRun
from perftest.text import level_label, number, quantity

#: Other processes busy on this many cores or more during a level make its verdicts suspect:
#: half a core is a busy program (a build, another test suite), well above background noise.
OTHER_CORES_LIMIT = 0.5
#: ...and so does a machine left with less than this share of its CPU free during a level,
#: when other processes took at least half of ``OTHER_CORES_LIMIT`` of it.
MIN_FREE_SHARE = 0.2


def free_share(use: Any, cpu_count: int) -> float | None:
    """The share of the machine's CPU no process used during a phase (None if not read)."""
    if use.system_cores is None or cpu_count < 1:
        return None
    return max(0.0, 1 - use.system_cores / cpu_count)


def busy(use: Any, cpu_count: int) -> bool:
    """Other processes took a share of the machine that can move a phase's figures (``use``
    is a level or a ``MachineUse``)."""
    if use.other_cores is None:
        return False
    free = free_share(use, cpu_count)
    crowded = free is not None and free < MIN_FREE_SHARE
    return use.other_cores >= OTHER_CORES_LIMIT or (
        crowded and use.other_cores >= OTHER_CORES_LIMIT / 2
    )


def load_text(stored: StoredRun, use: MachineUse) -> str:
    """``other processes used 1.02 cores of 2 (python3, pid 412: 0.98 cores); 3 % of the
    machine was free``."""
    cpu_count = stored.row.resource_cpu_count
    free = free_share(use, cpu_count)
    left = f"; {free:.0%} of the machine was free" if free is not None else ""
    others = use.others
    named = ", ".join(
        f"{other['name']}, pid {other['pid']}: {other['cores']:.2f} cores" for other in others
    )
    if named and use.other_cores - sum(other["cores"] for other in others) >= OTHER_CORES_LIMIT:
        named += "; the rest by processes that started or ended during the phase"
    return (
        f"other processes used {use.other_cores:.2f} cores of "
        f"{quantity(cpu_count, 'core')}" + (f" ({named})" if named else "") + left
    )


def caveat(stored: StoredRun, levels: Iterable[Any]) -> str:
    """A sentence naming the other load during any of ``levels``, or "" when there was none."""
    crowded = [level for level in levels if busy(level, stored.row.resource_cpu_count)]
    if not crowded:
        return ""
    parts = "; ".join(
        f"at {level_label(level)} {load_text(stored, stored.level_machine(level))}"
        for level in crowded
    )
    return (
        f"Caveat: the machine was busy with other programs ({parts}), so part of this may "
        "come from them, not from the target."
    )


def busy_note(sides: Sequence[tuple[StoredRun, MachineUse | None]]) -> str:
    """``the machine was busy in run #12 (others used 1.52 cores)`` for each run that was busy
    during the compared phase ("" when neither was, or neither phase was read)."""
    busy_runs = [
        f"run #{stored.pk} (others used {use.other_cores:.2f} cores)"
        for stored, use in sides
        if use is not None and busy(use, stored.row.resource_cpu_count)
    ]
    return f"the machine was busy in {' and '.join(busy_runs)}" if busy_runs else ""


#: Calibration samples each run needs before its drift is read.
MIN_CALIBRATION_SAMPLES = 3
#: A machine whose calibration ran more than this many times slower (or faster) in one run
#: than in the other is too different to compare on latency or throughput at all.
DRIFT_LIMIT = 2.0


def _ratio(before: Sequence[int], after: Sequence[int]) -> float | None:
    """The ratio of the medians after/before (None with too few samples on a side)."""
    if min(len(before), len(after)) < MIN_CALIBRATION_SAMPLES:
        return None
    was = statistics.median(before)
    return statistics.median(after) / was if was else None


@dataclass(frozen=True)
class Drift:
    """How much slower (above 1) or faster the machine itself was in the compared run than in
    its baseline: the ratio after/before of the median reference workload and of the median
    trivial request (None when a run recorded too few samples)."""

    reference: float | None
    trivial: float | None

    @classmethod
    def between(cls, before: StoredRun, after: StoredRun) -> Drift:
        was, now = before.calibration, after.calibration
        if (was.reference_rounds, was.trivial_path, was.timings_per_sample) != (
            now.reference_rounds,
            now.trivial_path,
            now.timings_per_sample,
        ):
            return cls(None, None)  # another yardstick: its times are not comparable
        return cls(
            _ratio(was.reference_ns, now.reference_ns), _ratio(was.trivial_ns, now.trivial_ns)
        )

    @property
    def factors(self) -> list[float]:
        return [ratio for ratio in (self.reference, self.trivial) if ratio]

    @property
    def range(self) -> tuple[float, float]:
        """The ratios after/before the drift explains by itself: from the fastest to the
        slowest of the two yardsticks, and always 1 (no drift at all)."""
        factors = [1.0, *self.factors]
        return min(factors), max(factors)

    @property
    def too_far(self) -> bool:
        low, high = self.range
        return high > DRIFT_LIMIT or low < 1 / DRIFT_LIMIT

    def text(self, baseline: int) -> str:
        """``the machine's calibration took 1.12x (reference workload) and 0.97x (trivial
        request) as long in this run as in run #12``."""
        named = [
            f"{ratio:.2f}x ({name})"
            for name, ratio in (
                ("reference workload", self.reference),
                ("trivial request", self.trivial),
            )
            if ratio
        ]
        return (
            f"the machine's calibration took {' and '.join(named)} as long in this run as in "
            f"run #{baseline}"
        )

    def as_dict(self) -> dict[str, Any]:
        low, high = self.range
        return {
            "reference_ratio": self.reference,
            "trivial_ratio": self.trivial,
            "explained_low": low,
            "explained_high": high,
        }


def judging(
    before: StoredRun,
    after: StoredRun,
    uses: tuple[MachineUse | None, MachineUse | None],
    drift: Drift,
) -> tuple[str, tuple[float, float]]:
    """Whether a compared phase's latency and throughput can be judged: the reason they are
    not ("no verdict: ..."; "" when they can) and the ratios after/before the machine's own
    drift explains, which a change must lie beyond."""
    note = busy_note(((before, uses[0]), (after, uses[1])))
    if note:
        return f"no verdict: {note}", (1.0, 1.0)
    if drift.too_far:
        return (
            f"no verdict: {drift.text(before.pk)}, beyond the {number(DRIFT_LIMIT)}x a "
            "comparison allows",
            (1.0, 1.0),
        )
    return "", drift.range
