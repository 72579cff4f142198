"""A soak's trends after its warm-up (``analysis.trends``): memory that leaks, connections
never returned, a p95 or an error rate that creeps up.

Each fires only on a soak, and only when its series' 95 % interval lies above zero and its
growth over the steady part reaches the series' material bound. A soak whose steady part was
too short to fit anything (an abandoned soak's first minutes) gets one key finding saying so
rather than silence.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from perftest.store.read import StoredRun
from perftest.text import quantity, size

from ..allocations import top_sites
from ..trend_words import fitted_values, growth_sentence, projection, value
from ..trends import MIN_READINGS, RSS, SoakTrends, Trend, soak_level, trends
from .base import BOTTLENECK, KEY, RUN, Finding, bottleneck, key, rule

#: These rules' family: they read soaks only (``analysis.findings.families``), and a report
#: lists them among the rules checked only for a soak.
FAMILY = "soak"
_rule = partial(rule, family=FAMILY)

MEMORY_LEAK = "bottleneck.soak_memory_leak"
CONNECTION_LEAK = "bottleneck.soak_connection_leak"
LATENCY_CREEP = "bottleneck.soak_latency_creep"
ERROR_CREEP = "bottleneck.soak_error_creep"
NOT_JUDGED = "key.soak_trends_not_judged"
#: The findings that make a soak red (``analysis.verdict``): the platform's own, whatever the
#: machine did; a creep may be the machine's.
LEAKS = (MEMORY_LEAK, CONNECTION_LEAK)

#: In-process, the sampled process serves the app and runs perftest.
IN_PROCESS = (
    "In-process, this process is the app and perftest together: soak over HTTP (--base-url) "
    "to follow the server's own processes."
)


def applies(stored: StoredRun) -> bool:
    """Whether ``stored`` is a soak whose level says where its warm-up ended."""
    return soak_level(stored) is not None


def _registered(
    rule_id: str, looks_for: str, recommendation: str
) -> Callable[[Callable[[SoakTrends, StoredRun], list[Finding]]], None]:
    """Register a soak rule: the decorated function words the findings of a soak's trends."""

    def register(describe: Callable[[SoakTrends, StoredRun], list[Finding]]) -> None:
        def check(stored: StoredRun) -> list[Finding]:
            found = trends(stored)
            return describe(found, stored) if found is not None else []

        _rule(rule_id, BOTTLENECK, RUN, looks_for, recommendation)(check)

    return register


@_registered(
    MEMORY_LEAK,
    "a process whose RSS grows through a soak's steady part, beyond its bounds",
    "Look for data kept between requests that nothing lets go of (module-level lists or "
    "caches without a bound, listeners never removed); a tracemalloc snapshot diff of two "
    "moments of the soak names the lines that allocate.",
)
def _memory_leak(found: SoakTrends, stored: StoredRun) -> list[Finding]:
    fastest = found.fastest_rss
    if fastest is None:
        return []
    others = sum(trend.grows for trend in found.processes) - 1
    evidence = [
        f"Theil–Sen {fitted_values(fastest)}; its floor (the lowest reading of the second "
        f"half against the first half's) rose {value(RSS, fastest.floor_rise)}"
    ]
    if others:
        evidence.append(f"{quantity(others, 'other process', 'other processes')} grow too")
    if found.unjudged_processes:
        evidence.append(_unjudged(found.unjudged_processes))
    evidence.extend(_where_it_grew(stored))
    text = "; ".join(evidence) + "."
    if stored.row.mode == "in-process":
        text += " " + IN_PROCESS
    title = f"{growth_sentence(fastest, f'RSS of {fastest.subject}')}; {projection(fastest)}"
    return [bottleneck(MEMORY_LEAK, "process", title, text)]


def _where_it_grew(stored: StoredRun) -> list[str]:
    """In-process, the line whose live memory grew most over the steady part, as tracemalloc
    traced it (``analysis.allocations``): where the leak most likely allocates."""
    level = soak_level(stored)
    sites = top_sites(level, 1) if level is not None else []
    if not sites or sites[0].size_growth <= 0:
        return []
    site = sites[0]
    return [
        f"the line whose live memory grew most (tracemalloc) is {site.where} "
        f"(+{size(site.size_growth)}, {quantity(site.count_growth, 'block')} more)"
    ]


def _unjudged(count: int) -> str:
    return (
        f"{quantity(count, 'process')} lived too briefly after the warm-up to be judged "
        f"(fewer than {MIN_READINGS} readings)"
    )


def _level_finding(rule_id: str, trend: Trend | None, what: str) -> list[Finding]:
    if trend is None or not trend.grows:
        return []
    return [
        bottleneck(
            rule_id, "soak", growth_sentence(trend, what), f"Theil–Sen {fitted_values(trend)}."
        )
    ]


@_registered(
    CONNECTION_LEAK,
    "open database connections that grow through a soak's steady part",
    "Look for connections opened outside Django's request cycle and never closed (threads, "
    "background tasks, a pool without a bound); CONN_MAX_AGE keeps one per worker thread.",
)
def _connection_leak(found: SoakTrends, stored: StoredRun) -> list[Finding]:
    return _level_finding(
        CONNECTION_LEAK, found.connections, "The count of open database connections"
    )


@_registered(
    LATENCY_CREEP,
    "a p95 per window that creeps up through a soak's steady part",
    "Compare a profile of the soak's first minutes with one of its last: a cache or a table "
    "that grows, or a queue that never drains, makes each request a little slower.",
)
def _latency_creep(found: SoakTrends, stored: StoredRun) -> list[Finding]:
    return _level_finding(LATENCY_CREEP, found.p95, "The p95 per window")


@_registered(
    ERROR_CREEP,
    "an error rate per window that creeps up through a soak's steady part",
    "Read the error classes of the soak's level: errors that grow with time point at a "
    "resource that runs out (connections, file handles, disk, a quota).",
)
def _error_creep(found: SoakTrends, stored: StoredRun) -> list[Finding]:
    return _level_finding(ERROR_CREEP, found.error_rate, "The error rate per window")


@_rule(NOT_JUDGED, KEY, RUN, "a soak whose steady part was too short to judge its trends")
def _not_judged(stored: StoredRun) -> list[Finding]:
    found = trends(stored)
    if found is None or any(trend.fit is not None for trend in found.series):
        return []
    reasons = [f"{trend.subject}: {trend.not_judged}" for trend in found.series]
    if found.unjudged_processes:
        reasons.append(_unjudged(found.unjudged_processes))
    return [
        key(
            NOT_JUDGED,
            "soak",
            "The soak's trends were not judged: its steady part held too few readings",
            "; ".join(reasons) + ".",
        )
    ]
