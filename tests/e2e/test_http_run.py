"""HTTP mode end to end: a real gunicorn on loopback, real logins, real load levels."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
from django.test import override_settings

from perftest.models import Run
from perftest.text import ms
from tests.support import views
from tests.support.live_server import (  # noqa: F401
    run_gunicorn,
    shared_database_url,
    standin_server,
)
from tests.support.served_runs import assert_no_token_kept, sent_by_perftest, served_run
from thebot_settings.settings import PERFTEST as THEBOT

pytestmark = pytest.mark.django_db(transaction=True)

LIGHT = ["--endpoints", "Get Profile,Get Notifications", "--warmup", "0", "--iterations", "3"]


def test_http_levels_measure_the_endpoints_and_match_the_servers_count(
    standin_server,  # noqa: F811
    tmp_path,
):
    before = standin_server.handled()
    run = served_run(
        tmp_path, "--base-url", standin_server.base_url, "--concurrency", "1,10",
        "--requests", "40", "--ramp-up", "0.2", *LIGHT,
    )  # fmt: skip

    assert run.status == Run.Status.COMPLETED and run.mode == "http"
    levels = list(run.levels.order_by("position"))
    assert [level.concurrency for level in levels] == [1, 10]
    for level in levels:
        assert (level.requests, level.ok, level.status_counts) == (40, 40, {"200": 40})
        assert level.login_requests == level.concurrency, level.worker_failures
        assert level.login_failures == 0, level.worker_failures
        assert level.throughput > 0 and level.window_s > 0
        per_endpoint = {e.name: e.requests for e in level.endpoints.all()}
        assert set(per_endpoint) == {"Get Profile", "Get Notifications"}
        assert sum(per_endpoint.values()) == 40
    assert standin_server.handled() - before == sent_by_perftest(run)
    assert "gunicorn" in run.resource_description and run.resource_samples.count() >= 2
    report = (tmp_path / f"run-{run.pk}.md").read_text()
    assert "Concurrent request testing" in report
    # THE_BOT's tokens are 40 hex characters; 11 were issued to this run and none is kept.
    assert_no_token_kept(run, report)


@override_settings(
    ROOT_URLCONF="tests.support.urls",
    PERFTEST={
        **THEBOT,
        "ENDPOINTS": [{"name": "Sleep", "method": "GET", "path": "/test/sleep-200/"}],
        "SEEDER": None,
    },
)
def test_open_model_latency_includes_the_queueing_of_a_stalled_server(
    standin_server,  # noqa: F811
    tmp_path,
):
    rate, duration = 10, 2
    run = served_run(
        tmp_path, "--base-url", standin_server.base_url, "--rate", str(rate),
        "--duration", str(duration), "--concurrency", "1", "--iterations", "1", "--warmup", "0",
    )  # fmt: skip

    (level,) = run.levels.all()
    assert level.model == "open" and level.rate == rate and level.concurrency == 1
    # One worker serves 5 requests/s; 10/s arrive: each waits for the ones before it.
    assert level.p95_ms > 2 * views.QUEUEING_VIEW_SECONDS * 1000
    assert level.late > 0
    assert level.requests + level.dropped == rate * duration
    report = (tmp_path / f"run-{run.pk}.md").read_text()
    assert f"{level.late}" in report and "late" in report


def test_a_server_killed_mid_level_is_counted_as_connection_errors(
    shared_database_url,  # noqa: F811
    tmp_path,
):
    with run_gunicorn(shared_database_url) as server:

        def kill_after_some_requests() -> None:
            deadline = time.monotonic() + 30
            while server.handled() < 30 and time.monotonic() < deadline:
                time.sleep(0.01)
            os.killpg(server.pid, signal.SIGKILL)

        killer = threading.Thread(target=kill_after_some_requests)
        killer.start()
        run = served_run(
            tmp_path, "--base-url", server.base_url, "--concurrency", "2", "--duration", "2",
            "--ramp-up", "0", "--endpoints", "Get Profile", "--iterations", "3",
            "--warmup", "0",
        )  # fmt: skip
        killer.join()

    assert run.status == Run.Status.COMPLETED
    (level,) = run.levels.all()
    reasons = {e["reason"]: e["count"] for e in level.errors}
    assert level.ok > 0
    assert set(reasons) <= {"connection refused", "connection reset"} and sum(reasons.values()) > 0
    assert run.findings.filter(evidence__icontains="connection").exists()
    # Instant connection failures are no throughput: peak counts the answers as expected.
    assert level.ok_throughput == pytest.approx(level.ok / level.window_s)
    assert level.ok_throughput < level.throughput
    peak = run.findings.get(rule="key.peak_throughput")
    assert peak.title.startswith(f"Peak throughput: {level.ok_throughput:.1f} req/s as expected")
    assert {c["class"] for c in level.answer_classes} == set(reasons)
    # A process that is gone is gone: sampling stopped there, no 0 MB reading was stored, the
    # moment is reported, and memory growth is not judged on the series the crash cut short.
    samples = list(run.resource_samples.all())
    assert samples, "the server was sampled before it died"
    assert all(sample.rss_bytes > 0 for sample in samples)
    assert run.resource_gone_s is not None
    assert all(sample.offset_s <= run.resource_gone_s for sample in samples)
    memory = run.findings.get(rule="threshold.memory_growth")
    assert memory.passed is None and "went away" in memory.evidence
    report = (tmp_path / f"run-{run.pk}.md").read_text()
    assert f"went away {run.resource_gone_s:.1f} s into sampling" in report


@pytest.mark.parametrize(
    ("options", "rotation_expected"),
    [
        (["--identities", "1"], True),
        ([], False),
        (["--identities", "1", "--login", "once"], False),
    ],
)
def test_token_rotation_is_explained_and_avoided(
    standin_server,  # noqa: F811
    tmp_path,
    options,
    rotation_expected,
):
    run = served_run(
        tmp_path, "--base-url", standin_server.base_url, "--concurrency", "4",
        "--requests", "40", "--ramp-up", "0", *LIGHT, *options,
    )  # fmt: skip

    (level,) = run.levels.all()
    unauthorized = level.status_counts.get("401", 0)
    rotation = run.findings.filter(rule__icontains="rotation")
    if rotation_expected:
        assert unauthorized > 0 and rotation.exists()
        assert "rotates" in rotation.get().evidence + rotation.get().title
    else:
        assert unauthorized == 0 and not rotation.exists()
        assert level.ok == 40


def test_mode_both_splits_each_endpoint_into_view_and_server_time(
    standin_server,  # noqa: F811
    tmp_path,
):
    run = served_run(tmp_path, "--mode", "both", "--base-url", standin_server.base_url, *LIGHT)

    assert run.status == Run.Status.COMPLETED and run.mode == "both"
    inprocess = {e.name: e for e in run.endpoints.filter(phase="sequential")}
    over_http = {e.name: e for e in run.endpoints.filter(phase="sequential-http")}
    assert set(inprocess) == set(over_http) == {"Get Profile", "Get Notifications"}
    assert all(e.sql_captured for e in inprocess.values())
    assert not any(e.sql_captured for e in over_http.values())
    report = (tmp_path / f"run-{run.pk}.md").read_text()
    assert "## Where the time goes" in report
    for name in inprocess:
        assert f"| {name} | {ms(inprocess[name].p50_ms)} | {ms(over_http[name].p50_ms)} |" in report


def test_in_process_levels_run_threads_with_their_own_clients(
    shared_database_url,  # noqa: F811
    tmp_path,
):
    run = served_run(tmp_path, "--concurrency", "1,3", "--requests", "30", "--ramp-up", "0", *LIGHT)

    assert run.status == Run.Status.COMPLETED and run.mode == "in-process"
    levels = list(run.levels.order_by("position"))
    assert [(lv.concurrency, lv.transport) for lv in levels] == [
        (1, "in-process"),
        (3, "in-process"),
    ]
    assert all(lv.requests == lv.ok == 30 for lv in levels), [lv.errors for lv in levels]
    report = (tmp_path / f"run-{run.pk}.md").read_text()
    assert "in-process (one Python process, shared GIL)" in report


def test_429_answers_are_reported_as_the_platforms_rate_limiting(
    shared_database_url,  # noqa: F811
    tmp_path,
    monkeypatch,
):
    monkeypatch.setenv("STANDIN_THROTTLE", "1")  # THE_BOT's limits: 10 requests/s per user
    with run_gunicorn(shared_database_url) as server:
        run = served_run(
            tmp_path, "--base-url", server.base_url, "--concurrency", "2", "--requests", "60",
            "--ramp-up", "0", *LIGHT,
        )  # fmt: skip

    (level,) = run.levels.all()
    assert level.status_counts.get("429", 0) > 0
    (throttled,) = run.findings.filter(rule="bottleneck.level_rate_limited")
    assert "Retry-After" in throttled.evidence
    report = (tmp_path / f"run-{run.pk}.md").read_text()
    assert "rate limit" in report.lower() and "HTTP 429" in report
