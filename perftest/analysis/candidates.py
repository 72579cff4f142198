"""What can give way first at a level under load, each candidate with its measured figures,
ranked: server workers, time waiting outside the app, server CPU, database connections, SQL,
and the load generator itself.

Each candidate is read from stored figures only and measured against its own bound
(``pressure``: the figure over the bound, 1.0 or more means it gave way):

- server workers: busy workers = app mean (the server's account) × throughput as expected,
  against the server's slots (workers × threads) read from its process tree;
- time outside the app: the share of the client's p95 spent outside Django (waiting for a
  free worker, parsing, the network), which grows when requests queue for a worker;
- server CPU: the server's cores against those it could use: the machine's cores less
  perftest's, a local database server's and other processes', and at most one per worker
  process (a Python process runs Python on one core at a time, threads or not);
- database connections: the peak open against the limit (``database``);
- SQL: SQL time per request grown under load against the lowest level (contention), or
  already most of the app's time at the lowest level, naming the endpoint's N+1 statements;
- the generator: perftest's CPU against what its processes could use, and Little's law
  (workers in requests far below the level's concurrency: they waited in perftest).

Workers and CPU are told apart: busy workers whose app time per request grew while the
server's CPU was near all it could use were busy because CPU was short (the CPU gave way);
busy workers whose app time stayed flat were simply all taken (the workers gave way, and
requests queued outside the app). When nothing inside the server gave way, requests queued
outside the app while the workers were busy ``WORKERS_QUEUED`` of the time are the same full
pool, read over a window its queue stretched. SQL and CPU are told apart too: when SQL is most
of the app's time at the level, a CPU that gave way was spent on the queries (SQLite's, or a
database server's on the same machine), so the SQL that gave way comes first, with the
queries as the lever, before busy workers too (more workers would run more of the same
queries). When the server's account is missing, the candidates that need it are listed in
``untold`` with why and how to get it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from perftest.store.read import LevelModel, StoredRun
from perftest.text import level_label, ms

from .database import ADVICE, NEAR_LIMIT_SHARE, connections_text, limit
from .efficiency import IN_REQUESTS_BOUND, littles_law
from .generator_use import (
    GENERATOR_CORES_LIMIT,
    GENERATOR_MIN_WALL_S,
    generator_use,
    machine_cores,
    remote_processes,
)
from .metrics import MEAN, OK_THROUGHPUT, P95
from .server_account import MIDDLEWARE, Account, Server, account, server

#: Workers busy this share of the time or more are all taken.
WORKERS_BUSY = 0.9
#: Busy workers this share of the time, while requests queued outside the app, were a full
#: pool: a level's throughput is counted over a window its queued answers stretch, so a pool
#: busy all the time reads low (a few seconds' step at 105 % of two 50 ms workers read 85 %).
WORKERS_QUEUED = 0.75
#: A server using this share of the cores it could use has no CPU to spare.
CPU_BUSY = 0.85
#: App or SQL time per request this many times the lowest level's grew with load.
GROWN = 1.5
#: SQL this share of the app's time at the lowest level: the queries are the work.
SQL_SHARE = 0.5
#: Requests that spent this share of their p95 outside the app queued before it.
OUTSIDE_SHARE = 0.5

WORKERS = "server workers"
OUTSIDE = "time outside the app"
CPU = "server CPU"
CONNECTIONS = "database connections"
SQL = "SQL"
GENERATOR = "the load generator"


@dataclass(frozen=True)
class Candidate:
    """One resource that can give way, with the figures that say how close it came."""

    resource: str
    #: The figure over its bound: 1.0 or more, it gave way.
    pressure: float
    #: The numbers, as the finding's detail lists them.
    figures: str
    #: Why, as a clause: ``the 2 server workers were busy 99 % of the time``.
    why: str
    #: What to change.
    lever: str

    @property
    def gave_way(self) -> bool:
        return self.pressure >= 1.0


@dataclass(frozen=True)
class Ranking:
    """The candidates at one level: the first to give way (None when none did), then the rest
    by pressure; ``untold``: what could not be told and why."""

    level: Any
    lowest: Any | None
    first: Candidate | None
    ranked: tuple[Candidate, ...]
    untold: tuple[str, ...]


def _pct(share: float) -> str:
    return f"{100 * share:.0f} %"


def _growth(now: float, before: float | None) -> float | None:
    return now / before if before else None


def lowest(stored: StoredRun, level: Any) -> Any | None:
    """The level of the same model with the least load (fewest workers, lowest rate) that had
    answers as expected: what "grew with load" is measured against; None when it is ``level``."""
    same = [other for other in stored.levels if other.model == level.model and other.ok]
    if level.model == LevelModel.CLOSED:
        least = min(same, key=lambda other: (other.concurrency, other.position), default=None)
    else:
        least = min(same, key=lambda other: (other.rate or 0, other.position), default=None)
    return None if least is None or least.pk == level.pk else least


def _workers_lever(found: Server | None) -> str:
    now = f"; it had {found.workers} × {found.threads}" if found else ""
    return (
        f"Give the server more workers or threads (gunicorn --workers / --threads{now}), as "
        "many as its cores and database connections allow; requests queue for a free one."
    )


def _workers(level: Any, found: Server, own: Account) -> Candidate:
    busy = own.app_mean_ms / 1000 * OK_THROUGHPUT.of(level)
    share = busy / found.slots
    return Candidate(
        WORKERS,
        share / WORKERS_BUSY,
        f"{found.text()}: {busy:.2f} of {found.slots} busy ({_pct(share)}): app mean "
        f"{ms(own.app_mean_ms)} × {OK_THROUGHPUT.text(level)} as expected",
        f"the {found.text()} were busy {_pct(share)} of the time",
        _workers_lever(found),
    )


def _outside(
    level: Any, own: Account, least: Any | None, base: Account | None, found: Server | None
) -> Candidate:
    p95 = P95.of(level)
    share = own.outside_p95_ms / p95 if p95 else 0.0
    mean = MEAN.of(level)
    before = f"; p95 {ms(base.outside_p95_ms)} at {level_label(least)}" if base else ""
    return Candidate(
        OUTSIDE,
        share / OUTSIDE_SHARE,
        f"outside the app: mean {ms(own.outside_mean_ms)} of {ms(mean)} "
        f"({_pct(own.outside_mean_ms / mean if mean else 0.0)}), p95 {ms(own.outside_p95_ms)} "
        f"of {ms(p95)} ({_pct(share)}){before}",
        f"requests waited {ms(own.outside_p95_ms)} of their p95 {ms(p95)} outside the app",
        _workers_lever(found),
    )


def _cpu(stored: StoredRun, level: Any, found: Server | None) -> Candidate:
    """The server's cores against those it could use: the machine's less what perftest, a
    database server on the same machine (its queries' CPU is not the app server's to use) and
    other processes used."""
    cpu_count = stored.row.resource_cpu_count
    other, database = level.other_cores or 0.0, level.database_cores or 0.0
    available = cpu_count - level.generator_cores - database - other
    usable = max(min(found.workers, available) if found else available, 0.01)
    share = level.server_cores / usable
    per_worker = f", at most one per worker process ({found.workers})" if found else ""
    of_database = f", the database server's {database:.2f}" if database else ""
    return Candidate(
        CPU,
        share / CPU_BUSY,
        f"the server used {level.server_cores:.2f} of the {usable:.2f} cores it could use "
        f"({_pct(share)}): {cpu_count} cores less perftest's {level.generator_cores:.2f}"
        f"{of_database} and other processes' {other:.2f}{per_worker}",
        f"the server used {level.server_cores:.2f} of the {usable:.2f} cores it could use",
        "Do less work per request (--profile shows where it goes), give the server more "
        "cores, or run it on another machine than the load generator.",
    )


def _connections(level: Any) -> Candidate | None:
    use = level.database_connections or {}
    allowed = limit(use)
    if use.get("peak") is None or not allowed:
        return None
    return Candidate(
        CONNECTIONS,
        use["peak"] / allowed / NEAR_LIMIT_SHARE,
        connections_text(level),
        f"{use['peak']} of the {allowed} database connections allowed were open",
        ADVICE["connection limit"],
    )


@dataclass(frozen=True)
class _Statements:
    """The endpoint that spent most SQL time at a level, and its repeated statements."""

    endpoint: str
    repeated: tuple[dict, ...]


def _sql_spent(row: Any) -> float:
    own = account(row)
    return own.sql_mean_ms * own.answers if own else row.judged_sql_ms


def _statements(stored: StoredRun, level: Any) -> _Statements | None:
    """The level's endpoint with most SQL time, with its N+1 groups (from the level's row,
    else from the sequential pass's rows of the same endpoint and role)."""
    rows = [row for row in stored.endpoints_of(level) if _sql_spent(row) > 0]
    costly = max(rows, key=_sql_spent, default=None)
    if costly is None:
        return None
    passes = (*stored.sequential, *stored.sequential_http)
    same = [row for row in passes if (row.name, row.role) == (costly.name, costly.role)]
    for row in (costly, *same):
        if row.duplicate_queries:
            groups = sorted(row.duplicate_queries, key=lambda g: -g.get("max_per_request", 0))
            return _Statements(costly.label, tuple(groups))
    return _Statements(costly.label, ())


