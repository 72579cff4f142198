"""Rules over a run's load levels: errors under load, the load generator's own limits, and the
scaling curve (peak throughput, the knee, where errors start).

Each rule reads stored ``LoadLevel`` figures (error groups, counts, generator CPU, lateness)
and fires only when its condition holds; its sentence is built from those figures. Error
groups a specific rule explains (throttling, token rotation, a target that went away) are
not repeated by the catch-all ``LEVEL_ERRORS`` rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import partial
from typing import Any

from perftest.store.read import LevelModel, StoredRun
from perftest.text import (
    about_share,
    error_groups,
    growth,
    level_label,
    ms,
    ms_value,
    number,
    quantity,
)

from .. import database, machine, summaries
from ..metrics import ERROR_RATE, GENERATOR_CORES, OK_THROUGHPUT, P95, P99, THROUGHPUT
from .base import (
    BOTTLENECK,
    KEY,
    LEVEL,
    RUN,
    Finding,
    asked_to_wait,
    bottleneck,
    capital,
    key,
    retry_afters,
    rule,
    throttle_advice,
)

RATE_LIMITED = "bottleneck.level_rate_limited"
TOKEN_ROTATION = "bottleneck.token_rotation"
TARGET_WENT_AWAY = "bottleneck.target_went_away"
LEVEL_ERRORS = "bottleneck.level_errors"
DATABASE_ERRORS = "bottleneck.database_errors"
GENERATOR_CPU = "bottleneck.generator_cpu"
GENERATOR_LATE = "bottleneck.generator_late"
HIDDEN_STALL = "bottleneck.hidden_stall"
WORKER_FAILURES = "bottleneck.worker_failures"
PEAK = "key.peak_throughput"
KNEE = "key.knee"
NO_KNEE = "key.no_knee"
ERROR_START = "key.error_start"

#: One Python process runs Python code on about one core (the GIL); a single busy Python
#: thread shows as 0.85-0.95 of a core (the rest is waiting on sockets and the GIL hand-off),
#: so 0.85 catches it where 0.9 missed a generator at 0.88.
GENERATOR_CORES_LIMIT = 0.85
#: Below this much wall time a level's CPU share is noise (a level ended by a dead target
#: lasts milliseconds), so the generator is not judged on it.
GENERATOR_MIN_WALL_S = 0.1
#: The closed model hid a stall when the corrected p99 is at least this many times the raw p99...
STALL_FACTOR = 3.0
#: ...and at least this much longer (ms), so a healthy millisecond-scale tail never fires.
STALL_MIN_MS = 100.0
#: Error reasons that mean the target stopped accepting or dropped connections.
GONE = ("connection refused", "connection reset")
#: A knee: throughput grows by less than this (percent) over the previous level...
KNEE_THROUGHPUT_GROWTH = 10.0
#: ...while p95 grows by more than this (percent).
KNEE_P95_GROWTH = 50.0


_rule = partial(rule, family="levels")


def _count(groups: Iterable[dict]) -> int:
    return sum(group["count"] for group in groups)


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


def _explains(rule_id: str, looks_for: str, recommendation: str):
    """Register a rule over the error groups of a level that ``rule_id`` explains.

    The decorated function words them: ``describe(level, groups) -> (title, evidence)``.
    """

    def register(describe):
        def check(level: Any) -> list[Finding]:
            groups = _error_groups(level)[rule_id]
            if not groups:
                return []
            title, evidence = describe(level, groups)
            return [bottleneck(rule_id, level_label(level), title, evidence)]

        _rule(rule_id, BOTTLENECK, LEVEL, looks_for, recommendation)(check)
        return describe

    return register


@_explains(
    RATE_LIMITED,
    "rate limiting under load (HTTP 429)",
    throttle_advice("the endpoints"),
)
def _throttled(level: Any, groups: list[dict]) -> tuple[str, str]:
    retry = asked_to_wait(retry_afters(level, [g["reason"] for g in groups]))
    share = f"{_count(groups)} of {level.requests} requests"
    return (
        f"{level_label(level)}: rate limiting answered HTTP 429 for {share}",
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
        f"{level_label(level)}: HTTP 401 for {_count(groups)} of {level.requests} requests: "
        f"{workers} shared {identities}, each logging in itself",
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
    return (
        f"{level_label(level)}: the target stopped answering during the level",
        f"The target stopped answering during the level: {_count(groups)} of "
        f"{level.requests} requests failed with connection errors ({error_groups(groups)}) "
        f"after {level.ok} succeeded.\n{_examples(groups)}",
    )


def _database_failures(level: Any) -> list[str]:
    """The level's failed workers whose failure was the database's (a login that got no
    connection ends the worker before it sends anything)."""
    return [str(f) for f in level.worker_failures if database.error_kind(str(f))]


@_rule(
    DATABASE_ERRORS,
    BOTTLENECK,
    LEVEL,
    "database errors under load (connection limit, SQLite write lock, connection timeout)",
    "Change the database setting the finding names; the requests that failed measured the "
    "database's limits, not the endpoints.",
)
def _database_errors(level: Any) -> list[Finding]:
    groups, failures = _error_groups(level)[DATABASE_ERRORS], _database_failures(level)
    if not groups and not failures:
        return []
    texts = [g["example"] for g in groups] + failures
    kinds = ", ".join(dict.fromkeys(str(database.error_kind(text)) for text in texts))
    parts = []
    if groups:
        parts.append(f"{_count(groups)} of {level.requests} requests failed")
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
        f"{level_label(level)}: {_count(groups)} of {level.requests} requests answered "
        f"otherwise: {error_groups(groups)}",
        _examples(groups),
    )


@_rule(
    GENERATOR_CPU,
    BOTTLENECK,
    LEVEL,
    f"a load generator at {GENERATOR_CORES_LIMIT:.0%} of a core or more",
    "Generate the load from more processes or machines (or a compiled tool such as wrk) "
    "and compare; measure in-process levels again over HTTP against a separate server.",
)
def _generator_cpu(level: Any) -> list[Finding]:
    if level.wall_s < GENERATOR_MIN_WALL_S or GENERATOR_CORES.of(level) < GENERATOR_CORES_LIMIT:
        return []
    shared = (
        " In-process, the server runs in the same interpreter, so this CPU includes the "
        "server's own work."
        if level.transport == "in-process"
        else ""
    )
    return [
        bottleneck(
            GENERATOR_CPU,
            level_label(level),
            f"{level_label(level)}: figures are limited by the load generator, not the server: "
            f"perftest used {GENERATOR_CORES.text(level)} (limit ~1 per Python process)",
            f"{level.generator_cpu_s:.2f} s of CPU in {level.wall_s:.2f} s of wall time." + shared,
        )
    ]


#: An open level whose workers spent at least this share of their time inside requests had a
#: pool too small for its rate; below it the pool was mostly idle, and a request that found
#: every worker busy found them all waiting on a server slow to answer.
BUSY_POOL_SHARE = 0.5


def _busy_share(level: Any) -> float | None:
    """The share of the pool's time spent inside requests (None when not followed)."""
    busy_s = (level.lateness or {}).get("busy_s")
    if busy_s is None or not level.window_s:
        return None
    return busy_s / (level.concurrency * level.window_s)


