"""Rules over the load generator's own limits, level by level: its CPU (all of its processes,
against the cores they could have, ``analysis.generator_use``), closed workers that spent their
time outside requests (Little's law), requests an open model sent late or dropped, a stall the
closed model hid, and workers that failed or were lost.

Each rule reads stored ``LoadLevel`` figures (generator CPU, lateness, corrected percentiles,
worker failures) and fires only when they say the figures measured perftest rather than the
server; its sentence is built from those figures.
"""

from __future__ import annotations

from typing import Any

from perftest.plan.model import RunPlan
from perftest.store.read import LevelModel
from perftest.text import about_share, level_label, ms, number, quantity

from ..efficiency import IN_REQUESTS_BOUND, littles_law
from ..generator_use import (
    GENERATOR_CORES_LIMIT,
    GeneratorUse,
    generator_use,
    machine_cores,
    remote_processes,
)
from ..metrics import GENERATOR_CORES, MEAN, OK_THROUGHPUT, P99
from .base import BOTTLENECK, LEVEL, Finding, bottleneck, level_rule
from .levels import database_failures

GENERATOR_CPU = "bottleneck.generator_cpu"
OUTSIDE_REQUESTS = "bottleneck.workers_outside_requests"
GENERATOR_LATE = "bottleneck.generator_late"
HIDDEN_STALL = "bottleneck.hidden_stall"
WORKER_FAILURES = "bottleneck.worker_failures"

#: The closed model hid a stall when the corrected p99 is at least this many times the raw p99...
STALL_FACTOR = 3.0
#: ...and at least this much longer (ms), so a healthy millisecond-scale tail never fires.
STALL_MIN_MS = 100.0
#: An open level whose workers spent at least this share of their time inside requests had a
#: pool too small for its rate; below it the pool was mostly idle, and a request that found
#: every worker busy found them all waiting on a server slow to answer.
BUSY_POOL_SHARE = 0.5
ELSEWHERE = (
    "run workers on another machine (`--engine locust --master` here, "
    "`manage.py perftest_worker --master HOST:PORT` there) or give the server a machine of "
    "its own"
)


@level_rule(
    GENERATOR_CPU,
    BOTTLENECK,
    LEVEL,
    f"a load generator at {GENERATOR_CORES_LIMIT:.0%} or more of the cores it could have (one "
    "per process, at most what the machine left it)",
    "Send the load from more processes (`--engine locust --processes N`) or machines "
    "(`--master`, `perftest_worker`) and compare; measure in-process levels again over HTTP "
    "against a separate server.",
)
def _generator_cpu(level: Any) -> list[Finding]:
    run = level.run
    plan = RunPlan.from_dict(run.config)
    use = generator_use(level, machine_cores(run), remote_processes(plan))
    if not use.saturated:
        return []
    label = level_label(level)
    return [
        bottleneck(
            GENERATOR_CPU,
            label,
            f"{label}: figures are limited by the load generator, not the server: {use.text()}",
            _generator_evidence(level, use),
            _more_generator(level, use, plan.load.engine.name),
        )
    ]


@level_rule(
    OUTSIDE_REQUESTS,
    BOTTLENECK,
    LEVEL,
    f"a closed level whose workers were in requests less than {IN_REQUESTS_BOUND:.0%} of the "
    "time (Little's law: throughput × mean latency against the workers)",
    "The workers waited in perftest, not at the server: generate the load from more processes "
    "(--engine locust --processes N) or another machine, or give perftest a core of its own.",
)
def _outside_requests(level: Any) -> list[Finding]:
    """A closed worker sends again as soon as it has an answer, so X × R (Little's law) should
    be near the level's workers; far below, they spent the rest in perftest's own code. Only
    judged without unexpected answers: their latency is not in the mean."""
    law = littles_law(level)
    if law is None or not law.outside_requests or level.errors_total:
        return []
    return [
        bottleneck(
            OUTSIDE_REQUESTS,
            level_label(level),
            f"{level_label(level)}: the workers were in requests only {law.ratio:.0%} of the "
            f"time ({law.busy:.2f} of {law.concurrency}); the rest they spent in the load "
            "generator, so the level's throughput measured perftest's pace",
            f"Little's law: {OK_THROUGHPUT.text(level)} as expected × mean "
            f"{MEAN.text(level)} = {law.busy:.2f} requests in flight on average, for "
            f"{quantity(law.concurrency, 'worker')} that send again as soon as answered; "
            f"perftest used {GENERATOR_CORES.text(level)}.",
        )
    ]


def _generator_evidence(level: Any, use: GeneratorUse) -> str:
    processes = quantity(use.processes, "process", "processes")
    local = use.processes - use.remote
    machine = (
        f"the {use.left:.2f} of the machine's {quantity(use.cpu_count, 'core')} that other "
        "programs, the server and the database left"
        if use.other_cores is not None
        else f"the machine's {quantity(use.cpu_count, 'core')} (its other load was not read "
        "for this level)"
    )
    could = f"one core per process, at most {machine}"
    if use.remote:
        elsewhere = f"{use.remote} on other machines: a core each"
        could = f"{local} local: {could}; {elsewhere}" if local else elsewhere
    evidence = (
        f"{level.generator_cpu_s:.2f} s of CPU in {level.wall_s:.2f} s of wall time, summed "
        f"over the generator's {processes}: {use.cores:.2f} cores, "
        f"{use.cores / use.available:.0%} of the {use.available:.2f} it could have ({could}); "
        f"the limit is {GENERATOR_CORES_LIMIT:.0%}."
    )
    if level.transport == "in-process":
        evidence += (
            " In-process, the server runs in the same interpreter, so this CPU includes the "
            "server's own work."
        )
    return evidence


def _more_generator(level: Any, use: GeneratorUse, engine: str) -> str:
    """What gives the generator more: more processes while this machine has cores for them,
    else another machine."""
    if level.transport == "in-process":
        return (
            "Measure over HTTP against a separate server (`--base-url`): in-process, the "
            "server's work shares perftest's interpreter and its core."
        )
    local = use.processes - use.remote
    room = use.left >= local + 1
    left = f"{use.left:.2f} of this machine's cores were left for perftest"
    if engine != "locust":
        if room:
            return (
                f"Send the load from several processes: `--engine locust --processes "
                f"{max(int(use.left), 2)}` ({left})."
            )
        return (
            "Send the load from several processes, where cores are free: `--engine locust "
            f"--processes 2` helps only with a second core, and {left}: {ELSEWHERE}."
        )
    if room:
        return (
            f"Add local worker processes: `--engine locust --processes {int(use.left)}` ({left})."
        )
    return (
        f"This machine has no core to spare for another worker ({left}, {local} local worker "
        f"processes): {ELSEWHERE}."
    )


def _busy_share(level: Any) -> float | None:
    """The share of the pool's time spent inside requests (None when not followed)."""
    busy_s = (level.lateness or {}).get("busy_s")
    if busy_s is None or not level.window_s:
        return None
    return busy_s / (level.concurrency * level.window_s)


@level_rule(
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


@level_rule(
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


@level_rule(
    WORKER_FAILURES,
    BOTTLENECK,
    LEVEL,
    "failed workers",
    "The level ran with fewer workers than planned: fix the error shown.",
)
def _worker_failures(level: Any) -> list[Finding]:
    explained = database_failures(level)
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
