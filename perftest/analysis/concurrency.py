"""Findings chosen by rules from a run's load levels, and the in-process/HTTP comparison.

Each rule reads one stored ``LoadLevel`` (its error groups, counts, generator CPU, lateness)
and fires only when its condition holds; its sentence is built from those figures. Error
groups a specific rule explains (throttling, token rotation, a target that went away) are
not repeated by the catch-all ``LEVEL_ERRORS`` rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from perftest import models
from perftest.formatting import (
    cores,
    error_groups,
    level_label,
    measured,
    ms,
    number,
    quantity,
)

from . import bottleneck, key, scaling

RATE_LIMITED = "bottleneck.level_rate_limited"
TOKEN_ROTATION = "bottleneck.token_rotation"
TARGET_WENT_AWAY = "bottleneck.target_went_away"
LEVEL_ERRORS = "bottleneck.level_errors"
GENERATOR_CPU = "bottleneck.generator_cpu"
GENERATOR_LATE = "bottleneck.generator_late"
WORKER_FAILURES = "bottleneck.worker_failures"
PEAK = "key.peak_throughput"
KNEE = "key.knee"
NO_KNEE = "key.no_knee"
ERROR_START = "key.error_start"

#: One Python process runs Python code on about one core (the GIL); 90 % of it is saturation.
GENERATOR_CORES_LIMIT = 0.9
#: Error reasons that mean the target stopped accepting or dropped connections.
GONE = ("connection refused", "connection reset")

RETRY_AFTER = re.compile(r"Retry-After: ([^|]+?)\s*(?:\||$)")

#: What each load-level rule looks for, in the words a report uses when none fired.
CHECKS: dict[str, str] = {
    RATE_LIMITED: "rate limiting under load (HTTP 429)",
    TOKEN_ROTATION: "tokens invalidated by workers sharing an identity (HTTP 401)",
    TARGET_WENT_AWAY: "a target that stopped answering during a level",
    LEVEL_ERRORS: "other errors under load",
    GENERATOR_CPU: f"a load generator at {GENERATOR_CORES_LIMIT:.0%} of a core or more",
    GENERATOR_LATE: "requests sent late or dropped (open model)",
    WORKER_FAILURES: "failed workers",
}

RECOMMENDATIONS: dict[str, str] = {
    RATE_LIMITED: (
        "Disable throttling for the test environment (e.g. DRF's DEFAULT_THROTTLE_RATES) or "
        "lower the load; until then the figures measure the throttle, not the endpoints."
    ),
    TOKEN_ROTATION: (
        "Give every worker its own identity (the default: leave --identities unset, or set it "
        "to at least the concurrency), or log each identity in once with --login once."
    ),
    TARGET_WENT_AWAY: (
        "Check the server's log and process at that moment (crash, restart, worker timeout, "
        "open-file or connection limits); the requests after it measured nothing."
    ),
    LEVEL_ERRORS: (
        "Read the examples: errors that appear only under load usually come from an exhausted "
        "resource (database connections, worker timeouts, locks)."
    ),
    GENERATOR_CPU: (
        "Generate the load from more processes or machines (or a compiled tool such as wrk) "
        "and compare; measure in-process levels again over HTTP against a separate server."
    ),
    GENERATOR_LATE: (
        "Give the open model a larger worker pool (--concurrency) or a lower --rate, so every "
        "request can be sent when it is due."
    ),
    WORKER_FAILURES: "The level ran with fewer workers than planned: fix the error shown.",
}


def _bottleneck(rule: str, level: models.LoadLevel, title: str, evidence: str):
    return bottleneck(rule, level_label(level), title, evidence, RECOMMENDATIONS[rule])


def _count(groups: Iterable[dict]) -> int:
    return sum(group["count"] for group in groups)


def _examples(groups: Iterable[dict]) -> str:
    return "\n".join(
        f"{group['reason']} ×{group['count']}"
        + (f". Example: {group['example']}" if group.get("example") else "")
        for group in groups
    )


def _throttled(level: models.LoadLevel, groups: list[dict]) -> models.Finding:
    seen = sorted({m.group(1) for g in groups if (m := RETRY_AFTER.search(g.get("example") or ""))})
    retry = (
        f"The server asked to retry after {', '.join(seen)} (Retry-After)."
        if seen
        else "No Retry-After header was seen in the stored example."
    )
    share = f"{_count(groups)} of {level.requests} requests"
    return _bottleneck(
        RATE_LIMITED,
        level,
        f"{level_label(level)}: the platform's rate limiting answered HTTP 429 for {share}",
        f"The run measured the platform's rate limiting (the throttle), not the work of the "
        f"endpoints: HTTP 429 for {share}. {retry}\n{_examples(groups)}",
    )


def _token_rotation(level: models.LoadLevel, groups: list[dict]) -> models.Finding:
    workers = quantity(level.concurrency, "worker")
    identities = quantity(level.identities, "identity", "identities")
    return _bottleneck(
        TOKEN_ROTATION,
        level,
        f"{level_label(level)}: HTTP 401 for {_count(groups)} of {level.requests} requests: "
        f"{workers} shared {identities}, each logging in itself",
        f"THE_BOT rotates the token on every login, so workers logging in as the same identity "
        f"invalidate each other's tokens ({workers} shared {identities}, login per worker).\n"
        f"{_examples(groups)}",
    )


def _went_away(level: models.LoadLevel, groups: list[dict]) -> models.Finding:
    failed = _count(groups)
    return _bottleneck(
        TARGET_WENT_AWAY,
        level,
        f"{level_label(level)}: the target stopped answering during the level",
        f"The target stopped answering during the level: {failed} of {level.requests} requests "
        f"failed with connection errors ({error_groups(groups)}) after {level.ok} succeeded.\n"
        f"{_examples(groups)}",
    )


def _other_errors(level: models.LoadLevel, groups: list[dict]) -> models.Finding:
    return _bottleneck(
        LEVEL_ERRORS,
        level,
        f"{level_label(level)}: {_count(groups)} of {level.requests} requests answered "
        f"otherwise: {error_groups(groups)}",
        _examples(groups),
    )


def _shares_identities(level: models.LoadLevel) -> bool:
    return 0 < level.identities < level.concurrency and level.login_mode == "per-worker"


def _error_findings(level: models.LoadLevel) -> list[models.Finding]:
    """The error groups of a level, each under the most specific rule that explains it."""
    groups = list(level.errors)
    throttled = [g for g in groups if g["reason"] == "HTTP 429"]
    rotated = [g for g in groups if g["reason"] == "HTTP 401" and _shares_identities(level)]
    gone = [g for g in groups if g["reason"] in GONE] if level.ok else []
    explained = throttled + rotated + gone
    rest = [g for g in groups if g not in explained]
    found = []
    if throttled:
        found.append(_throttled(level, throttled))
    if rotated:
        found.append(_token_rotation(level, rotated))
    if gone:
        found.append(_went_away(level, gone))
    if rest:
        found.append(_other_errors(level, rest))
    return found


def _generator(level: models.LoadLevel) -> list[models.Finding]:
    """Two separate causes: perftest's own CPU, and an open model that could not keep time."""
    found = []
    label = level_label(level)
    if level.generator_cores >= GENERATOR_CORES_LIMIT:
        shared = (
            " In-process, the server runs in the same interpreter, so this CPU includes the "
            "server's own work."
            if level.transport == "in-process"
            else ""
        )
        found.append(
            _bottleneck(
                GENERATOR_CPU,
                level,
                f"{label}: figures are limited by the load generator, not the server: perftest "
                f"used {cores(level.generator_cores)} (limit ~1 per Python process)",
                f"{level.generator_cpu_s:.2f} s of CPU in {level.wall_s:.2f} s of wall time."
                + shared,
            )
        )
    if level.model == models.LoadLevel.Model.OPEN and (level.late or level.dropped):
        behind = level.late + level.dropped
        scheduled = level.requests + level.dropped
        found.append(
            _bottleneck(
                GENERATOR_LATE,
                level,
                f"{label}: {behind} of {scheduled} requests could not be sent on time (all "
                "workers busy); latency includes the wait (measured from the intended send time)",
                f"Sent late: {level.late} (up to {ms(level.max_lateness_ms)} behind schedule); "
                f"dropped, never sent: {level.dropped}; {quantity(level.concurrency, 'worker')} "
                f"for {number(level.rate or 0)} req/s.",
            )
        )
    return found