@_rule(
    GENERATOR_LATE,
    BOTTLENECK,
    LEVEL,
    "requests sent late or dropped (open model)",
    "Give the open model a larger worker pool (--concurrency) or a lower --rate, so every "
    "request can be sent when it is due.",
)
def _generator_late(level: Any) -> list[Finding]:
    """An open model that could not send every request when it was due, and why."""
    if level.model != LevelModel.OPEN or not (level.late or level.dropped):
        return []
    while_idle = (level.lateness or {}).get("late_while_idle", 0)
    all_busy = level.late - while_idle + level.dropped
    share = _busy_share(level)
    pool = quantity(level.concurrency, "worker")
    advice = ""
    if all_busy and (share is None or share >= BUSY_POOL_SHARE):
        cause = "all workers busy"
    elif all_busy:
        cause = (
            f"the server slow to answer: every worker was waiting on it, though the {pool} "
            f"spent {about_share(share or 0)} of the level in requests"
        )
        advice = (
            "Find what made the server slow to answer (the level's max latency, a lock, a full "
            "worker pool or database): a larger --concurrency would only queue more requests "
            "at the stalled server."
        )
    else:
        cause = "a worker was free and waiting, yet started late: perftest's own process was slow"
        advice = (
            "Give perftest a core of its own (see the machine's other load and perftest's CPU "
            "in this level); in-process, the server's work shares perftest's interpreter: "
            "measure over HTTP against a separate server."
        )
    in_requests = (
        f" Workers in requests: {about_share(share)} of the level "
        f"({(level.lateness or {}).get('busy_s', 0):.2f} s of {pool} × {level.window_s:.2f} s)."
        if share is not None
        else ""
    )
    return [
        bottleneck(
            GENERATOR_LATE,
            level_label(level),
            f"{level_label(level)}: {level.late + level.dropped} of "
            f"{level.requests + level.dropped} requests could not be sent on time ({cause}); "
            "latency includes the wait (measured from the intended send time)",
            f"Sent late: {level.late} (up to {ms(level.max_lateness_ms)} behind schedule), "
            f"{while_idle} of them although a worker was free and waiting; dropped, never "
            f"sent: {level.dropped}; {pool} for {number(level.rate or 0)} req/s." + in_requests,
            advice,
        )
    ]


