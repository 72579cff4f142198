"""``--engine locust``, run for real: gunicorn serving the stand-in on loopback, Locust's master
and workers as processes of their own, the run stored in the test database.

Worker processes on 127.0.0.1 stand in for other machines: ``perftest_worker`` joins a
``--master`` exactly as it would from another host. Every process a test starts is stopped
by its pid in a ``finally``.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse

from perftest.analysis import verdict
from perftest.conf import ConfigError, get_config
from perftest.measure.load.locust_engine import wire as locust_wire
from perftest.measure.load.locust_engine.driver import MASTER_MODULE
from perftest.measure.stats import LatencyStats
from perftest.measure.transport.base import RequestSpec
from perftest.models import Run
from perftest.plan.build import build_plan
from perftest.plan.engine import locust_installed
from perftest.store import read
from perftest.text import about_share
from tests.support.live_server import (  # noqa: F401
    REPO,
    free_port,
    run_gunicorn,
    shared_database_url,
    standin_server,
)
from tests.support.perftest_configs import CAPTURED
from tests.support.served_runs import assert_no_token_kept, sent_by_perftest, served_run
from tests.support.terminal import TerminalRun
from tests.support.views import LONG_ANSWER_SECONDS
from thebot_settings.settings import PERFTEST as THEBOT

# Not importorskip: importing Locust would monkey-patch this process with gevent.
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not locust_installed(), reason="needs perftest[locust]"),
]

URL = "http://127.0.0.1:9"  # never reached: these runs are refused first
LIGHT = ["--endpoints", "Get Profile,Get Notifications", "--warmup", "0", "--iterations", "1"]
#: Bounded waits for processes (never a timed assertion: a slow machine only waits longer).
PROCESS_WAIT_S = 60
POLL_S = 0.05


@pytest.fixture
def locust_run(standin_server, tmp_path):  # noqa: F811
    """``locust_run(*args)``: a run on Locust's engine against the stand-in on gunicorn."""

    def run(*args: str) -> Run:
        base = ("--base-url", standin_server.base_url, "--engine", "locust")
        return served_run(tmp_path, *base, *args)

    return run


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(PROCESS_WAIT_S)


@contextmanager
def perftest_workers(port: int, tmp_path: Path, count: int = 2) -> Iterator[list]:
    """``count`` ``manage.py perftest_worker`` processes joining 127.0.0.1:port, each recording
    the deltas it ships in its own folder; stopped by pid at the end."""
    workers = []
    try:
        for number in range(count):
            record = tmp_path / f"worker-{number}"
            record.mkdir()
            command = [sys.executable, "manage.py", "perftest_worker"]
            command += ["--master", f"127.0.0.1:{port}", "--record", str(record)]
            log = (tmp_path / f"worker-{number}.log").open("w")
            process = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
            workers.append((process, record))
        yield workers
    finally:
        for process, _ in workers:
            stop(process)


def shipped(record: Path) -> list[dict]:
    """The deltas a worker recorded, in the order it shipped them."""
    return [json.loads(path.read_text()) for path in sorted(record.glob("delta-*.json"))]


def counted(deltas: list[dict]) -> int:
    return sum(e["requests"] for delta in deltas for e in delta["endpoints"])


def merged_by_hand(deltas: list[dict], name: str) -> LatencyStats:
    total = LatencyStats()
    for delta in deltas:
        for endpoint in delta["endpoints"]:
            if endpoint["name"] == name:
                total.merge(LatencyStats.from_dict(endpoint["latency"]))
    return total


def test_a_request_crosses_to_the_workers_byte_for_byte():
    spec = RequestSpec(
        "Login",
        "POST",
        "/api/auth/login/",
        (("Authorization", "Token abc"), ("X-Trace", "é")),
        json.dumps({"email": "perftest-1@example.com", "password": "p\u00e4ss"}).encode(),
        "application/json",
    )
    assert (
        locust_wire.spec_from_wire(json.loads(json.dumps(locust_wire.spec_to_wire(spec)))) == spec
    )