def _sql(
    stored: StoredRun, level: Any, own: Account, least: Any | None, base: Account | None
) -> Candidate:
    grown = _growth(own.sql_mean_ms, base.sql_mean_ms if base else None)
    share = (base or own).sql_share
    where = level_label(least) if base else level_label(level)
    pressure = max((grown or 0.0) / GROWN, share / SQL_SHARE)
    named = _statements(stored, level)
    n_plus_one = named.repeated[0] if named and named.repeated else None
    figures = (
        f"SQL {ms(own.sql_mean_ms)} per request ({own.queries_mean:.1f} queries), "
        f"{_pct(own.sql_share)} of the app's time"
        + (f"; {ms(base.sql_mean_ms)} at {where} (×{grown:.1f})" if base and grown else "")
    )
    if named and named.repeated:
        figures += "; " + "; ".join(
            f"{named.endpoint}: {g['sql']} ×{g['max_per_request']} per request"
            for g in named.repeated[:3]
        )
    if grown is not None and grown >= GROWN:
        why = f"SQL time per request grew ×{grown:.1f} ({ms(base.sql_mean_ms)} → "
        why += f"{ms(own.sql_mean_ms)})"
    else:
        why = f"SQL took {_pct(share)} of the app's time already at {where}"
    if n_plus_one:
        why += f"; {named.endpoint} ran {n_plus_one['sql']} {n_plus_one['max_per_request']}×"
        lever = (
            f"{named.endpoint} runs {n_plus_one['sql']} once per related row (N+1): load them "
            "with the first query (select_related / prefetch_related)."
        )
    else:
        whose = f"{named.endpoint}'s" if named else "the endpoints'"
        lever = (
            f"Make {whose} queries cheaper or fewer (--explain shows their plans); SQL that "
            "slows with load waits on locks or the database's CPU and disks."
        )
    return Candidate(SQL, pressure, figures, why, lever)


