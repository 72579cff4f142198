"""The one Engine interface: who sends a load level's requests, and what a level needs.

Two engines implement it: the thread engine (``threads``: worker threads of this process) and
the Locust engine (``locust_engine``: Locust's master and worker processes). Both are handed
the same per-identity set-up (``measure.setup``, built once), and for each level they get its
schedule (``schedule_for``), run it until its end or the stop signal (Ctrl-C, or an abort rule
on the thread engine) and return its ``LevelResult``. The session never asks which one runs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from perftest.measure.result import LevelResult
from perftest.measure.transport.base import RequestSpec, Transport
from perftest.plan.model import LoadPlan

from .closed import Closed
from .open import Open
from .schedule import Schedule

if TYPE_CHECKING:
    from perftest.measure.soak import Checkpoints

Tick = Callable[[str], None]
#: How often the progress line is refreshed, in seconds.
TICK_S = 0.2

#: The level schedules a plan can ask for, by ``LoadPlan.model``.
SCHEDULES: dict[str, type[Closed] | type[Open]] = {Closed.model: Closed, Open.model: Open}


def schedule_for(load: LoadPlan, workers: int) -> Schedule:
    """The schedule of one level of ``load`` with ``workers`` workers."""
    return SCHEDULES[load.model].from_plan(load, workers)


@dataclass
class WorkerSetup:
    """One worker's prepared requests (its identity's, one per endpoint of the mix), or why it
    has none."""

    specs: dict[str, RequestSpec] | None
    logins: int = 0
    failure: str = ""
    #: The role of the worker's identity, when the run splits its results by role.
    role: str = ""
    #: Requests sent to capture path values from answers (``measure.params``), not counted.
    captures: int = 0


#: Called in each worker's own thread with its index and its own transport, so a login
#: travels through the connection (in-process: the database connection) the worker then uses.
Prepare = Callable[[int, Transport], WorkerSetup]


class LevelInterrupted(KeyboardInterrupt):
    """Ctrl-C during a level; ``result`` holds what was measured, marked interrupted."""

    def __init__(self, result: LevelResult):
        super().__init__("load level interrupted")
        self.result = result


class Engine(ABC):
    """Runs a plan's load levels, one at a time: ``with engine:`` then ``run_level`` per level.

    Entering starts what the engine needs for every level (the Locust processes); leaving
    stops it, whatever ended the levels.
    """

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Nothing to stop unless the engine started something."""
        return None

    @abstractmethod
    def run_level(
        self, schedule: Schedule, tick: Tick, checkpoints: Checkpoints | None = None
    ) -> LevelResult:
        """Run one level of ``schedule`` with the prepared workers and return it merged.

        The stop signal (Ctrl-C) raises ``LevelInterrupted`` carrying what was measured,
        marked interrupted; a level an abort rule stopped comes back with ``aborted`` set.
        A soak's ``checkpoints`` get the figures so far every interval while it runs (the
        thread engine only: the plan refuses ``--soak`` on Locust's).
        """


def correct_for_coordinated_omission(level: LevelResult) -> None:
    """Add the level's latency corrected for coordinated omission, as wrk2 corrects it.

    The expected interval is the level's own p50: in a closed level a worker sends its next
    request when the last one answers, so the typical answer time is the interval at which a
    worker normally sends. The median is untouched by a rare stall, so a stall cannot widen
    the interval that exposes it (a mean would); the sequential pass's p50 would describe one
    client on an idle server, not this level's workers. Both engines apply it to a closed level.
    """
    latency = level.overall.latency
    level.expected_interval_ns = int(latency.percentile_ms(50) * 1e6)
    level.corrected = latency.corrected(level.expected_interval_ns)
