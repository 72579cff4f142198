"""``--capacity`` through the real command, its steps sent by a scripted engine: each step is
stored as an open level at the rate the search chose, with a pool sized to it, and the run
keeps the search's record, however it ends."""

from __future__ import annotations

import math

import pytest

from perftest.measure import levels
from perftest.measure.endpoint_result import EndpointResult
from perftest.measure.load.engine import Engine, LevelInterrupted
from perftest.measure.load.open import Open
from perftest.measure.result import LevelResult

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

SEARCH = ["--endpoints", "Get Profile", "--iterations", "3", "--warmup", "0", "--identities", "1"]


class ScriptedServer(Engine):
    """Answers every step in 50 ms up to ``capacity`` req/s and in 900 ms beyond; Ctrl-C
    arrives during step ``interrupt_at`` (1-based)."""

    def __init__(self, capacity: float, interrupt_at: int = 0, sends_at_most: float = 1e9):
        self.capacity, self.interrupt_at = capacity, interrupt_at
        #: Beyond this rate the generator drops what it cannot send.
        self.sends_at_most = sends_at_most
        self.schedules: list[Open] = []

    def run_level(self, schedule, tick, checkpoints=None) -> LevelResult:
        assert isinstance(schedule, Open)
        self.schedules.append(schedule)
        level = schedule.describe()
        row = EndpointResult("Get Profile", "GET", "/api/profile/me/", 200)
        latency_ns = 50_000_000 if schedule.rate <= self.capacity else 900_000_000
        sent = min(schedule.slots_total, int(self.sends_at_most * schedule.duration_s))
        for _ in range(sent):
            row.latency.record(latency_ns)
        row.requests = row.ok = sent
        level.dropped = schedule.slots_total - sent
        level.endpoints = {"Get Profile": row}
        level.overall.merge(row)
        level.window_ns = int(schedule.duration_s * 1e9)
        if len(self.schedules) == self.interrupt_at:
            level.interrupted = True
            raise LevelInterrupted(level)
        return level


@pytest.fixture
def server(monkeypatch):
    def install(capacity: float, **script: float) -> ScriptedServer:
        engine = ScriptedServer(capacity, **script)
        monkeypatch.setattr(levels.Levels, "_engine", lambda self: engine)
        return engine

    return install


def test_every_step_is_stored_as_an_open_level_and_the_run_keeps_the_search(run_perftest, server):
    engine = server(capacity=1000)  # above the start: what one worker sustains in-process
    run, _ = run_perftest(*SEARCH, "--capacity", "p95 < 300ms", "--duration", "2")

    record = run.capacity
    stored = list(run.levels.order_by("position"))
    assert record["ended"] == "bisected" and record["bounds"][0] == "p95 < 300ms"
    assert record["capacity_rps"] <= 1000 < record["failed_rps"]
    assert (record["failed"], record["value"]) == ("p95 < 300ms", "900.0 ms")
    assert [step["level"] for step in record["steps"]] == list(range(len(stored)))
    assert [level.rate for level in stored] == [step["rate"] for step in record["steps"]]
    assert {level.model for level in stored} == {"open"}
    # Each step's pool: twice the requests in flight at the 300 ms the bound allows, at most
    # MAX_THREAD_WORKERS (500).
    for schedule in engine.schedules:
        assert schedule.duration_s == 2
        assert schedule.workers == min(500, max(4, math.ceil(schedule.rate * 0.3 * 2)))


def test_ctrl_c_during_a_step_keeps_the_steps_measured_and_says_so(run_perftest, server):
    server(capacity=1e6, interrupt_at=3)
    run, _ = run_perftest(*SEARCH, "--capacity", "p95 < 300ms", "--duration", "1", exit_code=130)

    record = run.capacity
    assert record["ended"] == "interrupted"
    assert [step["passed"] for step in record["steps"]] == [True, True]
    assert run.levels.count() == 3  # the interrupted step's level is kept, unjudged
    assert record["capacity_rps"] == record["steps"][1]["rate"]


def test_a_rate_perftest_cannot_send_ends_the_search_with_a_note_saying_why(run_perftest, server):
    engine = server(capacity=1e6, sends_at_most=1.0)  # below any start: the first step drops
    # --exit-zero: no step passed, so none is a probe beyond a capacity and the defaults'
    # dropped@* check judges this one (the run could not measure what it was asked: exit 1).
    run, _ = run_perftest(*SEARCH, "--capacity", "p95 < 300ms", "--duration", "2", "--exit-zero")

    record = run.capacity
    assert record["ended"] == "generator" and len(engine.schedules) == 1
    assert record["capacity_rps"] is None and record["generator_max_rps"] == 1.0
    (note,) = [note for note in run.notes if note.startswith("--capacity")]
    assert "perftest could not send" in note and "workers had room" in note
    assert "--engine locust --processes N" in note
