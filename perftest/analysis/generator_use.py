"""How much of what it could have the load generator used in a level: is perftest the limit?

A level measures the server only while the generator keeps up. The generator is every process
that sends the load, and ``generator_cpu_s`` is their CPU summed (the thread engine: one
process; the Locust engine: its master and every worker). One Python process runs Python on
about one core (the GIL), and all of them together on at most the cores the machine had left
once other programs, the measured server and a local database server had theirs. So the
generator could have ``min(processes, cores left)`` cores, and it is saturated when it used
``GENERATOR_CORES_LIMIT`` of that or more. Workers on other machines (``--master``) add a
core each: their machines' load is not known here.

The rule ``bottleneck.generator_cpu`` fires on it, and the capacity search and the
what-breaks-first ranking ask ``generator_saturated`` before they blame the server.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from perftest.plan.model import RunPlan
from perftest.text import quantity

#: A single busy Python thread shows as 0.85-0.95 of a core (the rest is waiting on sockets
#: and the GIL hand-off), so 0.85 of what the generator could have catches it where 0.9
#: missed a generator at 0.88; summed over processes, the same share of their cores.
GENERATOR_CORES_LIMIT = 0.85
#: Below this much wall time a level's CPU share is noise (a level ended by a dead target
#: lasts milliseconds), so the generator is not judged on it.
GENERATOR_MIN_WALL_S = 0.1
#: The least the generator is taken to have had, however full the machine: with nothing
#: left, a few hundredths of a core of its own would read as saturated.
MIN_AVAILABLE_CORES = 0.25


class GeneratorUse(NamedTuple):
    """A level's generator: the cores it used and could have had, and whether that was all."""

    cores: float
    available: float
    processes: int
    saturated: bool
    cpu_count: int
    #: What the machine's other programs, the server and the database used (None: not read).
    other_cores: float | None = None
    server_cores: float | None = None
    database_cores: float | None = None
    #: Of ``processes``, those on other machines.
    remote: int = 0

    def text(self) -> str:
        """``perftest used 1.54 cores of the 1.62 it could have (2 processes, 2 cores, others
        0.10, server 0.28)``."""
        remote = f", {self.remote} of them on other machines" if self.remote else ""
        figures = [
            quantity(self.processes, "process", "processes") + remote,
            quantity(self.cpu_count, "core"),
            *(
                f"{name} {value:.2f}"
                for name, value in (
                    ("others", self.other_cores),
                    ("server", self.server_cores),
                    ("database", self.database_cores),
                )
                if value is not None
            ),
        ]
        return (
            f"perftest used {self.cores:.2f} cores of the {self.available:.2f} it could have "
            f"({', '.join(figures)})"
        )

    @property
    def left(self) -> float:
        """Cores this machine left for perftest once the others, server and database had theirs."""
        taken = sum(v or 0.0 for v in (self.other_cores, self.server_cores, self.database_cores))
        return max(self.cpu_count - taken, MIN_AVAILABLE_CORES)


def generator_use(level: Any, cpu_count: int, remote_processes: int = 0) -> GeneratorUse:
    """The generator's use of what it could have in ``level`` (a stored ``LoadLevel``, or any
    object with its fields) on a machine of ``cpu_count`` cores; ``remote_processes`` of its
    processes ran on other machines."""
    processes = max(getattr(level, "generator_processes", 1) or 1, 1)
    remote = min(max(remote_processes, 0), processes)
    use = GeneratorUse(
        cores=level.generator_cpu_s / level.wall_s if level.wall_s > 0 else 0.0,
        available=0.0,
        processes=processes,
        saturated=False,
        cpu_count=max(cpu_count, 1),
        other_cores=getattr(level, "other_cores", None),
        server_cores=getattr(level, "server_cores", None),
        database_cores=getattr(level, "database_cores", None),
        remote=remote,
    )
    available = min(processes - remote, use.left) + remote
    saturated = (
        level.wall_s >= GENERATOR_MIN_WALL_S and use.cores >= GENERATOR_CORES_LIMIT * available
    )
    return use._replace(available=available, saturated=saturated)


def generator_saturated(level: Any, cpu_count: int, remote_processes: int = 0) -> bool:
    """Whether the generator, not the server, set the pace of ``level`` (``generator_use``)."""
    return generator_use(level, cpu_count, remote_processes).saturated


def machine_cores(run: Any) -> int:
    """The cores of the machine a stored run measured on (``Run.environment["cpu_count"]``,
    else the resource sampler's count)."""
    return int((run.environment or {}).get("cpu_count") or run.resource_cpu_count or 1)


def remote_processes(plan: RunPlan) -> int:
    """The Locust workers a plan expected from other machines (0 for the thread engine)."""
    engine = plan.load.engine
    return engine.remote_workers if engine.name == "locust" else 0
