"""The server's own account of the answers as expected, beside the client's latency.

Over HTTP a client sees one number per request. When the target runs perftest's
``ServerTimingMiddleware`` and the request carried the run's signed header, the answer says how
long Django spent on it (``app``) and in SQL (``sql``, with the query count); the rest of the
client's latency, ``outside``, is time outside the app: waiting for a free server worker, the
server's parsing, the network. ``ServerTimes`` keeps the three distributions (HDR, merged
exactly across workers like ``LatencyStats``) and counts how many answers carried the account,
so a report can say when the server did not time its answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from perftest.timing_header import ServerTiming

from .stats import LatencyStats


@dataclass
class ServerTimes:
    """App, SQL and outside-the-app time of the answers that carried a Server-Timing account."""

    answers: int = 0
    queries: int = 0
    app: LatencyStats = field(default_factory=LatencyStats)
    sql: LatencyStats = field(default_factory=LatencyStats)
    outside: LatencyStats = field(default_factory=LatencyStats)

    def record(self, elapsed_ns: int, timing: ServerTiming) -> None:
        """One answer's account; the client's ``elapsed_ns`` less the app's time is outside
        (never below zero: the two clocks are read on different machines' sides)."""
        self.answers += 1
        self.queries += timing.queries
        self.app.record(timing.app_ns)
        self.sql.record(timing.sql_ns)
        self.outside.record(max(0, elapsed_ns - timing.app_ns))

    def merge(self, other: ServerTimes) -> None:
        self.answers += other.answers
        self.queries += other.queries
        self.app.merge(other.app)
        self.sql.merge(other.sql)
        self.outside.merge(other.outside)

    def to_dict(self) -> dict[str, Any]:
        return {
            "answers": self.answers,
            "queries": self.queries,
            "app": self.app.to_dict(),
            "sql": self.sql.to_dict(),
            "outside": self.outside.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> ServerTimes:
        if not data:
            return cls()
        return cls(
            data["answers"],
            data["queries"],
            LatencyStats.from_dict(data["app"]),
            LatencyStats.from_dict(data["sql"]),
            LatencyStats.from_dict(data["outside"]),
        )
