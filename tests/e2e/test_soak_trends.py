"""Real soaks of a view that leaks and of one whose memory is a sawtooth, in-process and over
gunicorn: the leak is found with a positive slope, the sawtooth is not called a leak.

Each soak is 20 s at a modest rate (``tests.support.soak_views``: 50 KB kept per
request, about 1 MB/s at 20 req/s) after a short warm-up, so the tests take seconds, not
hours. They assert the finding and the slope's sign, never a timing: on a busy machine fewer
requests are sent in time, and the leak still grows by megabytes.

The in-process soaks run ``manage.py perftest`` in a process of its own, as a user does: the
test process's RSS also holds pytest and its in-memory SQLite database, which grows in steps
of its own (up to 9 MB in half a minute, whatever the view), and that is not the view's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.test import override_settings

from perftest.analysis import trends
from perftest.analysis.rules import soak as soak_rules
from perftest.models import Run
from perftest.store.read import StoredRun
from tests.support import soak_views
from tests.support.commands import ROOT
from tests.support.live_server import run_gunicorn, shared_database_url  # noqa: F401
from tests.support.perftest_configs import THEBOT
from tests.support.served_runs import served_run

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LEAK = {"name": "Leak", "method": "GET", "path": "/test/leak/", "expected_status": 200}
SAWTOOTH = {"name": "Sawtooth", "method": "GET", "path": "/test/sawtooth/", "expected_status": 200}
#: A soak of 20 s after 6 s of warm-up (the process settles: its first allocations) at
#: 20 req/s: the leak keeps 20 MB meanwhile, the sawtooth's teeth come every 2 to 4 s.
SOAK = (
    *("--iterations", "2", "--warmup", "0"),
    *("--soak", "20s", "--soak-warmup", "6s", "--rate", "20", "--concurrency", "4"),
)


def judged(run: Run) -> trends.SoakTrends:
    """The soak's trends, once it completed with a process judged."""
    assert run.status == Run.Status.COMPLETED, run.failure
    found = trends.trends(StoredRun.of(run))
    assert found is not None and found.processes, "no process had enough steady readings"
    return found


def soaked_over_http(tmp_path, endpoint: dict, base_url: str) -> tuple[Run, trends.SoakTrends]:
    """Soak ``endpoint`` of the server at ``base_url`` (its routes checked in the test views'
    URLconf, which the server serves too); the run and its trends."""
    perftest = {**THEBOT, "ENDPOINTS": [endpoint], "SEEDER": None}
    with override_settings(ROOT_URLCONF="tests.support.urls", PERFTEST=perftest):
        run = served_run(tmp_path, *SOAK, "--base-url", base_url)
    return run, judged(run)


def soaked_in_process(database_url: str, tmp_path, endpoint: dict) -> tuple[Run, trends.SoakTrends]:
    """Soak ``endpoint`` in-process in a ``manage.py perftest`` of its own (its endpoints from
    a scenario file, the test views routed by ``tests.support.http_settings``)."""
    scenario = tmp_path / "soak.toml"
    scenario.write_text(
        "[[endpoints]]\n"
        + "".join(f"{key} = {json.dumps(value)}\n" for key, value in endpoint.items())
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "perftest", "--scenario", str(scenario)]
        + ["--output", str(tmp_path), "--exit-zero", *SOAK],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "tests.support.http_settings",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    run = Run.objects.latest("pk")
    return run, judged(run)


def leak_findings(run: Run) -> list:
    return list(run.findings.filter(rule=soak_rules.MEMORY_LEAK))


def test_an_in_process_soak_of_a_leaking_view_finds_the_leak_with_a_positive_slope(
    shared_database_url,  # noqa: F811
    tmp_path,
):
    run, found = soaked_in_process(shared_database_url, tmp_path, LEAK)
    (leak,) = leak_findings(run)
    fastest = found.fastest_rss
    assert fastest is not None and fastest.fit.low > 0 < fastest.fit.slope
    assert leak.title.startswith(f"RSS of {fastest.subject} grows ")
    # In-process, tracemalloc names the line that keeps the memory.
    assert f"is tests/support/soak_views.py:{soak_views.leaking_line()} (+" in leak.evidence
    assert "of steady load: a leak; " in leak.title


def test_an_in_process_soak_of_a_sawtooth_view_finds_no_leak(
    shared_database_url,  # noqa: F811
    tmp_path,
):
    run, found = soaked_in_process(shared_database_url, tmp_path, SAWTOOTH)
    assert not leak_findings(run)
    assert found.fastest_rss is None
    if shared_database_url.startswith("postgres"):
        # The workers' connections are followed over time, and they do not pile up.
        assert found.connections is not None and found.connections.fit is not None
        assert not run.findings.filter(rule=soak_rules.CONNECTION_LEAK).exists()


def test_a_soak_of_a_leaking_view_over_gunicorn_finds_a_worker_leaking(
    shared_database_url,  # noqa: F811
    tmp_path,
):
    with run_gunicorn(shared_database_url, workers=2) as server:
        run, found = soaked_over_http(tmp_path, LEAK, server.base_url)
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
        run, found = soaked_over_http(tmp_path, SAWTOOTH, server.base_url)
    assert not leak_findings(run)
    assert found.fastest_rss is None