def test_engine_locust_without_locust_installed_is_a_one_line_usage_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "locust", None)  # what the import system then finds: none
    with pytest.raises(CommandError) as ended:
        call_command("perftest", "--engine", "locust", "--base-url", URL, "--concurrency", "2")
    assert ended.value.returncode == 2
    assert str(ended.value) == (
        "--engine locust needs Locust, which is not installed: pip install 'perftest[locust]'."
    )
    assert not Run.objects.exists()


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"concurrency": "2"}, "over HTTP"),
        ({"base_url": URL}, "give --concurrency or --rate"),
        ({"base_url": URL, "concurrency": "2", "requests": 9}, "--duration"),
        ({"base_url": URL, "concurrency": "2", "login": "per-worker"}, "once"),
        ({"base_url": URL, "concurrency": "2", "processes": 0}, "from 1 to 256"),
        (
            {"base_url": URL, "concurrency": "2", "master": True},
            "--expect-workers",
        ),
        ({"base_url": URL, "concurrency": "2", "expect_workers": 2}, "--master"),
        (
            {"base_url": "http://x:1", "concurrency": "2", "master": True, "expect_workers": 1}
            | {"master_bind": "nowhere"},
            "HOST:PORT",
        ),
    ],
)
def test_locust_engine_options_that_cannot_run_are_refused_before_anything_runs(options, words):
    with pytest.raises(ConfigError, match=words):
        build_plan(get_config(), engine="locust", **options)


def test_a_master_bind_nobody_can_listen_on_is_refused_before_anything_runs():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        bind = f"127.0.0.1:{taken.getsockname()[1]}"
        with pytest.raises(ConfigError, match=f"--master-bind {bind}: the master cannot listen"):
            build_plan(
                get_config(),
                engine="locust",
                base_url=URL,
                concurrency="2",
                master=True,
                expect_workers=1,
                master_bind=bind,
            )


@pytest.mark.parametrize(
    ("master", "hide_locust", "words"),
    [
        ("nowhere", False, "--master takes HOST:PORT, e.g. 10.0.0.5:5557, not 'nowhere'."),
        ("10.0.0.5:99999", False, "--master takes HOST:PORT"),
        ("10.0.0.5:5557", True, "needs Locust, which is not installed: pip install"),
    ],
)
def test_perftest_worker_bad_input_is_one_line_and_exit_2(monkeypatch, master, hide_locust, words):
    if hide_locust:
        monkeypatch.setitem(sys.modules, "locust", None)
    with pytest.raises(CommandError, match=re.escape(words)) as ended:
        call_command("perftest_worker", "--master", master)
    assert ended.value.returncode == 2


def test_locust_only_options_without_the_locust_engine_are_refused():
    with pytest.raises(ConfigError, match="--processes is for --engine locust"):
        build_plan(get_config(), concurrency="2", processes=2)


def test_locust_levels_may_exceed_the_thread_engines_maximum():
    plan = build_plan(get_config(), engine="locust", base_url=URL, concurrency="600")
    engine = plan.load.engine
    assert (engine.name, engine.processes, engine.workers) == ("locust", 1, 1)
    assert plan.load.login_mode == "once" and plan.load.concurrency == (600,)


def test_locust_processes_store_levels_whose_counts_equal_the_servers_own(
    locust_run,
    standin_server,  # noqa: F811
    tmp_path,
    admin_client,
):
    before = standin_server.handled()
    run = locust_run(
        "--processes", "2", "--concurrency", "2,4", "--duration", "1", "--ramp-up", "0.3", *LIGHT,
    )  # fmt: skip

    assert run.status == Run.Status.COMPLETED, run.failure
    levels = list(run.levels.order_by("position"))
    assert [level.concurrency for level in levels] == [2, 4]
    for level in levels:
        assert level.worker_failures == []
        assert level.requests > 0 and level.ok == level.requests
        assert level.status_counts == {"200": level.requests}
        assert level.rampup_requests > 0 and level.login_requests == 0
        assert level.login_mode == "once" and level.identities == level.concurrency
        assert level.window_s > 0 and level.generator_cpu_s > 0
        # The whole generator: both worker processes, and the machine's load around them.
        assert level.generator_processes == 2
        assert level.system_cores is not None and level.other_cores is not None
        assert level.server_cores is not None, "gunicorn runs on this machine"
        per_endpoint = {e.name: e for e in level.endpoints.all()}
        assert set(per_endpoint) == {"Get Profile", "Get Notifications"}
        assert sum(e.requests for e in per_endpoint.values()) == level.requests
        assert level.p50_ms > 0 and level.corrected["requests"] >= level.requests
    # Every request the workers sent, the ramp-up included, reached the server once: no
    # retry, nothing lost, nothing counted that the server did not handle.
    assert standin_server.handled() - before == sent_by_perftest(run)
    # Locust and gevent stayed out of the process that owns the database connection.
    assert "locust" not in sys.modules and "gevent" not in sys.modules
    report = (tmp_path / f"run-{run.pk}.md").read_text()
    assert "Engine: Locust's distributed runner, 2 local worker processes." in report
    # THE_BOT's tokens are 40 hex characters; the workers sent with several, none is kept.
    assert_no_token_kept(run, report)
    assert "| 4 concurrent |" in report
    page = admin_client.get(reverse("admin:perftest_run_change", args=[run.pk]))
    assert page.status_code == 200 and "Get Notifications" in page.content.decode()