def hidden_stall_ms(level: Any) -> float | None:
    """How much the closed model hid (corrected p99 − raw p99), when it hid a stall."""
    corrected = level.corrected or {}
    if level.model != LevelModel.CLOSED or "p99_ms" not in corrected:
        return None
    raw, fixed = P99.of(level), corrected["p99_ms"]
    if fixed < STALL_FACTOR * raw or fixed - raw < STALL_MIN_MS:
        return None
    return fixed - raw


@_rule(
    HIDDEN_STALL,
    BOTTLENECK,
    LEVEL,
    f"a corrected p99 at least {number(STALL_FACTOR)}× the raw p99 and "
    f"{number(STALL_MIN_MS)} ms longer (closed model, coordinated omission)",
    "Measure the same load with the open model (--rate, requests due at a fixed rate whatever "
    "the answers): its latency counts from the intended send time, as users would see it. "
    "Then look for what paused the server (garbage collection, a lock, a full worker pool).",
)
def _hidden_stall(level: Any) -> list[Finding]:
    """A closed level whose workers waited out a stall instead of measuring it."""
    if hidden_stall_ms(level) is None:
        return []
    corrected = level.corrected
    return [
        bottleneck(
            HIDDEN_STALL,
            level_label(level),
            f"{level_label(level)}: the closed model hid a stall of {ms(level.max_ms)}; the "
            "open model (--rate) shows what users would see",
            f"Raw p99 {P99.text(level)}, max {ms(level.max_ms)}; corrected for coordinated "
            f"omission p99 {ms(corrected['p99_ms'])} (expected interval "
            f"{ms(corrected['expected_interval_ms'])}, the level's p50). While a worker waited "
            "for the stalled answer it sent nothing, so the requests users would have sent "
            "meanwhile were never measured; the correction adds them.",
        )
    ]


@_rule(
    WORKER_FAILURES,
    BOTTLENECK,
    LEVEL,
    "failed workers",
    "The level ran with fewer workers than planned: fix the error shown.",
)
def _worker_failures(level: Any) -> list[Finding]:
    explained = _database_failures(level)
    failures = [str(f) for f in level.worker_failures if str(f) not in explained]
    if not failures:
        return []
    return [
        bottleneck(
            WORKER_FAILURES,
            level_label(level),
            f"{level_label(level)}: {missing_data_text(level) or _failed_workers(failures, level)}",
            "\n".join(failures),
        )
    ]


def _failed_workers(failures: list[str], level: Any) -> str:
    return f"{len(failures)} of {quantity(level.concurrency, 'worker')} failed"


def missing_data_text(level: Any) -> str:
    """``1 Locust worker lost, carrying 30 of 30 users: about 70% of the level's data is
    missing`` ("" when every worker's data arrived): the users, not the worker processes, say
    how much of the load went with it."""
    missing = level.missing_data
    if not missing:
        return ""
    users = f"{missing['users']} of {quantity(level.concurrency, 'user')}"
    lost = (
        f"{quantity(missing['workers'], 'Locust worker')} lost, carrying {users}"
        if missing["workers"]
        else f"no Locust worker took part, {users} unsent"
    )
    return f"{lost}: {about_share(missing['share'])} of the level's data is missing"


def _bends(step: summaries.Step) -> bool:
    return (
        step.throughput_growth is not None
        and step.p95_growth is not None
        and step.throughput_growth < KNEE_THROUGHPUT_GROWTH
        and step.p95_growth > KNEE_P95_GROWTH
    )


