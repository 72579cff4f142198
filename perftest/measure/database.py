"""The database's connections while a load level runs: how many were open, and the limit.

In-process, every worker thread opens its own connection; over HTTP, the server's processes
open theirs. Either way a level that needs more connections than the database server allows
fails with "too many clients", whatever the API's code does, so the count beside the limit is
part of the explanation. PostgreSQL says both (``pg_stat_activity`` for the run's database,
``max_connections`` and the database's own ``CONNECTION LIMIT``); other databases have no
such count to read, and the level says so rather than showing nothing.

A watcher thread polls on a connection of its own (taken out of the count) and closes it when
the level ends.

Beside the level's peak and mean, the counts are kept per time window on the wall clock (the
mean and the peak of each), as the latency windows are: at most ``MAX_WINDOWS``, one more
doubles the width and merges neighbours, so a soak of hours keeps a small series whose trend
the analysis fits.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from django.db import DatabaseError, connections

from perftest.plan.model import FIRST_WINDOW_S, MAX_WINDOWS

#: Seconds between two counts: often enough to see a level's peak, cheap for the server.
POLL_INTERVAL_S = 0.2

_COUNT = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
#: A superuser is not held to a database's CONNECTION LIMIT, so for one it does not bind.
_LIMITS = (
    "SELECT current_setting('max_connections')::int, "
    "CASE WHEN r.rolsuper THEN -1 ELSE d.datconnlimit END "
    "FROM pg_database d, pg_roles r "
    "WHERE d.datname = current_database() AND r.rolname = current_user"
)


@dataclass(frozen=True)
class ConnectionUse:
    """Connections open to the run's database during one level, and what the server allows."""

    peak: int | None = None
    mean: float | None = None
    #: The server's ``max_connections``, and the database's own limit (None: no limit, or
    #: none that binds the run's role: superusers are exempt).
    server_limit: int | None = None
    database_limit: int | None = None
    #: Why nothing was counted ("" when counted).
    unavailable: str = ""
    #: The counts over time: each window's width, and per window (its start on the wall
    #: clock in seconds since the Unix epoch, the mean count, the peak), oldest first.
    width_s: float | None = None
    series: tuple[tuple[float, float, int], ...] = ()

    @property
    def limit(self) -> int | None:
        """The limit that binds first."""
        limits = [n for n in (self.server_limit, self.database_limit) if n is not None]
        return min(limits) if limits else None


class ConnectionWatch:
    """Counts the run's database connections from ``start()`` to ``stop()``."""

    def __init__(self, alias: str = "default") -> None:
        self._alias = alias
        #: Counts read so far, kept as their number, sum and peak: a soak polls for hours.
        self._reads = self._sum = self._peak = 0
        #: Window key (wall clock // width) -> [reads, sum, peak], under ``_series_lock``.
        self._series: dict[int, list[int]] = {}
        self._width_ns = FIRST_WINDOW_S * 1_000_000_000
        self._series_lock = threading.Lock()
        self._limits: tuple[int | None, int | None] = (None, None)
        self._problem = ""
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Begin counting; returns once the watcher holds its connection, so a level that
        then takes every connection the server allows cannot lock the watcher out."""
        vendor = connections[self._alias].vendor
        if vendor != "postgresql":
            self._problem = (
                f"{connections[self._alias].display_name} has no count of open connections to read"
            )
            return
        self._thread = threading.Thread(target=self._poll, name="perftest-db-watch", daemon=True)
        self._thread.start()
        self._ready.wait()

    def _poll(self) -> None:
        connection = connections[self._alias]
        try:
            with connection.cursor() as cursor:
                cursor.execute(_LIMITS)
                server, database = cursor.fetchone()
                self._limits = (server, database if database >= 0 else None)
                self._ready.set()
                while True:
                    cursor.execute(_COUNT)
                    count = cursor.fetchone()[0] - 1  # not the watcher's own
                    self._peak = max(self._peak, count)
                    self._sum += count
                    self._reads += 1
                    self._count_in_window(count)
                    if self._stop.wait(POLL_INTERVAL_S):
                        break
        except DatabaseError as exc:
            self._problem = f"the watcher could not read pg_stat_activity: {exc}".strip()
        finally:
            self._ready.set()
            connection.close()

    def _count_in_window(self, count: int) -> None:
        """Add one count to the window of now, widening the windows past ``MAX_WINDOWS``."""
        with self._series_lock:
            key = time.time_ns() // self._width_ns
            while key not in self._series and len(self._series) >= MAX_WINDOWS:
                merged: dict[int, list[int]] = {}
                for old, (reads, total, peak) in self._series.items():
                    into = merged.setdefault(old // 2, [0, 0, 0])
                    into[0], into[1], into[2] = into[0] + reads, into[1] + total, max(into[2], peak)
                self._series, self._width_ns, key = merged, self._width_ns * 2, key // 2
            window = self._series.setdefault(key, [0, 0, 0])
            window[0], window[1], window[2] = (
                window[0] + 1,
                window[1] + count,
                max(window[2], count),
            )

    def _windows(self) -> tuple[float, tuple[tuple[float, float, int], ...]]:
        with self._series_lock:
            width_ns, series = self._width_ns, sorted(self._series.items())
            return width_ns / 1e9, tuple(
                (key * width_ns / 1e9, round(total / reads, 3), peak)
                for key, (reads, total, peak) in series
            )

    def stop(self) -> ConnectionUse:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
        return self.so_far()

    def so_far(self) -> ConnectionUse:
        """The counts read until now (read racily: a soak's checkpoint reads them while the
        watcher polls)."""
        if self._thread is None:
            return ConnectionUse(unavailable=self._problem)
        reads, total, peak = self._reads, self._sum, self._peak
        if not reads:
            return ConnectionUse(unavailable=self._problem or "no count was read")
        width_s, series = self._windows()
        return ConnectionUse(
            peak=peak,
            mean=total / reads,
            server_limit=self._limits[0],
            database_limit=self._limits[1],
            width_s=width_s,
            series=series,
        )
