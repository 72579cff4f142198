"""The platform's rate limits a run met, each named by the window it counts over.

A throttle answers HTTP 429 with a ``Retry-After`` that is at most its window: about a second
for a burst limit, up to a minute for a per-minute one. Answers and logins refused with 429
across every phase are grouped by that window, so the report can say "a limit counted per
second met by every endpoint" beside "a limit counted per minute met by Get Lessons and the
login", with the counts and the Retry-After values seen. Which throttle class answered is the
platform's to know; perftest reports what the answers show.
"""

from __future__ import annotations

import math
from collections import Counter
from functools import partial

from perftest.store.read import StoredRun

from .base import (
    BOTTLENECK,
    RUN,
    Finding,
    bottleneck,
    retry_after,
    retry_after_counts,
    retry_after_text,
    rule,
    throttle_advice,
)

RATE_LIMITS = "bottleneck.rate_limits"

#: Windows a limit is counted over, by the longest Retry-After each allows (seconds).
WINDOWS = ((1, "per second"), (60, "per minute"), (3600, "per hour"), (86400, "per day"))
THROTTLED = "HTTP 429"
LOGIN = "the login"

_rule = partial(rule, family="endpoints")


def window_of(value: str) -> str:
    """The window a Retry-After value fits in; an HTTP date or other text cannot tell."""
    try:
        seconds = float(value)
    except ValueError:
        return "over an unknown window (Retry-After not in seconds)"
    if not math.isfinite(seconds):
        return "over an unknown window (Retry-After not in seconds)"
    return next((name for limit, name in WINDOWS if seconds <= limit), "over more than a day")


class _Seen:
    """429s by window: per window, refusals by what was refused and Retry-After values."""

    def __init__(self) -> None:
        self.refused: dict[str, Counter[str]] = {}
        self.waits: dict[str, Counter[str]] = {}

    def add(self, what: str, value: str | None, count: int) -> None:
        window = window_of(value) if value else "with no Retry-After"
        self.refused.setdefault(window, Counter())[what] += count
        if value:
            self.waits.setdefault(window, Counter())[value] += count


def _throttled_logins(stored: StoredRun) -> list[str]:
    """Why each refused login was refused: the run's own and every level's workers'."""
    reasons = [str(a.get("reason", "")) for a in stored.row.logins if a.get("status") == 429]
    for level in stored.levels:
        reasons += [str(f) for f in level.worker_failures if "(HTTP 429" in str(f)]
    return reasons


def _seen(stored: StoredRun) -> _Seen:
    seen = _Seen()
    rows = [*stored.sequential, *stored.sequential_http]
    for level in stored.levels:
        rows += stored.endpoints_of(level)
    for row in rows:
        counts = retry_after_counts(row, [THROTTLED])
        told = sum(counts.values())
        for value, count in counts.items():
            seen.add(row.name, value, count)
        untold = sum(g["count"] for g in row.errors if g["reason"] == THROTTLED) - told
        if untold > 0:
            seen.add(row.name, None, untold)
    for reason in _throttled_logins(stored):
        seen.add(LOGIN, retry_after(reason), 1)
    return seen


def _line(window: str, refused: Counter[str], waits: Counter[str]) -> str:
    what = ", ".join(f"{name} ×{count}" for name, count in refused.most_common())
    told = f"; Retry-After {retry_after_text(waits)}" if waits else ""
    return f"Counted {window}: HTTP 429 ×{sum(refused.values())} ({what}){told}."


@_rule(
    RATE_LIMITS,
    BOTTLENECK,
    RUN,
    "the platform's rate limits met, by the window their Retry-After shows",
    throttle_advice("the endpoints"),
)
def _rate_limits(stored: StoredRun) -> list[Finding]:
    seen = _seen(stored)
    if not seen.refused:
        return []
    order = [name for _, name in WINDOWS]
    windows = sorted(seen.refused, key=lambda w: order.index(w) if w in order else len(order))
    lines = [_line(w, seen.refused[w], seen.waits.get(w, Counter())) for w in windows]
    total = sum(sum(refused.values()) for refused in seen.refused.values())
    return [
        bottleneck(
            RATE_LIMITS,
            "rate limits",
            f"The platform's rate limits answered HTTP 429 ×{total}, counted "
            f"{' and '.join(windows)}",
            "\n".join(lines),
        )
    ]
