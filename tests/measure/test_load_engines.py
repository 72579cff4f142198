"""The closed and open load engines, run for real: worker threads, in-process transports, the DB.

Worker threads use their own database connections and see only committed rows, hence
``transaction=True``. Each worker logs in through the stand-in's own login endpoint on its own
transport, as a real level does; the request counting middleware checks what the server saw.
"""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.test import override_settings

from perftest.conf import ConfigError
from perftest.measure.auth import request_for
from perftest.measure.load.closed import Closed
from perftest.measure.load.engine import LevelInterrupted, WorkerSetup
from perftest.measure.load.open import LATE_TOLERANCE_S, Open
from perftest.measure.load.threads import WorkerKit, run_level
from perftest.measure.machine import database_server_pid
from perftest.measure.result import LevelResult
from perftest.measure.transport.base import Sample, Transport
from perftest.measure.transport.inprocess import InProcessTransport
from perftest.plan.model import Endpoint, Mix
from perftest.redact import Redactor
from tests.support import views
from tests.support.counting import COUNT_FILE_ENV, count_handled
from tests.support.load_levels import PLAN, closed, logging_in

CHEAP = "Get Profile,Get Notifications"  # no seeder: the notification list is empty
SLOW = Endpoint("Slow", "GET", "/test/slow/", 200, auth=False)
INTERRUPT = Endpoint("Interrupt", "GET", "/test/interrupt/", 200, auth=False)
TEST_VIEWS = {e.name: e for e in (SLOW, INTERRUPT)}


@pytest.fixture
def handled(tmp_path, monkeypatch):
    """How many requests the in-process server handled (counting middleware outermost)."""
    path = tmp_path / "handled"
    monkeypatch.setenv(COUNT_FILE_ENV, str(path))
    with override_settings(
        MIDDLEWARE=["tests.support.counting.CountingMiddleware", *settings.MIDDLEWARE]
    ):
        yield lambda: count_handled(str(path))


def no_login(index: int, transport: Transport) -> WorkerSetup:
    return WorkerSetup({name: request_for(e) for name, e in TEST_VIEWS.items()})


def open_level(rate: float, workers: int, duration_s: float, tick=None) -> LevelResult:
    kit = WorkerKit(InProcessTransport, no_login, Mix.parse("Slow", [SLOW]), TEST_VIEWS, Redactor())
    return run_level(kit, Open(workers, rate=rate, duration_s=duration_s), tick)


def test_mix_parses_names_in_any_case_and_rejects_what_it_cannot_send():
    mix = Mix.parse("get lessons=2, Get Profile", PLAN.endpoints)
    assert mix.weights == (("Get Lessons", 2.0), ("Get Profile", 1.0))
    for text, words in [
        ("Get Nothing=1", "unknown endpoint 'Get Nothing'"),
        ("Get Profile=0", "number above 0 and at most 1,000,000, not '0'"),
        ("Get Profile=many", "number above 0 and at most 1,000,000, not 'many'"),
        ("Get Profile=2000000", "at most 1,000,000, not '2000000'"),
        ("Get Profile,get profile=2", "twice"),
        (" , ", "names no endpoint"),
    ]:
        with pytest.raises(ConfigError, match=words):
            Mix.parse(text, PLAN.endpoints)
    assert "Login" not in Mix.default(PLAN.endpoints).names
    with pytest.raises(ConfigError, match="other than the login one"):
        Mix.default([e for e in PLAN.endpoints if e.is_login])