def _generator(stored: StoredRun, level: Any) -> Candidate | None:
    if level.wall_s < GENERATOR_MIN_WALL_S:
        return None
    use = generator_use(level, machine_cores(stored.row), remote_processes(stored.plan))
    cores, usable = use.cores, use.available
    pressure = cores / (GENERATOR_CORES_LIMIT * usable)
    figures = use.text()
    law = littles_law(level)
    if law is not None and law.closed:
        figures += f"; Little's law: {law.text()}"
        if law.outside_requests:
            pressure = max(pressure, IN_REQUESTS_BOUND / max(law.ratio, 0.01))
    return Candidate(
        GENERATOR,
        pressure,
        figures,
        f"perftest itself used {cores:.2f} of the {usable:.2f} cores it could use",
        "Generate the load from more processes (--engine locust --processes N) or another "
        "machine, and measure again: these figures describe perftest's pace.",
    )


def _first(
    found: dict[str, Candidate], app_grown: float | None, sql_share: float
) -> Candidate | None:
    """The candidate that gave way first (see the module's docstring for workers, CPU and
    SQL)."""

    def gave(name: str) -> Candidate | None:
        candidate = found.get(name)
        return candidate if candidate is not None and candidate.gave_way else None

    inside = (CPU, CONNECTIONS, SQL)
    if gave(GENERATOR):
        return gave(GENERATOR)
    if sql_share >= SQL_SHARE and gave(SQL):
        return gave(SQL)
    workers = gave(WORKERS)
    if workers is not None:
        if app_grown is not None and app_grown >= GROWN:
            return next((gave(name) for name in inside if gave(name)), workers)
        return workers
    first_inside = next((gave(name) for name in inside if gave(name)), None)
    if first_inside is not None:
        return first_inside
    pool = found.get(WORKERS)
    if gave(OUTSIDE) and pool is not None and pool.pressure * WORKERS_BUSY >= WORKERS_QUEUED:
        return pool
    return gave(OUTSIDE)


