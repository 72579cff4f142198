"""Every number a user gives perftest, with its range, in one table (README, "Command options").

A number past its range used to end in a traceback (an ``OverflowError`` converting it for
the database or a socket, a ``DataError`` from a 32-bit column) or in a level that never
ends; each bound here is what a real run needs and what perftest can carry out, so a value
outside it is a usage error naming the range (exit 2) before anything is written. The plan
(``plan.build``), the settings and scenario files (``conf.validate``) and the command's
parser all check against these same ranges.

Why each bound:

- iterations: a million sequential requests per endpoint and role take about 17 minutes at
  1 ms each; past that a percentile says nothing new, and every count fits its stored
  (32-bit) column.
- warm-up: it fills caches and connection pools; ten thousand requests is far beyond that.
- a level's requests, and an open level's rate × duration: ten million per level. A slot no
  worker could start is dropped one at a time once the level's window ends (about 0.3 µs
  each), so the worst case of a server that answers nothing adds seconds, never hours.
- rate: a hundred thousand requests per second is beyond what one machine's Python workers
  send; what an engine cannot keep up with shows as late and dropped requests.
- durations: a level of at most 24 hours (a day's soak); ramp-up and timeouts at most an hour.
  A soak (``--soak``) steady for at most 24 hours after a warm-up of at most an hour; it stores
  what it has every 0.1 s to 1 hour (``SOAK["CHECKPOINT_S"]``): faster, storing costs more
  than it saves; slower, a crash loses more than an hour.
- workers: threads of one process at most 10,000 (``MAX_THREAD_WORKERS``; 500 by default);
  Locust users, identities and a role's count at most 100,000, each identity a seeded user.
- resource sampling every 10 ms to 60 s: faster, the sampler's own CPU shows in what it
  samples; slower, a level has no sample.
- a run is taken as dead after 1 minute to 30 days (``STALE_RUN_AFTER``): shorter, a run still
  measuring on another host would lose its data to the next run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


def figure(value: float) -> str:
    """1,000,000, 0.01 and 1e+19: a number as a user reads it."""
    if isinstance(value, int) or (value.is_integer() and abs(value) < 1e15):
        return f"{int(value):,}"
    return f"{value:g}"


@dataclass(frozen=True)
class Range:
    """An inclusive range of whole numbers or of numbers (``above_low``: the low end left out)."""

    low: float
    high: float
    integer: bool = True
    above_low: bool = False
    unit: str = ""

    def describe(self) -> str:
        """``a whole number from 1 to 1,000,000``, ``a number of seconds above 0 and at most
        3,600``."""
        kind = "a whole number" if self.integer else "a number"
        if self.unit:
            kind += f" of {self.unit}"
        if self.above_low:
            return f"{kind} above {figure(self.low)} and at most {figure(self.high)}"
        return f"{kind} from {figure(self.low)} to {figure(self.high)}"

    def problem(self, value: Any) -> str:
        """``must be <range>, not <value>.``, or "" when ``value`` is in range."""
        kinds = int if self.integer else (int, float)
        fits = (
            isinstance(value, kinds)
            and not isinstance(value, bool)
            and math.isfinite(value)
            and (value > self.low if self.above_low else value >= self.low)
            and value <= self.high
        )
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        shown = figure(value) if number else repr(value)
        return "" if fits else f"must be {self.describe()}, not {shown}."

    def parse(self, text: str) -> int | float:
        """The number ``text`` writes (its range is checked with the plan); ValueError naming
        the range when it is not one."""
        try:
            value = int(text) if self.integer else float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise ValueError(f"must be {self.describe()}, not {text!r}.")
        return value


ITERATIONS = Range(1, 1_000_000)
WARMUP = Range(0, 10_000)
LEVEL_SECONDS = Range(0, 86_400, integer=False, above_low=True, unit="seconds")
SOAK_SECONDS = Range(0, 86_400, integer=False, above_low=True, unit="seconds")
SOAK_WARMUP = Range(0, 3_600, integer=False, unit="seconds")
CHECKPOINT = Range(0.1, 3_600, integer=False, unit="seconds")
RAMP_UP = Range(0, 3_600, integer=False, unit="seconds")
TIMEOUT = Range(0, 3_600, integer=False, above_low=True, unit="seconds")
RESOURCE_INTERVAL = Range(0.01, 60, integer=False, unit="seconds")
STALE_RUN_AFTER = Range(60, 30 * 86_400, integer=False, unit="seconds")
MAX_THREAD_WORKERS = Range(1, 10_000)
LEVEL_REQUESTS = Range(1, 10_000_000)
RATE = Range(0, 100_000, integer=False, above_low=True, unit="requests per second")
LOCUST_USERS = Range(1, 100_000)
IDENTITIES = Range(1, 100_000)
ROLE_COUNT = Range(1, 100_000)
PROCESSES = Range(1, 256)
MASTER_PROCESSES = Range(0, 256)
EXPECT_WORKERS = Range(1, 1_000)
#: Linux's largest process id (PID_MAX_LIMIT, 2**22); other systems stay below it.
SERVER_PID = Range(1, 4_194_304)
#: Profiled requests per endpoint: cProfile slows each one, and a few suffice.
PROFILE = Range(1, 50)
WEIGHT = Range(0, 1_000_000, integer=False, above_low=True)
#: A stored run's id (a 64-bit primary key).
RUN_ID = Range(1, 2**63 - 1)
#: Runs ``perftest_runs`` lists at most (``--limit``): one line each, read by a person.
RUN_LIST = Range(1, 10_000)

#: The settings (and scenario keys) that are one number, and their ranges.
SETTINGS = {
    "ITERATIONS": ITERATIONS,
    "WARMUP": WARMUP,
    "RESOURCE_INTERVAL": RESOURCE_INTERVAL,
    "DURATION": LEVEL_SECONDS,
    "RAMP_UP": RAMP_UP,
    "MAX_THREAD_WORKERS": MAX_THREAD_WORKERS,
    "STALE_RUN_AFTER": STALE_RUN_AFTER,
    "CONNECT_TIMEOUT": TIMEOUT,
    "READ_TIMEOUT": TIMEOUT,
}