def test_mix_sequence_is_smooth_and_each_offset_starts_elsewhere():
    endpoints = [Endpoint(name, "GET", "/test/slow/", 200, False) for name in "AB"]
    mix = Mix.parse("A=3,B=1", endpoints)
    first = [name for name, _ in zip(mix.sequence(0), range(8), strict=False)]
    assert first == ["A", "A", "B", "A"] * 2
    assert [name for name, _ in zip(mix.sequence(2), range(4), strict=False)] == first[2:6]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_closed_requests_mode_counts_exactly_the_requests_asked(identities, handled):
    redactor = Redactor()
    level = closed(
        CHEAP,
        logging_in(identities, redactor),
        redactor,
        concurrency=4,
        requests=60,
        ramp_up_s=0,
    )

    assert level.model == "closed" and level.concurrency == 4 and level.planned_requests == 60
    assert level.worker_failures == [] and level.login_requests == 4
    assert level.overall.requests == 60 and level.overall.ok == 60
    assert level.overall.status_counts == {"200": 60}
    assert list(level.endpoints) == ["Get Profile", "Get Notifications"]
    assert sum(r.requests for r in level.endpoints.values()) == 60
    assert all(r.ok == r.requests > 0 for r in level.endpoints.values())
    assert level.overall.sql_captured
    assert level.window_ns > 0
    assert level.throughput == pytest.approx(60 / (level.window_ns / 1e9))
    assert level.sent_total == handled() == 64
    assert level.wall_s >= level.window_ns / 1e9 and level.generator_cpu_s > 0
    # In-process the server is perftest itself: no server cores apart from the generator's;
    # a PostgreSQL server on this machine is counted apart, SQLite runs in-process.
    assert level.generator_processes == 1 and level.server_cores is None
    assert (level.database_cores is None) == (database_server_pid() is None)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_closed_duration_mode_sends_but_does_not_count_the_ramp_up(identities, handled):
    redactor = Redactor()
    ticks: list[str] = []
    level = closed(
        CHEAP,
        logging_in(identities, redactor),
        redactor,
        concurrency=2,
        duration_s=0.5,
        ramp_up_s=0.3,
        tick=ticks.append,
    )

    assert level.rampup_requests > 0 and level.overall.requests > 0
    assert level.overall.ok == level.overall.requests
    # The server saw the ramp-up, the logins and the counted requests, and nothing else.
    assert (
        handled()
        == level.sent_total
        == (level.overall.requests + level.rampup_requests + level.login_requests)
    )
    # The counted window starts after the ramp-up: it cannot hold the whole 0.8 s.
    assert 0 < level.window_ns / 1e9 < 0.5 + 0.2
    assert level.wall_s >= 0.8
    assert ticks and "2 concurrent:" in ticks[-1] and "counted requests" in ticks[-1]


@pytest.mark.django_db(transaction=True)
def test_closed_mix_weights_split_three_to_one_within_one_per_worker(identities):
    redactor = Redactor()
    level = closed(
        "Get Profile=3,Get Notifications=1",
        logging_in(identities, redactor),
        redactor,
        concurrency=2,
        requests=81,
        ramp_up_s=0,
    )

    profile = level.endpoints["Get Profile"].requests
    notifications = level.endpoints["Get Notifications"].requests
    assert profile + notifications == 81
    assert abs(profile - 81 * 3 / 4) <= 2 and abs(notifications - 81 / 4) <= 2


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_workers_that_cannot_log_in_or_crash_are_reported_and_the_rest_measure(identities):
    redactor = Redactor()
    logs_in = logging_in(identities, redactor, wrong_password_for=1)

    def prepare(index: int, transport: Transport) -> WorkerSetup:
        if index == 2:
            raise RuntimeError("the worker's setup broke\nwith a second line")
        return logs_in(index, transport)

    level = closed(CHEAP, prepare, redactor, concurrency=4, requests=30, ramp_up_s=0)

    assert level.login_failures == 1 and level.login_requests == 3
    assert len(level.worker_failures) == 2
    login_failure, crash = sorted(level.worker_failures)
    assert login_failure.startswith("worker 2: login failed (HTTP 401")
    assert crash == "worker 3: RuntimeError: the worker's setup broke with a second line"
    # The two healthy workers share the whole budget.
    assert level.overall.requests == level.overall.ok == 30


@pytest.mark.django_db(transaction=True)
@override_settings(ROOT_URLCONF="tests.support.urls")
def test_ctrl_c_stops_the_level_and_keeps_what_was_measured():
    with pytest.raises(LevelInterrupted) as caught:
        mix = Mix.parse("Slow=20,Interrupt=1", list(TEST_VIEWS.values()))
        kit = WorkerKit(InProcessTransport, no_login, mix, TEST_VIEWS, Redactor())
        run_level(kit, Closed(2, duration_s=30, ramp_up_s=0))

    level = caught.value.result
    assert isinstance(caught.value, KeyboardInterrupt)
    assert level.interrupted and level.worker_failures == []
    assert level.overall.requests >= 1 and level.wall_s < 5