def _worker_failures(level: models.LoadLevel) -> list[models.Finding]:
    if not level.worker_failures:
        return []
    count = len(level.worker_failures)
    return [
        _bottleneck(
            WORKER_FAILURES,
            level,
            f"{level_label(level)}: {count} of {quantity(level.concurrency, 'worker')} failed",
            "\n".join(str(failure) for failure in level.worker_failures),
        )
    ]


def bottlenecks(levels: Sequence[models.LoadLevel]) -> list[models.Finding]:
    """Every load-level rule, level by level in stored order."""
    found = []
    for level in levels:
        found += _error_findings(level)
        found += _generator(level)
        found += _worker_failures(level)
    return found


def _capital(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]


def key_findings(levels: Sequence[models.LoadLevel]) -> list[models.Finding]:
    """Peak throughput, then the knee (or its absence) and where errors start."""
    found = []
    top = scaling.peak(levels)
    if top is not None:
        found.append(
            key(
                PEAK,
                level_label(top),
                f"Peak throughput: {top.throughput:.1f} req/s at {level_label(top)}",
                f"p95 {ms(top.p95_ms)}, {top.errors_total} of {top.requests} requests failed, "
                f"over {top.transport}",
            )
        )
    steps = scaling.curve(levels)
    bend = scaling.knee(steps)
    if bend is not None:
        found.append(key(KNEE, level_label(bend.level), _capital(scaling.knee_sentence(bend))))
    elif len(steps) >= 2:
        found.append(key(NO_KNEE, "levels", _capital(scaling.no_knee_sentence(steps))))
    start = scaling.error_start(levels)
    if start is not None:
        found.append(
            key(ERROR_START, level_label(start), _capital(scaling.error_start_sentence(start)))
        )
    return found


@dataclass(frozen=True)
class Overhead:
    """One endpoint measured sequentially both in-process and over HTTP (``--mode both``)."""

    inprocess: models.EndpointResult
    http: models.EndpointResult | None

    @property
    def comparable(self) -> bool:
        return self.http is not None and len(measured([self.inprocess, self.http])) == 2

    @property
    def difference_ms(self) -> float:
        """What the server stack and the network add to the p50: HTTP p50 − in-process p50."""
        return self.http.p50_ms - self.inprocess.p50_ms

    @property
    def share(self) -> float:
        """The difference as percent of the HTTP p50."""
        return 100 * self.difference_ms / self.http.p50_ms if self.http.p50_ms else 0.0


def transport_overhead(endpoints: Iterable[models.EndpointResult]) -> list[Overhead]:
    """Sequential in-process rows paired with their sequential-http twin by method and path."""
    rows = list(endpoints)
    http = {(e.name, e.method, e.path): e for e in rows if e.phase == "sequential-http"}
    return [
        Overhead(e, http.get((e.name, e.method, e.path)))
        for e in sorted(rows, key=lambda e: e.position)
        if e.phase == "sequential"
    ]
