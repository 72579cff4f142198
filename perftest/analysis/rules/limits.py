"""The platform's rate limits a run met, each named by the window it counts over.

A throttle answers HTTP 429 with a ``Retry-After`` that is at most its window: about a second
for a burst limit, up to a minute for a per-minute one. Answers and logins refused with 429
across every phase are grouped by that window, so the report can say "a limit counted per
second met by every endpoint" beside "a limit counted per minute met by Get Lessons and the
login", with the counts and the Retry-After values seen (the answers without the header
counted apart). Which throttle answered is the platform's to know, except where in-process
discovery read an endpoint's view's own ``throttle_classes``: its 429s are then named as that
throttle with its rate, when the throttle's window holds every wait seen (DRF's Retry-After
never exceeds it), apart from the platform's global ``DEFAULT_THROTTLE_CLASSES``.
"""

from __future__ import annotations

import math
from collections import Counter

from perftest.store.read import StoredRun

from .base import (
    BOTTLENECK,
    RUN,
    Finding,
    RetryAfters,
    bottleneck,
    endpoint_rule,
    own_throttles,
    retry_after,
    retry_after_text,
    retry_afters,
    throttle_advice,
    throttle_text,
)

RATE_LIMITS = "bottleneck.rate_limits"

#: Windows a limit is counted over, by the longest Retry-After each allows (seconds).
WINDOWS = ((1, "per second"), (60, "per minute"), (3600, "per hour"), (86400, "per day"))
THROTTLED = "HTTP 429"
LOGIN = "the login"
#: The window of answers whose Retry-After value was beyond those an answer class counts.
UNLISTED = "over an unknown window (Retry-After values not told apart)"
#: The window of answers of a run stored before every Retry-After was counted.
NOT_STORED = "over an unknown window (Retry-After not stored by this older run)"


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
    """429s by window: per window, refusals by what was refused and Retry-After values; apart,
    per endpoint answered by its view's own throttle, that throttle, its refusals and waits."""

    def __init__(self) -> None:
        self.refused: dict[str, Counter[str]] = {}
        self.waits: dict[str, Counter[str]] = {}
        self.own: dict[str, tuple[str, int, Counter[str]]] = {}

    def add(self, what: str, value: str | None, count: int, window: str = "") -> None:
        window = window or (window_of(value) if value else "with no Retry-After")
        self.refused.setdefault(window, Counter())[what] += count
        if value:
            self.waits.setdefault(window, Counter())[value] += count

    def add_own(self, what: str, throttle: str, waits: RetryAfters) -> None:
        _, count, values = self.own.get(what, (throttle, 0, Counter()))
        answers = waits.told + waits.untold + waits.unknown
        self.own[what] = (throttle, count + answers, values + waits.values)


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
        waits = retry_afters(row, [THROTTLED])
        own = own_throttles(stored, row.name, waits)
        if own and waits.told + waits.untold + waits.unknown:
            seen.add_own(row.name, " or ".join(map(throttle_text, own)), waits)
            continue
        for value, count in waits.values.items():
            seen.add(row.name, value, count)
        if waits.unlisted:
            seen.add(row.name, None, waits.unlisted, UNLISTED)
        if waits.untold:
            seen.add(row.name, None, waits.untold)
        if waits.unknown:
            seen.add(row.name, None, waits.unknown, NOT_STORED)
    for reason in _throttled_logins(stored):
        seen.add(LOGIN, retry_after(reason), 1)
    return seen


def _line(window: str, refused: Counter[str], waits: Counter[str]) -> str:
    what = ", ".join(f"{name} ×{count}" for name, count in refused.most_common())
    told = f"; Retry-After {retry_after_text(waits)}" if waits else ""
    return f"Counted {window}: HTTP 429 ×{sum(refused.values())} ({what}){told}."


def _own_line(what: str, throttle: str, count: int, waits: Counter[str]) -> str:
    told = f"; Retry-After {retry_after_text(waits)}" if waits else ""
    return f"{what}'s view's own throttle {throttle}: HTTP 429 ×{count}{told}."


def _global_line(stored: StoredRun, seen: _Seen) -> list[str]:
    """The DEFAULT_THROTTLE_CLASSES of the views whose 429s the platform's limits answered,
    as in-process discovery read them (nothing when it read none)."""
    refused = {what for counts in seen.refused.values() for what in counts}
    found = {
        throttle_text(t): None
        for e in stored.plan.endpoints
        if e.name in refused
        for t in e.throttles
        if not t.own
    }
    if not found:
        return []
    return [f"REST_FRAMEWORK's DEFAULT_THROTTLE_CLASSES of these views: {', '.join(found)}."]


@endpoint_rule(
    RATE_LIMITS,
    BOTTLENECK,
    RUN,
    "the platform's rate limits met, by the window their Retry-After shows",
    throttle_advice("the endpoints"),
)
def _rate_limits(stored: StoredRun) -> list[Finding]:
    seen = _seen(stored)
    if not (seen.refused or seen.own):
        return []
    titles = [
        f"{what}'s view's own throttle {throttle} answered HTTP 429 ×{count}"
        for what, (throttle, count, _) in seen.own.items()
    ]
    lines = [_own_line(what, *figures) for what, figures in seen.own.items()]
    if seen.refused:
        order = [name for _, name in WINDOWS]
        windows = sorted(seen.refused, key=lambda w: order.index(w) if w in order else len(order))
        lines += [_line(w, seen.refused[w], seen.waits.get(w, Counter())) for w in windows]
        lines += _global_line(stored, seen)
        total = sum(sum(refused.values()) for refused in seen.refused.values())
        titles.append(
            f"The platform's rate limits answered HTTP 429 ×{total}, counted "
            f"{' and '.join(windows)}"
        )
    return [bottleneck(RATE_LIMITS, "rate limits", "; ".join(titles), "\n".join(lines))]
