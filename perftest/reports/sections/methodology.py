"""How the run measured: mode, iterations, login, environment, limits, load parameters; and
the notes the run recorded."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from perftest.analysis import machine, server_account
from perftest.analysis.rules.generator import BUSY_POOL_SHARE
from perftest.plan.expressions import from_legacy, parse
from perftest.plan.fingerprint import role_counts
from perftest.store.read import LevelModel, StoredRun
from perftest.store.windows import FIRST_WINDOW_S, MAX_WINDOWS
from perftest.text import level_label, ms, number, quantity

from ..blocks import Block, Bullets, Heading
from . import allocations, comparison

#: Environment facts the methodology names, with how each reads in the sentence.
_ENVIRONMENT = (
    ("python", "Python {}"),
    ("django", "Django {}"),
    ("database_vendor", "database {}"),
    ("database_version", "version {}"),
    ("cpu_count", "{} CPUs"),
    ("host", "host {}"),
)

_MODES = {
    "in-process": (
        "In-process mode: requests go through Django's handler in the measuring process, so "
        "latency excludes the network and the resource figures include the client."
    ),
    "http": "HTTP mode: latency includes the network round trip to the target.",
    "both": (
        "Both modes: each endpoint is measured sequentially in-process (view and ORM) and "
        "again over HTTP (see Where the time goes); response times, database figures and "
        "endpoint thresholds are the in-process ones."
    ),
}


def _iterations(stored: StoredRun) -> str:
    run = stored.row
    warmup = (
        f"after {quantity(run.warmup, 'warm-up request')}, not counted"
        if run.warmup
        else "no warm-up"
    )
    return f"Iterations per endpoint: {run.iterations}, {warmup}."


def _login(stored: StoredRun) -> str:
    logins, where = stored.row.logins, stored.login_endpoint
    if not logins:
        return f"Login: {where}; no login was attempted."
    identities = quantity(len({a["identity"] for a in logins}), "identity", "identities")
    succeeded = sum(bool(attempt["ok"]) for attempt in logins)
    return f"Login: {identities} through {where}; {succeeded} of {len(logins)} attempts succeeded."


def _roles(stored: StoredRun) -> list[str]:
    """How several roles were measured (nothing for a run with one role)."""
    if not stored.by_role:
        return []
    return [
        f"Roles: {', '.join(role_counts(stored.plan))} identities; each endpoint was measured "
        "once per role, by that role's first identity, and is reported per role (the Role "
        "column); load workers took the identities with the roles interleaved in proportion, "
        "so each level's per-endpoint rows are split by role too."
    ]


def _environment(environment: Mapping[str, Any]) -> str:
    """The stored environment facts; a fact the snapshot lacks is left out, not guessed."""
    parts = [text.format(environment[key]) for key, text in _ENVIRONMENT if key in environment]
    return "Environment: " + (", ".join(parts) if parts else "not recorded") + "."


def _server(stored: StoredRun) -> list[str]:
    """The server's slots as read from its process tree (HTTP runs whose server was found):
    ``Server: gunicorn pid 123 with 2 workers × 1 thread, 2 requests at a time (…)``."""
    server = server_account.server(stored)
    if server is None:
        return []
    pid = f" pid {server.pid}" if server.pid else ""
    source = f" ({server.source})" if server.source else ""
    return [
        f"Server: {server.name or 'the server'}{pid} with "
        f"{quantity(server.workers, 'worker')} × {quantity(server.threads, 'thread')}, "
        f"{server.slots} requests at a time{source}."
    ]


def _levels(stored: StoredRun) -> list[str]:
    levels = stored.levels
    closed = [lv.concurrency for lv in levels if lv.model == LevelModel.CLOSED]
    opened = [level_label(lv) for lv in levels if lv.model == LevelModel.OPEN]
    lines = []
    if closed:
        corrected = any(lv.corrected for lv in levels if lv.model == LevelModel.CLOSED)
        lines.append(
            "Closed model (each worker sends its next request when the previous one answers: "
            "a fixed number of clients, so the queueing behind a slow answer is hidden, which "
            "is coordinated omission" + ("; see the corrected figures" if corrected else "") + "): "
            f"{', '.join(map(str, closed))} concurrent."
        )
    if opened:
        lines.append(
            "Open model (requests are due at a fixed rate whatever the answers; latency is "
            f"measured from the intended send time): {', '.join(opened)}."
        )
    if any(lv.lateness for lv in levels if lv.model == LevelModel.OPEN):
        lines.append(
            "A late request's cause is told from the workers' own state: a request whose slot "
            "was taken after it was due found every worker in a request, because the pool is "
            "too small for the rate when the workers spent at least "
            f"{BUSY_POOL_SHARE:.0%} of the level in requests, otherwise because the server "
            "was slow to answer; a slot taken before it was due had a worker free and waiting, "
            "and only that worker's start was late."
        )
    planned = list(stored.plan.load.concurrency)
    if planned and planned != [lv.concurrency for lv in levels]:
        lines.append(f"Planned: concurrency {', '.join(map(str, planned))} (not all ran).")
    return lines


def _machine(stored: StoredRun) -> list[str]:
    """How much of the machine each level had, when the levels recorded it."""
    read = [level for level in stored.levels if level.system_cores is not None]
    if not read:
        return []
    parts = "; ".join(
        f"{level_label(level)}: {machine.load_text(stored, stored.level_machine(level))}"
        for level in read
    )
    return [
        f"Machine during the levels (CPU over each level's window; scaling verdicts carry a "
        f"caveat when other processes used {number(machine.OTHER_CORES_LIMIT)} core or more, "
        f"or less than {machine.MIN_FREE_SHARE:.0%} of the machine was free): {parts}."
    ]


def _calibration(stored: StoredRun) -> list[str]:
    """The machine's yardstick and what the machine gave each sequential pass, when the run
    recorded them (runs stored before calibration did not)."""
    samples = stored.calibration
    lines = []
    if samples.reference_ns:
        trivial = (
            f" and the trivial request (GET {samples.trivial_path} through Django's handler in "
            "the measuring process to perftest's own view, none of the project's middleware "
            "or URLs, never sent to a server)"
            if samples.trivial_ns
            else ""
        )
        lines.append(
            f"Calibration: {quantity(len(samples.reference_ns), 'sample')} of the machine, one "
            "before the sequential pass, one after each endpoint and one before each level, "
            f"outside every timed window, each the fastest of {samples.timings_per_sample} "
            f"timings: the reference workload ({samples.reference_rounds:,} rounds of integer "
            f"arithmetic in the measuring process){trivial}, timed in nanoseconds and stored "
            "with the run. A baseline comparison reads the machine's drift between two runs "
            "from these."
        )
    for phase, name in (("sequential", "sequential pass"), ("sequential-http", "HTTP pass")):
        use = stored.phase_machine(phase)
        if use is not None and use.other_cores is not None:
            lines.append(f"Machine during the {name}: {machine.load_text(stored, use)}.")
    return lines


def _password_hash(environment: Mapping[str, Any]) -> list[str]:
    hashed = environment.get("password_hash")
    if not isinstance(hashed, Mapping):
        return []
    work = f", {hashed['iterations']:,} iterations" if hashed.get("iterations") else ""
    return [
        f"Password hashing: one hash with {hashed['algorithm']}{work} took {ms(hashed['ms'])} "
        "in this run; every login pays it."
    ]


def _length(stored: StoredRun) -> str:
    load = stored.plan.load
    if load.requests:
        length = f"{load.requests} counted requests per level"
    elif load.duration_s:
        length = f"{number(load.duration_s)} s per level"
    else:
        length = "length per level not recorded"
    ramp = f"ramp-up {number(load.ramp_up_s)} s, not counted" if load.ramp_up_s else "no ramp-up"
    return f"Level length: {length}; {ramp}."


def _mix(stored: StoredRun) -> str:
    mix = stored.plan.load.mix
    if mix and mix.text:
        return f"Mix: {mix.text}."
    names = list(dict.fromkeys(e.name for e in stored.endpoints_of(stored.levels[0])))
    listed = f": {', '.join(names)}" if names else ""
    return f"Mix: the default, every endpoint except login with equal weights{listed}."


def _engine(stored: StoredRun) -> list[str]:
    """How the levels' requests were sent, when Locust's runner sent them (``--engine``)."""
    load = stored.row.config.get("load") if isinstance(stored.row.config, Mapping) else None
    engine = load.get("engine") if isinstance(load, Mapping) else None
    if not isinstance(engine, Mapping) or engine.get("name") != "locust":
        return []
    local = quantity(engine.get("processes", 0), "local worker process", "local worker processes")
    remote = engine.get("remote_workers", 0)
    remote = (
        f" and {quantity(remote, 'worker')} from other machines (master at "
        f"{engine.get('master_bind')})"
        if remote
        else ""
    )
    return [
        f"Engine: Locust's distributed runner, {local}{remote}. Each identity logged in once "
        "through the login endpoint and each Locust user sent with its identity's token; the "
        "figures are perftest's own HDR histograms from every worker, merged exactly."
    ]


def _load(stored: StoredRun) -> list[str]:
    """The load parameters of the plan snapshot, when the run has load levels."""
    if not stored.levels:
        return []
    load, http = stored.plan.load, stored.plan.http
    identities = (
        quantity(int(load.identities), "identity", "identities")
        if load.identities
        else "one per worker (the default)"
    )
    login = load.login_mode or stored.levels[0].login_mode
    lines = [
        *_levels(stored),
        *_engine(stored),
        *_machine(stored),
        _length(stored),
        _mix(stored),
        f"Identities: {identities}; login: {login}.",
        _level_thresholds(stored),
    ]
    if http is not None and http.base_url:
        pid = f" (server pid {http.server_pid})" if http.server_pid else ""
        lines.append(f"Base URL: {http.base_url}{pid}.")
    return lines


def _level_thresholds(stored: StoredRun) -> str:
    """The thresholds that judge load levels: the old dict's two concurrency checks as the
    original report worded them, or every expression of the plan that reads levels."""
    if from_legacy(stored.thresholds) == stored.plan.thresholds:
        limit = stored.thresholds
        return (
            f"Concurrency thresholds: at {number(limit['CONCURRENCY_ALL_OK'])} concurrent all "
            f"requests succeed; at {number(limit['CONCURRENCY_MOSTLY_OK'])} concurrent "
            f"≥ {number(limit['CONCURRENCY_MOSTLY_OK_RATE'])}% succeed."
        )
    judging = [
        t.source
        for t in map(parse, stored.plan.thresholds)
        if (t.level is not None or t.other_levels) and not t.abort
    ]
    if not judging:
        return "Level thresholds: none of the plan's thresholds reads a load level."
    return "Level thresholds: " + "; ".join(judging) + "."


def _verdicts(stored: StoredRun) -> list[str]:
    """How answers otherwise were kept out of the verdicts, when the run had any."""
    rows = (*stored.sequential, *stored.sequential_http, *stored.levels)
    if not any(row.answer_classes for row in rows):
        return []
    return [
        "Verdicts (percentiles, mean, throughput as expected, peak, knee, fastest and slowest, "
        "SQL share, latency thresholds) count only the answers with the expected status, as "
        "k6's expected_response does; every other answer is counted by class with its own "
        "latency (Answers otherwise). Success-rate thresholds count every answer."
    ]


def _windows(stored: StoredRun) -> list[str]:
    """How latency per time window was kept, when the run's rows have windows (runs stored
    before windows existed have none, and say nothing about them)."""
    rows = (*stored.sequential, *stored.sequential_http, *stored.levels)
    rows += tuple(row for level in stored.levels for row in stored.endpoints_of(level))
    widths = sorted({row.windows.get("width_s") for row in rows if row.windows})
    if not widths:
        return []
    kept = f"{number(widths[0])} s"
    if len(widths) > 1:
        kept += f" to {number(widths[-1])} s"
    return [
        f"Latency per time window: besides its pooled histogram, each endpoint and level keeps "
        f"the latency of its answers as expected per window of wall-clock time ({kept} in this "
        f"run: windows start {number(FIRST_WINDOW_S)} s wide and the width doubles whenever "
        f"more than {MAX_WINDOWS} windows would be kept). Successive requests are not "
        "independent, so a baseline comparison can measure noise over windows rather than "
        "single requests, and the HTML report draws p50 and p95 over time from them."
    ]


def _expressions(stored: StoredRun) -> list[str]:
    """Every threshold expression, when they say more than the line of limits above (which
    the old dict of limits, and the defaults, say in full)."""
    if from_legacy(stored.thresholds) == stored.plan.thresholds:
        return []
    return ["Threshold expressions: " + "; ".join(stored.plan.thresholds) + "."]


def _diagnosis(stored: StoredRun) -> list[str]:
    """What ``--profile`` and ``--explain`` did, when asked (Why it is slow says why they read
    nothing over HTTP or on a database other than PostgreSQL)."""
    plan, lines = stored.plan, []
    in_process = stored.row.mode != "http"
    if plan.profile and in_process:
        lines.append(
            f"Profile (--profile): {quantity(plan.profile, 'extra request')} per endpoint that "
            "answered as expected, after its measured ones, one at a time under cProfile, never "
            "counted in any figure; shares are own time by where the code lives, cProfile's "
            "overhead included. The call chain every profiled endpoint shares (the framework's "
            "dispatch and middleware) is found by comparing their profiles and folded into one "
            "line; each table starts where the endpoint's own work starts (with one profiled "
            "endpoint, at the project's first function)."
        )
    if (
        plan.explain
        and in_process
        and stored.row.environment.get("database_vendor") == ("postgresql")
    ):
        lines.append(
            "Query plans (--explain): one extra request per endpoint that answered as "
            "expected, never counted, captured its SQL with parameters in memory; EXPLAIN "
            "(FORMAT JSON), never ANALYZE, of SELECT statements only; no parameter value is "
            "stored."
        )
    return lines


def _scenario(stored: StoredRun) -> list[str]:
    """Which scenario file the plan was read from (``--scenario``), when one was."""
    if not stored.plan.scenario:
        return []
    return [
        f"Plan: read from the scenario file {stored.plan.scenario} over the PERFTEST settings "
        "(its keys win; its endpoints replace the settings' list)."
    ]


def methodology(stored: StoredRun) -> list[Block]:
    run, limit = stored.row, stored.thresholds
    sampling = (
        f"Resource sampling: {run.resource_description}, every {number(run.resource_interval_s)} s."
        if run.resource_description
        else f"Resource sampling: {run.resource_unavailable or 'not recorded'}."
    )
    lines = [
        f"Mode: {run.mode}; target: {run.target}.",
        *_scenario(stored),
        _iterations(stored),
        _login(stored),
        *_roles(stored),
        _environment(run.environment),
        *_server(stored),
        *_password_hash(run.environment),
        sampling,
        *_calibration(stored),
        f"Thresholds: p95 < {number(limit['RESPONSE_TIME_P95_MS'])} ms per endpoint, RSS "
        f"growth < {number(limit['MEMORY_GROWTH_MB'])} MB, CPU average < "
        f"{number(limit['CPU_PERCENT_AVG'])}% of all cores.",
        *_expressions(stored),
        *_verdicts(stored),
        *_windows(stored),
        _MODES.get(run.mode, f"Mode {run.mode!r}."),
        *_diagnosis(stored),
        *_load(stored),
        *allocations.methodology(stored),
        *comparison.noise_rule(stored),
    ]
    return [Heading("Methodology"), Bullets(lines)]


def notes(stored: StoredRun) -> list[Block]:
    if not stored.row.notes:
        return []
    return [Heading("Notes"), Bullets([str(note) for note in stored.row.notes])]