def knee(steps: Sequence[summaries.Step]) -> summaries.Step | None:
    """The first level (after the first) that bends the curve or where errors first appear.

    Errors mark a knee only at the level where they start (``_error_start``'s level): errors
    that come back after a clean level are not where the curve's errors began.
    """
    errors_before = False
    for step in steps:
        errors_start = step.level.errors_total > 0 and not errors_before
        if step.previous is not None and (_bends(step) or errors_start):
            return step
        errors_before = errors_before or step.level.errors_total > 0
    return None


def _errors_text(level: Any) -> str:
    """``12 of 400 requests (3.0 %): HTTP 503 ×12``."""
    reasons = error_groups(level.errors) or "no reason stored"
    return (
        f"{level.errors_total} of {level.requests} requests ({ERROR_RATE.text(level)}): {reasons}"
    )


def _movement(step: summaries.Step) -> str:
    """``throughput as expected +4.2 % (120.1 → 125.2 req/s) while p95 +180 % (40.0 → 112.0
    ms)``."""
    before, after = step.previous, step.level
    return (
        f"{OK_THROUGHPUT.name} {growth(step.throughput_growth)} "
        f"({OK_THROUGHPUT.of(before):.1f} → {OK_THROUGHPUT.text(after)}) while p95 "
        f"{growth(step.p95_growth)} ({ms_value(P95.of(before))} → {P95.text(after)})"
    )


@_rule(PEAK, KEY, RUN, "the level with the highest throughput as expected")
def _peak(stored: StoredRun) -> list[Finding]:
    top = summaries.peak(stored.levels)
    if top is None:
        return []
    caveat = machine.caveat(stored, [top])
    return [
        key(
            PEAK,
            level_label(top),
            f"Peak throughput: {OK_THROUGHPUT.text(top)} as expected at {level_label(top)}"
            + (" (on a busy machine)" if caveat else ""),
            f"{P95.phrase(top)}, {top.errors_total} of {top.requests} requests failed"
            + (f" ({THROUGHPUT.text(top)} counting every answer)" if top.errors_total else "")
            + f", over {top.transport}"
            + (f". {caveat}" if caveat else ""),
        )
    ]


@_rule(KNEE, KEY, RUN, "the level where the scaling curve bends")
def _knee(stored: StoredRun) -> list[Finding]:
    """Why the knee is where it is, with the numbers that put it there."""
    step = knee(summaries.curve(stored.levels))
    if step is None:
        return []
    cause = "" if _bends(step) else f"errors appear ({_errors_text(step.level)}); "
    label = level_label(step.level)
    caveat = machine.caveat(stored, [step.previous, step.level])
    busy = " (on a busy machine)" if caveat else ""
    return [key(KNEE, label, f"Knee at {label}{busy}: {cause}{_movement(step)}", caveat)]


@_rule(NO_KNEE, KEY, RUN, "a scaling curve without a knee")
def _no_knee(stored: StoredRun) -> list[Finding]:
    steps = summaries.curve(stored.levels)
    if len(steps) < 2 or knee(steps) is not None:
        return []
    labels = ", ".join(str(step.level.concurrency) for step in steps)
    # No knee, so errors (if any) were there from the lowest level on: load did not bring them.
    first = steps[0].level
    errors = (
        f"; errors were there from the lowest level, {level_label(first)} "
        f"({ERROR_RATE.text(first)}), so no level brought them"
        if any(step.level.errors_total for step in steps)
        else ", and none of these levels had errors"
    )
    return [
        key(
            NO_KNEE,
            "levels",
            f"No knee across {labels} concurrent: no level grew throughput by less than "
            f"{KNEE_THROUGHPUT_GROWTH:.0f} % while p95 grew by more than "
            f"{KNEE_P95_GROWTH:.0f} %{errors}",
        )
    ]


@_rule(ERROR_START, KEY, RUN, "the lowest closed level with errors")
def _error_start(stored: StoredRun) -> list[Finding]:
    """The lowest closed level with errors, when any closed level had them."""
    closed = summaries.closed_levels(stored.levels)
    start = next((level for level in closed if level.errors_total), None)
    if start is None:
        return []
    label = level_label(start)
    return [key(ERROR_START, label, capital(f"errors start at {label}: {_errors_text(start)}"))]