def test_a_master_and_two_workers_merge_into_one_run_exactly(
    locust_run,
    standin_server,  # noqa: F811
    tmp_path,
):
    port = free_port()
    with perftest_workers(port, tmp_path) as workers:
        run = locust_run(
            "--master", "--expect-workers", "2", "--master-bind", f"127.0.0.1:{port}",
            "--concurrency", "4", "--duration", "1.5", "--ramp-up", "0", *LIGHT,
        )  # fmt: skip
        for process, _ in workers:  # the master ends its workers when the run ends
            assert process.wait(PROCESS_WAIT_S) == 0

    assert run.status == Run.Status.COMPLETED, run.failure
    report = (tmp_path / f"run-{run.pk}.md").read_text()
    assert f"and 2 workers from other machines (master at 127.0.0.1:{port})" in report
    level = run.levels.get()
    deltas = [shipped(record) for _, record in workers]
    assert all(counted(mine) > 0 for mine in deltas), "both workers took part"
    everything = [delta for mine in deltas for delta in mine]
    assert level.requests == counted(everything) and level.worker_failures == []
    # The generator's CPU is every worker's as each reported it, plus the master's own.
    assert level.generator_processes == 2
    assert level.generator_cpu_s >= sum(delta["cpu_s"] for delta in everything) > 0
    for endpoint in level.endpoints.all():
        by_hand = merged_by_hand(everything, endpoint.name)
        assert by_hand.count == endpoint.ok == endpoint.requests
        stored = [endpoint.p50_ms, endpoint.p90_ms, endpoint.p95_ms, endpoint.p99_ms]
        assert stored == [by_hand.percentile_ms(p) for p in (50, 90, 95, 99)]
        assert (endpoint.min_ms, endpoint.max_ms) == (by_hand.min_ms, by_hand.max_ms)
    overall = LatencyStats()
    for name in ("Get Profile", "Get Notifications"):
        overall.merge(merged_by_hand(everything, name))
    assert level.p95_ms == overall.percentile_ms(95) and level.p99_ms == overall.percentile_ms(99)


def wait_for(condition, what: str) -> None:
    """Poll ``condition`` (a file another process writes) until it holds, within a bound."""
    deadline = time.monotonic() + PROCESS_WAIT_S
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(POLL_S)


def test_a_worker_killed_mid_level_is_named_lost_and_nothing_merged_goes_missing(
    locust_run,
    standin_server,  # noqa: F811
    tmp_path,
):
    port = free_port()
    with perftest_workers(port, tmp_path) as workers:
        (survivor, survivor_record), (victim, victim_record) = workers

        def kill_once_it_reported() -> None:
            wait_for(lambda: counted(shipped(victim_record)) > 0, "the victim's first report")
            victim.send_signal(signal.SIGKILL)

        killer = threading.Thread(target=kill_once_it_reported)
        killer.start()
        try:
            run = locust_run(
                "--master", "--expect-workers", "2", "--master-bind", f"127.0.0.1:{port}",
                "--concurrency", "4", "--duration", "4", "--ramp-up", "0", *LIGHT,
            )  # fmt: skip
        finally:
            killer.join()
        assert survivor.wait(PROCESS_WAIT_S) == 0 and victim.wait() == -signal.SIGKILL

    assert run.status == Run.Status.COMPLETED, run.failure
    level = run.levels.get()
    assert not level.interrupted and len(level.worker_failures) == 1
    lost = level.worker_failures[0]
    assert re.match(r"Locust worker \S+ lost \d+\.\d s into the level \(\d\d:\d\d:\d\d UTC\)", lost)
    assert "no heartbeat" in lost
    # The victim recorded each delta just before shipping it: its last may never have left,
    # and when that was its only one, the line says nothing of it arrived.
    mine = shipped(victim_record)
    brought = re.search(r"brought it to (\d+) counted requests?", lost)
    if brought:
        held = int(brought.group(1))
        assert held in (counted(mine), counted(mine[:-1])) and held > 0
    else:
        assert "none of its reports arrived: everything it measured is missing" in lost
        assert len(mine) == 1
        held = 0
    # Everything the survivor shipped and everything the victim's reports held is merged.
    assert level.requests == counted(shipped(survivor_record)) + held
    assert level.ok == level.requests
    # Locust gave each of the two workers 2 of the 4 users: the lost one names its share of the
    # load, and what never arrived makes the level, so the run, red.
    assert "it carried 2 of the level's 4 users" in lost
    missing = level.missing_data
    assert (missing["workers"], missing["users"]) == (1, 2) and 0 < missing["share"] <= 0.5
    assert f"({about_share(missing['share'])} of the level's data)" in lost
    red = verdict.of(read.load(run.pk))
    line = (
        "FAIL: 4 concurrent: 1 Locust worker lost, carrying 2 of 4 users: "
        f"{about_share(missing['share'])} of the level's data is missing"
    )
    assert red.code == 1 and line in red.reasons
    report = (tmp_path / f"run-{run.pk}.md").read_text()
    assert "1 Locust worker lost, carrying 2 of 4 users" in report
    assert "1 of 4 workers failed" not in report


