"""A stored run compared now with another stored run (``perftest_report --baseline``):
computed and rendered, never stored, so the run keeps the comparison it was made with.

The comparison is ``analysis.compare``'s, as when a run ends; the baseline findings are the
rules' reading of it, in place of those stored with the run; every other finding stays as
stored.
"""

from __future__ import annotations

from typing import Any

from perftest.store import baselines
from perftest.store.read import StoredRun

from .compare import compare
from .findings import analyse
from .rules.base import BASELINE


class NotComparable(ValueError):
    """The two runs cannot be compared; the message says why in one line."""


def resolve(stored: StoredRun, asked: str) -> StoredRun:
    """The run ``--baseline`` names for ``stored``, checked as a run's own ``--baseline`` is
    (``store.baselines.baseline_for``): an id of a completed run of the same target and plan, or
    ``latest``, the latest such run before it. ``RunNotFound`` never: an unknown id is one of
    the reasons ``NotComparable`` gives."""
    if asked != "latest" and not asked.isdigit():
        raise NotComparable(f"--baseline takes a run id or 'latest', not {asked!r}.")
    if asked == str(stored.pk):
        raise NotComparable(f"Run #{stored.pk} cannot be its own baseline.")
    if asked == "latest":
        return StoredRun.of(latest_before(stored))
    try:
        row = baselines.baseline_for(asked, stored.row.target, stored.plan, before=stored.row)
    except baselines.BaselineRefused as refused:
        raise NotComparable(str(refused)) from None
    return StoredRun.of(row)


def latest_before(stored: StoredRun) -> Any:
    """The row of the latest completed run of the target and plan of ``stored`` that started
    before it (not read further: the admin only links to it), ``NotComparable`` when none."""
    row = baselines.baseline_for("latest", stored.row.target, stored.plan, before=stored.row)
    if row is None:
        raise NotComparable(
            f"No earlier completed run with the target and plan of run #{stored.pk} to "
            "compare with."
        )
    return row


def compared_with(stored: StoredRun, baseline: StoredRun) -> StoredRun:
    """``stored`` compared with ``baseline`` (``resolve``'s) now, nothing saved."""
    data = compare(baseline, stored)
    seen = baselines.recompared(stored, baseline.pk, data, ())
    fresh = [finding for finding in analyse(seen) if finding.kind == BASELINE]
    return baselines.recompared(stored, baseline.pk, data, fresh)
