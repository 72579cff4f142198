"""The client's latency split by the server's own account: outside the app, the app without
its SQL, and SQL.

Over HTTP a client sees one number per request; when the target runs perftest's
``ServerTimingMiddleware``, each answer as expected carried how long Django spent on it and in
SQL, stored per endpoint and level (``server_timing``). The means stack: outside + (app − SQL)
+ SQL is the mean of the timed answers' latency (outside is each answer's latency less its app
time), so a report can draw one bar per level; the p95 of each part is its own distribution's
and does not add up. In-process there is nothing to split (the client is the server): those
rows store no account.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from perftest.store.read import StoredRun

#: The transport whose answers can carry the server's account.
HTTP = "http"


@dataclass(frozen=True)
class Breakdown:
    """One endpoint's or level's answers as the server accounted for them."""

    #: Answers that carried the server's account, of ``answers`` as expected.
    timed: int
    answers: int
    queries: int
    outside_mean_ms: float
    app_mean_ms: float
    sql_mean_ms: float
    outside_p95_ms: float
    app_p95_ms: float
    sql_p95_ms: float

    @property
    def app_only_mean_ms(self) -> float:
        """The app's own time, its SQL taken out (SQL runs inside the app's time)."""
        return self.app_mean_ms - self.sql_mean_ms

    @property
    def total_mean_ms(self) -> float:
        """The three stacked means: the mean latency of the timed answers."""
        return self.outside_mean_ms + self.app_mean_ms

    @property
    def queries_per_request(self) -> float:
        return self.queries / self.timed


def _part(stored: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    part = stored.get(name)
    return part if isinstance(part, Mapping) else {}


def of(row: Any) -> Breakdown | None:
    """The server's account of an endpoint or level row; None when no answer carried one."""
    stored = row.server_timing if isinstance(row.server_timing, Mapping) else {}
    if not stored.get("answers"):
        return None
    outside, app, sql = (_part(stored, name) for name in ("outside", "app", "sql"))
    return Breakdown(
        timed=stored["answers"],
        answers=row.ok,
        queries=stored.get("queries", 0),
        outside_mean_ms=outside.get("mean_ms", 0.0),
        app_mean_ms=app.get("mean_ms", 0.0),
        sql_mean_ms=sql.get("mean_ms", 0.0),
        outside_p95_ms=outside.get("p95_ms", 0.0),
        app_p95_ms=app.get("p95_ms", 0.0),
        sql_p95_ms=sql.get("p95_ms", 0.0),
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
    return any(row.ok for row in rows) and not any(of(row) for row in rows)