def children_of(process: subprocess.Popen) -> list[psutil.Process]:
    return psutil.Process(process.pid).children(recursive=True)


def test_a_killed_master_stops_its_workers_and_the_run_is_stored_interrupted(
    standin_server,  # noqa: F811
    shared_database_url,  # noqa: F811
    tmp_path,
):
    port = free_port()
    with perftest_workers(port, tmp_path) as workers:
        terminal = TerminalRun(
            "--output", str(tmp_path), "--base-url", standin_server.base_url,
            "--engine", "locust", "--master", "--expect-workers", "2",
            "--master-bind", f"127.0.0.1:{port}", "--concurrency", "4", "--duration", "60",
            *LIGHT, database_url=shared_database_url, awaited="counted requests",
        )  # fmt: skip
        try:
            assert terminal.reached.wait(PROCESS_WAIT_S)
            (master,) = [p for p in children_of(terminal.process) if MASTER_MODULE in p.cmdline()]
            master.kill()
            code, output, errors = terminal.finish(PROCESS_WAIT_S)
        finally:
            stop(terminal.process)
        # No master, no heartbeat: each worker quits on its own.
        for process, _ in workers:
            process.wait(PROCESS_WAIT_S)

    assert code == 130, errors
    run = Run.objects.latest("pk")
    assert run.status == Run.Status.INTERRUPTED
    level = run.levels.get()
    assert level.interrupted
    assert any(
        f"the Locust master (pid {master.pid}) ended" in line for line in level.worker_failures
    )


def test_ctrl_c_ends_every_process_the_run_started(
    standin_server,  # noqa: F811
    shared_database_url,  # noqa: F811
    tmp_path,
):
    terminal = TerminalRun(
        "--output", str(tmp_path), "--base-url", standin_server.base_url, "--engine", "locust",
        "--processes", "2", "--concurrency", "2", "--duration", "60", *LIGHT,
        database_url=shared_database_url, awaited="counted requests",
    )  # fmt: skip
    try:
        assert terminal.reached.wait(PROCESS_WAIT_S)
        started = children_of(terminal.process)
        names = sorted(MASTER_MODULE in p.cmdline() for p in started)
        assert names == [False, False, True], [p.cmdline() for p in started]
        terminal.process.send_signal(signal.SIGINT)
        code, output, errors = terminal.finish(PROCESS_WAIT_S)
    finally:
        stop(terminal.process)

    assert code == 130, errors
    gone, alive = psutil.wait_procs(started, timeout=0)
    assert alive == [] and len(gone) == 3
    run = Run.objects.latest("pk")
    assert run.status == Run.Status.INTERRUPTED and run.levels.get().interrupted


@pytest.mark.parametrize("pool", [4, 1], ids=["4 users", "fewer users than workers"])
def test_an_open_level_on_locust_sends_or_drops_every_slot_of_its_schedule(
    locust_run,
    standin_server,  # noqa: F811
    tmp_path,
    pool,
):
    before = standin_server.handled()
    run = locust_run(
        "--processes", "2", "--rate", "40", "--concurrency", str(pool), "--duration", "2", *LIGHT,
    )  # fmt: skip

    assert run.status == Run.Status.COMPLETED, run.failure
    level = run.levels.get()
    assert (level.model, level.rate, level.planned_requests) == ("open", 40, 80)
    assert level.worker_failures == [] and level.rampup_requests == 0
    # Every slot of the schedule, split between the two workers, was sent or dropped (with
    # one user, the worker Locust gave none drops its whole share).
    assert level.requests + level.dropped == 80 and level.requests > 0
    assert level.ok == level.requests
    assert standin_server.handled() - before == sent_by_perftest(run)


