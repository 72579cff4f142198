"""Rules over a load level's errors: rate limiting, rotated tokens, a target that went away,
the database's limits, and the rest.

Each rule reads a stored ``LoadLevel``'s error groups and fires only when its condition holds;
its sentence is built from those figures. Error groups a specific rule explains (throttling,
token rotation, a target that went away, database errors) are not repeated by the catch-all
``LEVEL_ERRORS`` rule. The load generator's own limits are ``generator``'s rules, the scaling
curve ``scaling``'s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from perftest.text import error_groups, level_label, quantity

from .. import database
from .base import (
    BOTTLENECK,
    LEVEL,
    Finding,
    asked_to_wait,
    bottleneck,
    capital,
    level_rule,
    retry_afters,
    throttle_advice,
    worded,
)

RATE_LIMITED = "bottleneck.level_rate_limited"
TOKEN_ROTATION = "bottleneck.token_rotation"
TARGET_WENT_AWAY = "bottleneck.target_went_away"
LEVEL_ERRORS = "bottleneck.level_errors"
DATABASE_ERRORS = "bottleneck.database_errors"

#: Error reasons that mean the target stopped accepting or dropped connections.
GONE = ("connection refused", "connection reset")


def _count(groups: Iterable[dict]) -> int:
    return sum(group["count"] for group in groups)


def _share(level: Any, groups: list[dict]) -> str:
    """``12 of 400 requests``: how many of the level's requests the groups hold."""
    return f"{_count(groups)} of {level.requests} requests"


def _examples(groups: Iterable[dict]) -> str:
    return "\n".join(
        f"{group['reason']} ×{group['count']}"
        + (f". Example: {group['example']}" if group.get("example") else "")
        for group in groups
    )


def _shares_identities(level: Any) -> bool:
    return 0 < level.identities < level.concurrency and level.login_mode == "per-worker"


def _error_groups(level: Any) -> dict[str, list[dict]]:
    """The error groups of a level under the most specific rule that explains each."""
    groups = list(level.errors)
    explained = {
        RATE_LIMITED: [g for g in groups if g["reason"] == "HTTP 429"],
        TOKEN_ROTATION: [
            g for g in groups if g["reason"] == "HTTP 401" and _shares_identities(level)
        ],
        TARGET_WENT_AWAY: [g for g in groups if g["reason"] in GONE] if level.ok else [],
        DATABASE_ERRORS: [g for g in groups if database.error_kind(g.get("example") or "")],
    }
    claimed = [g for matched in explained.values() for g in matched]
    return {**explained, LEVEL_ERRORS: [g for g in groups if g not in claimed]}


def _explains(
    rule_id: str, looks_for: str, recommendation: str
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a rule over the error groups of a level that ``rule_id`` explains.

    The decorated function words them: ``describe(level, groups) -> (title, evidence)``; the
    title is told after the level's label.
    """

    def check(describe: Callable[[Any, list[dict]], tuple[str, str]], level: Any) -> list[Finding]:
        groups = _error_groups(level)[rule_id]
        if not groups:
            return []
        title, evidence = describe(level, groups)
        label = level_label(level)
        return [bottleneck(rule_id, label, f"{label}: {title}", evidence)]

    return worded(level_rule(rule_id, BOTTLENECK, LEVEL, looks_for, recommendation), check)


@_explains(
    RATE_LIMITED,
    "rate limiting under load (HTTP 429)",
    throttle_advice("the endpoints"),
)
def _throttled(level: Any, groups: list[dict]) -> tuple[str, str]:
    retry = asked_to_wait(retry_afters(level, [g["reason"] for g in groups]))
    share = _share(level, groups)
    return (
        f"rate limiting answered HTTP 429 for {share}",
        f"The run measured rate limiting (a throttle), not the work of the endpoints: HTTP 429 "
        f"for {share}. The rate limits finding names each throttle, the platform's or a "
        f"view's own, with its rate." + (f" {retry}" if retry else "") + f"\n{_examples(groups)}",
    )


@_explains(
    TOKEN_ROTATION,
    "tokens invalidated by workers sharing an identity (HTTP 401)",
    "Give every worker its own identity (the default: leave --identities unset, or set it "
    "to at least the concurrency), or log each identity in once with --login once.",
)
def _token_rotation(level: Any, groups: list[dict]) -> tuple[str, str]:
    workers = quantity(level.concurrency, "worker")
    identities = quantity(level.identities, "identity", "identities")
    return (
        f"HTTP 401 for {_share(level, groups)}: {workers} shared {identities}, each logging in "
        "itself",
        f"THE_BOT rotates the token on every login, so workers logging in as the same "
        f"identity invalidate each other's tokens ({workers} shared {identities}, login per "
        f"worker).\n{_examples(groups)}",
    )


@_explains(
    TARGET_WENT_AWAY,
    "a target that stopped answering during a level",
    "Check the server's log and process at that moment (crash, restart, worker timeout, "
    "open-file or connection limits); the requests after it measured nothing.",
)
def _went_away(level: Any, groups: list[dict]) -> tuple[str, str]:
    failed = f"{_share(level, groups)} failed with connection errors ({error_groups(groups)})"
    stopped = "the target stopped answering during the level"
    return stopped, f"{capital(stopped)}: {failed} after {level.ok} succeeded.\n{_examples(groups)}"


def database_failures(level: Any) -> list[str]:
    """The level's failed workers whose failure was the database's (a login that got no
    connection ends the worker before it sends anything)."""
    return [str(f) for f in level.worker_failures if database.error_kind(str(f))]


@level_rule(
    DATABASE_ERRORS,
    BOTTLENECK,
    LEVEL,
    "database errors under load (connection limit, SQLite write lock, connection timeout)",
    "Change the database setting the finding names; the requests that failed measured the "
    "database's limits, not the endpoints.",
)
def _database_errors(level: Any) -> list[Finding]:
    groups, failures = _error_groups(level)[DATABASE_ERRORS], database_failures(level)
    if not groups and not failures:
        return []
    texts = [g["example"] for g in groups] + failures
    kinds = ", ".join(dict.fromkeys(str(database.error_kind(text)) for text in texts))
    parts = []
    if groups:
        parts.append(f"{_share(level, groups)} failed")
    if failures:
        workers = quantity(level.concurrency, "worker")
        parts.append(f"{len(failures)} of {workers} failed at login")
    counted = database.connections_text(level)
    seen = f" The run's database had {counted} during the level." if counted else ""
    advice = " ".join(database.ADVICE[kind] for kind in kinds.split(", "))
    return [
        bottleneck(
            DATABASE_ERRORS,
            level_label(level),
            f"{level_label(level)}: database errors ({kinds}): {'; '.join(parts)}",
            f"{capital('; '.join(parts))}, with database errors ({kinds}).{seen} "
            f"What to change: {advice}\n" + "\n".join([_examples(groups), *failures]).strip(),
        )
    ]


@_explains(
    LEVEL_ERRORS,
    "other errors under load",
    "Read the examples: errors that appear only under load usually come from an exhausted "
    "resource (database connections, worker timeouts, locks).",
)
def _other_errors(level: Any, groups: list[dict]) -> tuple[str, str]:
    return (
        f"{_share(level, groups)} answered otherwise: {error_groups(groups)}",
        _examples(groups),
    )