def _untold(level: Any, own: Account | None, found: Server | None, connections: bool) -> list[str]:
    """What cannot be told at ``level``, why, and how to tell it next time."""
    missing: list[str] = []
    if level.transport == "http" and own is None:
        missing.append(
            "server workers, time outside the app and SQL: the server sent no account of its "
            f"time (no answer carried Server-Timing): add {MIDDLEWARE} to the target's "
            "MIDDLEWARE"
        )
    elif level.transport == "http" and found is None:
        missing.append(
            "server workers: the server's worker and thread count was not read (its process "
            "was not found from the base URL)"
        )
    if level.transport == "http" and level.server_cores is None:
        missing.append("server CPU: the server's processes were not sampled during the level")
    if not connections:
        reason = (level.database_connections or {}).get("unavailable") or "not watched"
        missing.append(f"database connections: {reason}")
    return missing


def rank(stored: StoredRun, level: Any) -> Ranking:
    """Every candidate at ``level`` with its figures, the first to give way first."""
    least = lowest(stored, level)
    own, base, found = account(level), account(least) if least else None, server(stored)
    candidates: list[Candidate | None] = [_generator(stored, level), _connections(level)]
    if level.server_cores is not None:
        candidates.append(_cpu(stored, level, found))
    if own is not None:
        if found is not None:
            candidates.append(_workers(level, found, own))
        candidates.append(_outside(level, own, least, base, found))
        candidates.append(_sql(stored, level, own, least, base))
    known = {c.resource: c for c in candidates if c is not None}
    app_grown = _growth(own.app_mean_ms, base.app_mean_ms if base else None) if own else None
    first = _first(known, app_grown, own.sql_share if own else 0.0)
    rest = sorted((c for c in known.values() if c is not first), key=lambda c: -c.pressure)
    return Ranking(
        level=level,
        lowest=least,
        first=first,
        ranked=tuple([first, *rest] if first else rest),
        untold=tuple(_untold(level, own, found, CONNECTIONS in known)),
    )


def app_growth_text(ranking: Ranking) -> str:
    """``app time 50.1 ms at 10 concurrent, 49.8 ms at 1 concurrent (×1.0)`` ("" when either
    level has no server account)."""
    own = account(ranking.level)
    base = account(ranking.lowest) if ranking.lowest is not None else None
    if own is None or base is None:
        return ""
    return (
        f"app time {ms(own.app_mean_ms)} per request at {level_label(ranking.level)}, "
        f"{ms(base.app_mean_ms)} at {level_label(ranking.lowest)} "
        f"(×{own.app_mean_ms / base.app_mean_ms if base.app_mean_ms else 0:.1f})"
    )


def listed(candidates: Sequence[Candidate]) -> list[str]:
    """``server CPU: the server used …`` per candidate, in order."""
    return [f"{c.resource}: {c.figures}" for c in candidates]