@override_settings(
    ROOT_URLCONF="tests.support.urls",
    PERFTEST={
        **THEBOT,
        "ENDPOINTS": [
            {"name": "Get Profile", "method": "GET", "path": "/api/profile/me/"},
            {"name": "Throttled", "method": "GET", "path": "/test/throttled/", "auth": False},
        ],
        "SEEDER": None,
    },
)
def test_answers_otherwise_on_locust_are_counted_by_class_apart_from_the_verdict_figures(
    locust_run,
    standin_server,  # noqa: F811
    tmp_path,
):
    before = standin_server.handled()
    run = locust_run(
        "--processes", "2", "--concurrency", "2", "--duration", "1", "--ramp-up", "0",
        "--warmup", "0", "--iterations", "1", "--threshold", "error_rate < 99% abort",
    )  # fmt: skip

    assert any(note.startswith("Abort thresholds were not checked") for note in run.notes)
    level = run.levels.get()
    rows = {row.name: row for row in level.endpoints.all()}
    profile, throttled = rows["Get Profile"], rows["Throttled"]
    assert profile.requests > 0 and profile.ok == profile.requests
    # The 429s' latency is kept with their class, never in the verdict figures.
    assert throttled.requests > 0 and throttled.ok == 0 and throttled.p50_ms == 0
    (answers,) = throttled.answer_classes
    assert answers["class"] == "HTTP 429" and answers["count"] == throttled.requests
    assert answers["retry_after"] and answers["p50_ms"] > 0
    (error,) = throttled.errors
    assert "Retry-After: " in error["example"] and "Request was throttled" in error["example"]
    assert level.ok == profile.requests and level.requests == profile.requests + throttled.requests
    assert standin_server.handled() - before == sent_by_perftest(run)


@override_settings(PERFTEST=CAPTURED)
def test_locust_users_send_paths_filled_with_their_own_identitys_captured_values(
    locust_run,
    standin_server,  # noqa: F811
    tmp_path,
):
    run = locust_run(
        "--concurrency", "2", "--duration", "1", "--ramp-up", "0",
        "--endpoints", "Get Lessons,Get Lesson", "--warmup", "0", "--iterations", "1",
    )  # fmt: skip

    assert run.status == Run.Status.COMPLETED, run.failure
    (level,) = run.levels.all()
    assert level.worker_failures == []
    per_endpoint = {e.name: e for e in level.endpoints.all()}
    # The stand-in answers a lesson only to its own student: 200 means each user's own id.
    assert per_endpoint["Get Lesson"].requests > 0
    assert per_endpoint["Get Lesson"].status_counts == {"200": per_endpoint["Get Lesson"].requests}
    assert level.ok == level.requests > 0


#: Users of the long-answer level: enough 2 s answers in one report to pass 64 bits squared.
LONG_ANSWER_USERS = 6


@override_settings(
    ROOT_URLCONF="tests.support.urls",
    PERFTEST={
        **THEBOT,
        "ENDPOINTS": [
            {"name": "Long Answer", "method": "GET", "path": "/test/long-answer/", "auth": False}
        ],
        "SEEDER": None,
    },
)
def test_a_level_of_answers_seconds_long_arrives_whole_from_the_locust_workers(
    shared_database_url,  # noqa: F811
    tmp_path,
):
    # One gunicorn thread per user, so every user waits for its own answer only.
    with run_gunicorn(shared_database_url, workers=1, threads=LONG_ANSWER_USERS) as server:
        run = served_run(
            tmp_path,
            "--base-url",
            server.base_url,
            "--engine",
            "locust",
            "--concurrency",
            str(LONG_ANSWER_USERS),
            "--duration",
            "1",
            "--ramp-up",
            "0",
            "--warmup",
            "0",
            "--iterations",
            "1",
        )
        handled = server.handled()

    assert run.status == Run.Status.COMPLETED, run.failure
    level = run.levels.get()
    # The worker's report held every answer, whose squares summed beyond 64 bits, and arrived.
    assert level.worker_failures == [] and not level.interrupted
    assert level.requests >= LONG_ANSWER_USERS and level.ok == level.requests
    assert level.min_ms >= LONG_ANSWER_SECONDS * 1000
    squares = level.requests * (LONG_ANSWER_SECONDS * 1e9) ** 2
    assert squares > 2**64 and int(level.endpoints.get().sumsq_ns) >= squares
    # What the server handled, the run counted: the sequential request and the level's.
    assert handled == sent_by_perftest(run)
