"""What gives way first, for real: gunicorn on loopback serving views whose cost is known, the
server's own account over HTTP, and the finding that names the resource and the lever.

No figure here is timed: each view's shape decides what must give way (a view whose time is
SQL, a view whose time is the server's CPU), and the assertions read what perftest stored and
concluded, whatever the machine's speed.
"""

from __future__ import annotations

import pytest
from django.test import override_settings

from perftest.analysis.candidates import CPU
from perftest.analysis.rules.first_to_break import FIRST_TO_BREAK
from perftest.models import Run
from tests.support.live_server import run_gunicorn, shared_database_url  # noqa: F401
from tests.support.served_runs import served_run
from thebot_settings.settings import PERFTEST as THEBOT

pytestmark = pytest.mark.django_db(transaction=True)


def _only(endpoint: dict):
    return override_settings(
        ROOT_URLCONF="tests.support.urls",
        PERFTEST={**THEBOT, "ENDPOINTS": [endpoint], "SEEDER": None},
    )


def _first_to_break(run: Run):
    findings = [f for f in run.findings.all() if f.rule == FIRST_TO_BREAK]
    assert findings, [f.title for f in run.findings.all() if f.kind != "threshold"]
    return findings[0]


@_only({"name": "N+1", "method": "GET", "path": "/test/n-plus-one-sql/"})
def test_an_n_plus_one_views_time_is_sql_and_the_finding_names_its_statement(
    shared_database_url,  # noqa: F811
    tmp_path,
):
    # Two sync workers: four concurrent clients can at most double one client's throughput
    # (each level warmed up first, so no first connection's cost counts), an efficiency of a
    # third at best, so 4 concurrent is the knee.
    with run_gunicorn(shared_database_url, workers=2) as server:
        run = served_run(
            tmp_path, "--base-url", server.base_url, "--concurrency", "1,4",
            "--duration", "1.5", "--ramp-up", "0.5", "--iterations", "3", "--warmup", "0",
        )  # fmt: skip

    assert run.status == Run.Status.COMPLETED, run.failure
    for level in run.levels.all():
        timing = level.server_timing
        assert timing["answers"] == level.ok > 0
        assert timing["sql"]["mean_ms"] > 0.5 * timing["app"]["mean_ms"]
    finding = _first_to_break(run)
    assert "4 concurrent" in finding.title
    assert "WITH RECURSIVE" in finding.title + finding.evidence
    assert "select_related" in finding.evidence + finding.recommendation, (
        finding.title + "\n" + finding.evidence
    )


@_only({"name": "CPU", "method": "GET", "path": "/test/cpu/", "query": {"ms": 20}})
def test_a_cpu_bound_view_saturates_the_servers_cpu_and_the_finding_says_so(
    shared_database_url,  # noqa: F811
    tmp_path,
):
    # Four sync workers on a two-core machine: the workers outnumber the cores, so the CPU is
    # what runs out, each request's 20 ms of CPU taking longer on the clock as load grows.
    with run_gunicorn(shared_database_url, workers=4) as server:
        run = served_run(
            tmp_path, "--base-url", server.base_url, "--concurrency", "1,8",
            "--duration", "1.5", "--ramp-up", "0.5", "--iterations", "3", "--warmup", "0",
        )  # fmt: skip

    assert run.status == Run.Status.COMPLETED, run.failure
    assert run.environment["server"]["workers"] == 4
    busy = run.levels.get(concurrency=8)
    # Its cores were measured; how many it got depends on what else the machine ran.
    assert busy.server_cores is not None and busy.server_cores > 0
    finding = _first_to_break(run)
    assert f"{CPU} gave way first" in finding.title, finding.title + "\n" + finding.evidence
