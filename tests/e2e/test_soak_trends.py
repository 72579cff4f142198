"""Real soaks of a view that leaks and of one whose memory is a sawtooth, in-process and over
gunicorn: the leak is found with a positive slope, the sawtooth is not called a leak.

Each soak is about half a minute at a modest rate (``tests.support.soak_views``: 50 KB kept
per request, about 1 MB/s at 20 req/s), with a short warm-up and a checkpoint a second, so
the tests take seconds, not hours. They assert the finding and the slope's sign, never a
timing: on a busy machine fewer requests are sent in time, and the leak still grows by
megabytes.
"""

from __future__ import annotations

import pytest
from django.test import override_settings

from perftest.analysis import trends
from perftest.analysis.rules import soak as soak_rules
from perftest.models import Run
from perftest.store.read import StoredRun
from tests.support.live_server import run_gunicorn, shared_database_url  # noqa: F401
from tests.support.perftest_configs import THEBOT
from tests.support.served_runs import served_run

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LEAK = {"name": "Leak", "method": "GET", "path": "/test/leak/", "expected_status": 200}
SAWTOOTH = {"name": "Sawtooth", "method": "GET", "path": "/test/sawtooth/", "expected_status": 200}
#: A soak of 30 s after 3 s of warm-up at 20 req/s, a checkpoint every second.
SOAK = (
    *("--iterations", "2", "--warmup", "0"),
    *("--soak", "30s", "--soak-warmup", "3s", "--rate", "20", "--concurrency", "4"),
)


def soaked(tmp_path, endpoint: dict, *args: str) -> tuple[Run, trends.SoakTrends]:
    """Soak ``endpoint`` (in-process unless ``args`` say --base-url); the run and its trends."""
    perftest = {**THEBOT, "ENDPOINTS": [endpoint], "SEEDER": None, "SOAK": {"CHECKPOINT_S": 1}}
    with override_settings(ROOT_URLCONF="tests.support.urls", PERFTEST=perftest):
        run = served_run(tmp_path, *SOAK, *args)
    assert run.status == Run.Status.COMPLETED, run.failure
    found = trends.trends(StoredRun.of(run))
    assert found is not None and found.processes, "no process had enough steady readings"
    return run, found


def leak_findings(run: Run) -> list:
    return list(run.findings.filter(rule=soak_rules.MEMORY_LEAK))


def test_an_in_process_soak_of_a_leaking_view_finds_the_leak_with_a_positive_slope(tmp_path):
    run, found = soaked(tmp_path, LEAK)
    (leak,) = leak_findings(run)
    fastest = found.fastest_rss
    assert fastest is not None and fastest.fit.low > 0 < fastest.fit.slope
    assert leak.title.startswith(f"RSS of {fastest.subject} grows ")
    assert "of steady load: a leak; " in leak.title


def test_an_in_process_soak_of_a_sawtooth_view_finds_no_leak(tmp_path):
    run, found = soaked(tmp_path, SAWTOOTH)
    assert not leak_findings(run)
    assert found.fastest_rss is None


def test_a_soak_of_a_leaking_view_over_gunicorn_finds_a_worker_leaking(
    shared_database_url,  # noqa: F811
    tmp_path,
):
    with run_gunicorn(shared_database_url, workers=2) as server:
        run, found = soaked(tmp_path, LEAK, "--base-url", server.base_url)
    (leak,) = leak_findings(run)
    fastest = found.fastest_rss
    assert fastest is not None and fastest.fit.slope > 0
    # A worker leaks, never the master, which serves no request.
    assert f"(pid {server.pid})" not in fastest.subject
    assert leak.title.startswith(f"RSS of {fastest.subject} grows ")


def test_a_soak_of_a_sawtooth_view_over_gunicorn_finds_no_leak(
    shared_database_url,  # noqa: F811
    tmp_path,
):
    with run_gunicorn(shared_database_url, workers=2) as server:
        run, found = soaked(tmp_path, SAWTOOTH, "--base-url", server.base_url)
    assert not leak_findings(run)
    assert found.fastest_rss is None
