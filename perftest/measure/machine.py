"""The machine is part of the measurement: whose CPU was busy while a level ran.

A level's figures only describe the target when the target had the machine to itself. A
``CpuWindow`` reads cumulative CPU times when the level's clock starts and again when its
workers have ended, so every figure covers exactly the level's own window (not a few sparse
samples): the whole machine's busy cores, perftest's own processes (this one, and the Locust
engine's master and workers when it sends the load), the measured server's process tree, and
what is left, the cores other processes used.

A PostgreSQL server on this machine runs the target's queries in its own processes, so its
process tree is counted apart (``database_cores``), never as other load: otherwise a
database-heavy level would call its own queries a busy neighbour. The server's and the
database's cores are what the generator could not have: the generator-limit rule takes them
from the machine's cores to know how much was left for perftest.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psutil

if TYPE_CHECKING:
    from .result import LevelResult


def busy_seconds(times: Any = None) -> float:
    """CPU seconds the whole machine spent on anything but idling, summed over its cores.

    ``times`` is a ``psutil.cpu_times()`` reading (read now when not given).
    """
    times = times or psutil.cpu_times()
    idle = times.idle + getattr(times, "iowait", 0.0)
    return sum(times) - idle


def _process_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def _tree_seconds(*pids: int | None) -> dict[int, float]:
    """CPU seconds of each of ``pids`` and of each of their descendants, by pid; a process
    that is gone is left out."""
    seconds = {}
    for pid in pids:
        if pid is None:
            continue
        try:
            root = psutil.Process(pid)
            processes = [root, *root.children(recursive=True)]
        except psutil.Error:
            continue
        for process in processes:
            try:
                seconds[process.pid] = _process_seconds(process)
            except psutil.Error:
                continue
    return seconds


#: The local PostgreSQL server found for each (host, port) the run's database names.
_database_servers: dict[tuple[str, str], int | None] = {}


def database_server_pid() -> int | None:
    """The main process of the run's PostgreSQL server when it runs on this machine: the
    parent of the backend serving this thread's connection, when both are local processes
    named postgres; read once per server. None for any other database (SQLite runs
    in-process), a server elsewhere (its backend's pid means nothing here), or when the
    database cannot be asked (then asked again next time)."""
    from django.db import DatabaseError, connection

    if connection.vendor != "postgresql":
        return None
    where = (str(connection.settings_dict.get("HOST")), str(connection.settings_dict.get("PORT")))
    if where not in _database_servers:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                (pid,) = cursor.fetchone()
            backend = psutil.Process(pid)
            server = backend.parent()
            names = {backend.name(), server.name() if server else ""}
        # RuntimeError: database access refused where a caller forbids it (pytest-django).
        except (DatabaseError, RuntimeError, psutil.Error):
            return None
        _database_servers[where] = server.pid if server and names == {"postgres"} else None
    return _database_servers[where]


#: How many of the busiest other processes a level names, and the least CPU that is named.
OTHERS_NAMED = 3
OTHER_MIN_CORES = 0.05


def _every_process() -> dict[int, tuple[str, float]]:
    """Every readable process on the machine: pid -> (name, CPU seconds so far)."""
    found = {}
    for process in psutil.process_iter(["name", "cpu_times"]):
        times = process.info["cpu_times"]
        if times is not None:
            found[process.pid] = (process.info["name"] or "?", times.user + times.system)
    return found


@dataclass(frozen=True)
class CpuUse:
    """CPU over one window: seconds of wall time, and cores (CPU seconds per wall second)."""

    wall_s: float
    generator_cpu_s: float
    system_cores: float
    other_cores: float
    #: The busiest other processes: {"name", "pid", "cores"}, most first.
    others: tuple[dict, ...] = ()
    #: The measured server's process tree and a local database server (None: not on this
    #: machine, or in-process, where the server is perftest itself).
    server_cores: float | None = None
    database_cores: float | None = None

    def to_dict(self) -> dict:
        """What a stored run keeps of a phase's window (a level keeps the same in its row),
        with the share of the machine left free, as reports state it."""
        cpu_count = psutil.cpu_count() or 1
        return {
            "wall_s": round(self.wall_s, 3),
            "system_cores": round(self.system_cores, 3),
            "other_cores": round(self.other_cores, 3),
            "free_share": round(max(0.0, 1 - self.system_cores / cpu_count), 3),
            "others": [dict(other) for other in self.others],
        }

    def machine_into(self, level: LevelResult) -> None:
        """Give ``level`` the machine's share of this window: the whole machine, the others,
        the server and the database (the generator's own CPU is the engine's to set)."""
        level.system_cores, level.other_cores = self.system_cores, self.other_cores
        level.other_processes = list(self.others)
        level.server_cores, level.database_cores = self.server_cores, self.database_cores


class _Tree:
    """One process tree's CPU seconds from ``start`` to ``used``; None as root: no tree."""

    def __init__(self, *roots: int | None):
        self.roots = tuple(root for root in roots if root is not None)
        self.start: dict[int, float] = {}
        self.now: dict[int, float] = {}

    def begin(self) -> None:
        self.start = _tree_seconds(*self.roots)

    def used(self) -> float:
        """CPU seconds since ``begin``. A process born during the window counts from zero;
        one that ended during it is not counted, so a crashed server's last moments may be
        counted as other load."""
        self.now = _tree_seconds(*self.roots)
        return sum(
            max(0.0, seconds - self.start.get(pid, 0.0)) for pid, seconds in self.now.items()
        )

    @property
    def pids(self) -> set[int]:
        return {*self.start, *self.now}

    def cores(self, seconds: float, wall: float) -> float | None:
        return seconds / wall if self.roots else None


class CpuWindow:
    """Cumulative CPU times from ``start()`` to ``stop()``; the target is a process tree.

    ``target_pid`` None means the target runs in this process (in-process mode), so nothing
    beyond perftest's own process (and a local database server) is the target's.
    ``generator_pids`` are processes of perftest's that send the load beside this one (the
    Locust engine's master and workers): their trees count as perftest's, never as others.
    """

    def __init__(self, target_pid: int | None = None, generator_pids: Sequence[int] = ()):
        self._server = _Tree(None if target_pid == os.getpid() else target_pid)
        self._database = _Tree(database_server_pid())
        self._generators = _Tree(*generator_pids)
        self._start_wall = 0.0
        self._start_busy = self._start_own = 0.0
        self._start_all: dict[int, tuple[str, float]] = {}

    def start(self) -> None:
        self._start_all = _every_process()
        self._start_wall = time.perf_counter()
        self._start_busy = busy_seconds()
        self._start_own = time.process_time()
        for tree in (self._server, self._database, self._generators):
            tree.begin()

    def _busiest_others(self, wall: float, mine: set[int]) -> tuple[dict, ...]:
        """The other processes that used the most CPU over the window, by name and pid."""
        used = []
        for pid, (name, seconds) in _every_process().items():
            before = self._start_all.get(pid)
            if pid in mine or before is None or before[0] != name:
                continue  # ours, or born during the window (its pid may be a reused one)
            cores = (seconds - before[1]) / wall
            if cores >= OTHER_MIN_CORES:
                used.append({"name": name, "pid": pid, "cores": round(cores, 2)})
        used.sort(key=lambda other: -other["cores"])
        return tuple(used[:OTHERS_NAMED])

    def stop(self) -> CpuUse:
        """The window's figures; ``generator_cpu_s`` is this process's CPU plus the generator
        trees'."""
        wall = time.perf_counter() - self._start_wall
        busy = busy_seconds() - self._start_busy
        own = time.process_time() - self._start_own  # exact, where psutil counts 10 ms ticks
        server, database = self._server.used(), self._database.used()
        generator = own + self._generators.used()
        if wall <= 0:
            return CpuUse(0.0, generator, 0.0, 0.0)
        trees = (self._server, self._database, self._generators)
        others = self._busiest_others(wall, {os.getpid()}.union(*(tree.pids for tree in trees)))
        return CpuUse(
            wall,
            generator,
            busy / wall,
            max(0.0, busy - generator - server - database) / wall,
            others,
            self._server.cores(server, wall),
            self._database.cores(database, wall),
        )
