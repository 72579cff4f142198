"""Load schedules and the harness that runs them; ``SCHEDULES`` names each by its model."""

from __future__ import annotations

from perftest.plan.model import LoadPlan

from .closed import Closed
from .open import Open
from .schedule import Schedule

#: The level schedules a plan can ask for, by ``LoadPlan.model``.
SCHEDULES: dict[str, type[Closed] | type[Open]] = {Closed.model: Closed, Open.model: Open}


def schedule_for(load: LoadPlan, workers: int) -> Schedule:
    """The schedule of one level of ``load`` with ``workers`` workers."""
    return SCHEDULES[load.model].from_plan(load, workers)