@pytest.mark.django_db(transaction=True)
@override_settings(ROOT_URLCONF="tests.support.urls")
def test_open_model_over_capacity_counts_queueing_lateness_and_drops():
    ticks: list[str] = []
    level = open_level(40, 1, duration_s=1.0, tick=ticks.append)

    sent = level.overall.requests
    assert level.model == "open" and level.rate == 40 and level.concurrency == 1
    assert level.planned_requests == 40 and sent + level.dropped == 40
    # One worker serves about 1 / 0.05 s = 20 a second: the rest of the schedule is dropped.
    assert 10 <= sent <= 25 and level.dropped >= 15
    assert level.late > 0 and level.max_lateness_ns > 0.1e9
    # Latency runs from the intended send time, so the queue is in it, not just the 50 ms.
    p95 = level.overall.latency.percentile_ms(95)
    assert p95 > 4 * views.SLOW_VIEW_SECONDS * 1000
    assert level.overall.latency.min_ms >= views.SLOW_VIEW_SECONDS * 1000
    assert level.wall_s < 1.5
    assert ticks and "40 req/s open, 1 worker" in ticks[-1]


@pytest.mark.django_db(transaction=True)
@override_settings(ROOT_URLCONF="tests.support.urls")
def test_open_model_within_capacity_sends_every_request_and_says_which_were_late():
    level = open_level(20, 3, duration_s=1.0)

    assert level.overall.requests == level.overall.ok == 20
    assert level.dropped == 0
    # How many are late depends on this machine's scheduler, not on perftest: the count and
    # the worst lateness must agree, whatever they are.
    late_after_ns = int(LATE_TOLERANCE_S * 1e9)
    assert (level.late > 0) == (level.max_lateness_ns > late_after_ns)
    assert level.overall.latency.percentile_ms(50) < 3 * views.SLOW_VIEW_SECONDS * 1000
    assert level.rampup_requests == 0 and level.throughput > 0


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_level_and_endpoint_results_survive_a_json_round_trip(identities):
    redactor = Redactor()
    level = closed(
        CHEAP, logging_in(identities, redactor), redactor, concurrency=2, requests=30, ramp_up_s=0
    )
    level.worker_failures.append("worker 9: a failure kept for the round trip")
    # An unexpected answer, so its class (own latency, Retry-After values) makes the trip too.
    throttle = Sample("Get Profile", 2_000_000, 429, headers={"Retry-After": "3"})
    level.endpoints["Get Profile"].record(throttle, redactor)

    carried = LevelResult.from_dict(json.loads(json.dumps(level.to_dict())))

    assert carried.to_dict() == level.to_dict()
    rate_limited = carried.endpoints["Get Profile"].errors["HTTP 429"]
    assert rate_limited.latency.count == 1 and rate_limited.retry_after == {"3": 1}
    assert carried.overall.requests == 30 and carried.overall.sql_captured
    assert level.corrected is not None and level.expected_interval_ns > 0
    assert carried.corrected.percentile_ms(99) == level.corrected.percentile_ms(99)
    assert carried.corrected.count == level.corrected.count >= 30
    assert (carried.system_cores, carried.other_cores) == (level.system_cores, level.other_cores)
    for name, result in level.endpoints.items():
        again = carried.endpoints[name]
        for percentile in (50, 90, 95, 99, 100):
            assert again.latency.percentile_ms(percentile) == result.latency.percentile_ms(
                percentile
            )
        assert again.latency.stdev_ms == result.latency.stdev_ms
    # A carried result still merges exactly, as a worker's figures do.
    carried.overall.merge(LevelResult.from_dict(level.to_dict()).overall)
    assert carried.overall.requests == 60 and carried.overall.ok == 2 * level.overall.ok
