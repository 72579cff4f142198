"""How much of the added load became throughput: scaling efficiency between closed levels, and
Little's law per level as a check of the measurement itself.

Going from c1 to c2 workers with throughput as expected X1 → X2, the efficiency is the share of
the added concurrency that became throughput: ((X2 − X1) / X1) / ((c2 − c1) / c1). A server
with room to spare turns each added worker into as much throughput as the first ones (1.0);
a saturated one turns it into waiting (near 0, or below when throughput falls). A fixed
"throughput grew by less than 10 %" rule missed the curve where p95 rose 12× from 5 to 10
concurrent while throughput grew 11.8 %: doubling the workers bought an eighth of their worth.

Little's law says a closed level's workers are, on average, in L = X × R requests (throughput
as expected × mean latency). A closed worker sends its next request as soon as the last one
answers, so L should be close to the level's concurrency; far below it, the workers spent their
time outside requests: in perftest's own code (a busy generator), not at the server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from perftest.store.read import LevelModel

from .metrics import MEAN, OK_THROUGHPUT

#: The knee's bound: a level that turned less than half of its added workers into throughput.
#: Under Little's law (X = c / R) doubling the workers at efficiency e means the mean latency
#: grew by 2 / (1 + e): below 0.5, by more than a third, so the added workers mostly waited.
#: Run-to-run noise of a few percent in throughput moves a doubling's efficiency by about twice
#: that, far from the bound either way: a healthy curve reads 0.8-1.0, the 5 → 10 case 0.12.
EFFICIENCY_BOUND = 0.5
#: A closed level whose workers were in requests less than this share of the time (Little's
#: law) spent the rest in the generator: its figures describe perftest's pace, not the server's.
IN_REQUESTS_BOUND = 0.7


def efficiency(previous: Any, level: Any) -> float | None:
    """The share of the concurrency added from ``previous`` to ``level`` that became throughput
    as expected; None when there is nothing to compare (no throughput or no added workers)."""
    before, after = OK_THROUGHPUT.of(previous), OK_THROUGHPUT.of(level)
    added = level.concurrency - previous.concurrency
    if not before or added <= 0 or not previous.concurrency:
        return None
    return ((after - before) / before) / (added / previous.concurrency)


@dataclass(frozen=True)
class LittlesLaw:
    """A level's requests in flight by Little's law against the workers it had."""

    #: Throughput as expected × mean latency: the workers busy in requests, on average.
    busy: float
    #: The level's workers (closed) or worker pool (open).
    concurrency: int
    closed: bool

    @property
    def ratio(self) -> float:
        """The share of the workers' time spent in requests (busy / concurrency)."""
        return self.busy / self.concurrency if self.concurrency else 0.0

    @property
    def outside_requests(self) -> bool:
        """A closed level whose workers spent far less than all their time in requests."""
        return self.closed and self.ratio < IN_REQUESTS_BOUND

    def text(self) -> str:
        """``X × R = 9.62 of 10 workers in requests (96 %)``."""
        return (
            f"X × R = {self.busy:.2f} of {self.concurrency} workers in requests ({self.ratio:.0%})"
        )


def littles_law(level: Any) -> LittlesLaw | None:
    """Little's law for one level, over its answers as expected; None without any (the mean
    latency of the other answers is not stored, so a level with errors reads low)."""
    if not level.ok or not level.concurrency:
        return None
    busy = OK_THROUGHPUT.of(level) * MEAN.of(level) / 1000
    return LittlesLaw(busy, level.concurrency, level.model == LevelModel.CLOSED)
