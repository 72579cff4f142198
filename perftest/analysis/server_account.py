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

#: What a reader is told to do when a level has no server account.
MIDDLEWARE = "perftest.middleware.ServerTimingMiddleware"


@dataclass(frozen=True)
class Account:
    """The server's account of the answers as expected (milliseconds)."""

    answers: int
    queries: int
    app_mean_ms: float
    app_p95_ms: float
    sql_mean_ms: float
    outside_mean_ms: float
    outside_p95_ms: float

    @property
    def queries_mean(self) -> float:
        return self.queries / self.answers if self.answers else 0.0

    @property
    def sql_share(self) -> float:
        """SQL's share of the app's time (0 when the app took no time)."""
        return self.sql_mean_ms / self.app_mean_ms if self.app_mean_ms else 0.0


def account(figures: Any) -> Account | None:
    """The account a level or endpoint row stored; None when no answer carried one."""
    timing = getattr(figures, "server_timing", None) or {}
    if not timing.get("answers"):
        return None
    app, sql, outside = timing["app"], timing["sql"], timing["outside"]
    return Account(
        answers=timing["answers"],
        queries=timing.get("queries", 0),
        app_mean_ms=app["mean_ms"],
        app_p95_ms=app["p95_ms"],
        sql_mean_ms=sql["mean_ms"],
        outside_mean_ms=outside["mean_ms"],
        outside_p95_ms=outside["p95_ms"],
    )


@dataclass(frozen=True)
class Server:
    """The measured server's processes as read at the run's start."""

    name: str
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
        workers=int(found.get("workers") or 0),
        threads=int(found.get("threads") or 1),
        slots=int(found["slots"]),
        source=str(found.get("source", "")),
    )
