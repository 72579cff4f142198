"""A stored run compared now with another stored run (``perftest_report --baseline``):
computed and rendered, never stored, so the run keeps the comparison it was made with.

The comparison is ``analysis.compare``'s, as when a run ends; the baseline findings are the
rules' reading of it, in place of those stored with the run; every other finding stays as
stored.
"""

from __future__ import annotations

from typing import Any

from perftest.store import read
from perftest.store.read import StoredRun

from .engine import analyse
from .rules.base import BASELINE


class NotComparable(ValueError):
    """The two runs cannot be compared; the message says why in one line."""


def resolve(stored: StoredRun, asked: str) -> StoredRun:
    """The run ``--baseline`` names for ``stored``: an id (``RunNotFound`` when there is no
    such run), or ``latest``: the latest completed run before it with its target and plan."""
    if asked == "latest":
        found = read.previous_comparable(stored)
        if found is None:
            raise NotComparable(
                f"No earlier completed run with the target and plan of run #{stored.pk} to "
                "compare with."
            )
        return found
    if not asked.isdigit():
        raise NotComparable(f"--baseline takes a run id or 'latest', not {asked!r}.")
    return read.load(int(asked))


def _compare(before: StoredRun, after: StoredRun) -> dict[str, Any]:
    """The comparison engine of issue8-c1 (``analysis.compare``), the one call to it here."""
    from perftest.analysis.compare import compare

    return compare(before, after)


def compared_with(stored: StoredRun, baseline: StoredRun) -> StoredRun:
    """``stored`` compared with ``baseline`` now; ``NotComparable`` when it is the same run or
    the two measured different plans (each difference named)."""
    if baseline.pk == stored.pk:
        raise NotComparable(f"Run #{stored.pk} cannot be its own baseline.")
    differences = baseline.plan.differences(stored.plan)
    if differences:
        raise NotComparable(
            f"Run #{stored.pk} measured another plan than run #{baseline.pk}: "
            + "; ".join(differences)
            + "."
        )
    data = _compare(baseline, stored)
    seen = read.recompared(stored, baseline.pk, data, ())
    fresh = [finding for finding in analyse(seen) if finding.kind == BASELINE]
    return read.recompared(stored, baseline.pk, data, fresh)
