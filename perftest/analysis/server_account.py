"""The server's own account of a level or endpoint's answers, and the server that gave it.

Over HTTP, perftest's ``ServerTimingMiddleware`` tells, for each signed request, how long
Django spent on it (app) and in SQL; the rest of the client's latency is time outside the app
(waiting for a free worker, parsing, the network). ``store.write`` keeps the three
distributions as ``server_timing``; ``Run.environment["server"]`` keeps the worker and thread
count read from the server's process tree. These readers give analysis and reports one typed
view of both, and say so (None) when a run has neither.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from perftest.store.read import StoredRun

#: What a reader is told to do when a level has no server account.
MIDDLEWARE = "perftest.middleware.ServerTimingMiddleware"
#: The transport whose answers can carry the server's account (in-process, the client is the
#: server: there is nothing to split).
HTTP = "http"


@dataclass(frozen=True)
class Account:
    """The server's account of a row's answers as expected (milliseconds).

    The means stack: outside + (app − SQL) + SQL is the mean latency of the timed answers
    (outside is each answer's latency less its app time), so a report draws one bar per level;
    the p95 of each part is its own distribution's and does not add up.
    """

    #: Answers that carried the account, of ``ok`` answers as expected.
    answers: int
    ok: int
    queries: int
    app_mean_ms: float
    app_p95_ms: float
    sql_mean_ms: float
    sql_p95_ms: float
    outside_mean_ms: float
    outside_p95_ms: float

    @property
    def queries_mean(self) -> float:
        return self.queries / self.answers if self.answers else 0.0

    @property
    def sql_share(self) -> float:
        """SQL's share of the app's time (0 when the app took no time)."""
        return self.sql_mean_ms / self.app_mean_ms if self.app_mean_ms else 0.0

    @property
    def app_only_mean_ms(self) -> float:
        """The app's own time, its SQL taken out (SQL runs inside the app's time)."""
        return self.app_mean_ms - self.sql_mean_ms

    @property
    def total_mean_ms(self) -> float:
        """The three stacked means: the mean latency of the timed answers."""
        return self.outside_mean_ms + self.app_mean_ms


def account(figures: Any) -> Account | None:
    """The account a level or endpoint row stored; None when no answer carried one."""
    timing = getattr(figures, "server_timing", None) or {}
    if not timing.get("answers"):
        return None
    app, sql, outside = timing["app"], timing["sql"], timing["outside"]
    return Account(
        answers=timing["answers"],
        ok=figures.ok,
        queries=timing.get("queries", 0),
        app_mean_ms=app["mean_ms"],
        app_p95_ms=app["p95_ms"],
        sql_mean_ms=sql["mean_ms"],
        sql_p95_ms=sql["p95_ms"],
        outside_mean_ms=outside["mean_ms"],
        outside_p95_ms=outside["p95_ms"],
    )


def http_levels(stored: StoredRun) -> list[Any]:
    """The load levels sent over HTTP, whose answers could carry the server's account."""
    return [level for level in stored.levels if level.transport == HTTP]


def http_sequential(stored: StoredRun) -> tuple[Any, ...]:
    """The sequential pass over HTTP: ``--mode http``'s only pass, ``--mode both``'s second."""
    return stored.sequential if stored.row.mode == HTTP else stored.sequential_http


def http_rows(stored: StoredRun) -> list[Any]:
    """Every row measured over HTTP: the sequential pass, the levels and their endpoints."""
    levels = http_levels(stored)
    return [
        *http_sequential(stored),
        *levels,
        *(e for level in levels for e in stored.endpoints_of(level)),
    ]


def untimed(stored: StoredRun) -> bool:
    """Whether the run measured answers over HTTP and none carried the server's account: the
    target does not run the middleware (or ran it without perftest's signed header)."""
    rows = http_rows(stored)
    return any(row.ok for row in rows) and not any(account(row) for row in rows)


@dataclass(frozen=True)
class Server:
    """The measured server's processes as read at the run's start."""

    name: str
    pid: int | None
    workers: int
    threads: int
    #: Requests it can serve at once: workers × threads.
    slots: int
    #: How the counts were read (gunicorn's command line, the process tree...).
    source: str

    def text(self) -> str:
        """``2 server workers`` or ``2 server workers × 4 threads (8 slots)``."""
        workers = f"{self.workers} server worker{'s' if self.workers != 1 else ''}"
        if self.threads <= 1:
            return workers
        return f"{workers} × {self.threads} threads ({self.slots} slots)"


def server(stored: Any) -> Server | None:
    """The server ``Run.environment["server"]`` describes; None when it was not read (an
    in-process run, or a server perftest could not find)."""
    found = stored.row.environment.get("server")
    if not isinstance(found, Mapping) or not found.get("slots"):
        return None
    return Server(
        name=str(found.get("name", "")),
        pid=found.get("pid"),
        workers=int(found.get("workers") or 0),
        threads=int(found.get("threads") or 1),
        slots=int(found["slots"]),
        source=str(found.get("source", "")),
    )
