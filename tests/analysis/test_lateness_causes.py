"""An open level's late requests are blamed on their cause, told from the workers' own state.

Lateness was always "all workers busy". Real in-process runs tell three cases apart: a pool
of 4 at 20 req/s against a server that answers one request at a time and stalls once for 8
slots (every worker fills up waiting on it, though the pool is idle most of the level: the
server was slow to answer); one worker at 20 req/s against a view that takes 200 ms (the pool
is too small for the rate: every worker busy); and a worker idle and waiting that still
starts late (stored figures only: its cause is this machine's scheduler).
"""

from __future__ import annotations

import io
import itertools

import pytest
from django.core.management import call_command
from django.test import override_settings

from perftest.analysis.rules import generator as generator_rules
from perftest.models import LoadLevel, Run
from tests.support import level_views, views
from tests.support.stored_rows import add_level, analyzed, load_run, of_rule
from thebot_settings.thebot import THEBOT_PERFTEST

with_levels = pytest.mark.django_db(transaction=True)

STALLING = {
    "name": "Stalling server",
    "method": "GET",
    "path": "/test/levels/stalls-the-server/",
    "auth": False,
}
QUEUEING = {"name": "Queueing", "method": "GET", "path": "/test/sleep-200/", "auth": False}
ONE = ["--iterations", "1", "--warmup", "0", "--exit-zero"]


def measured(tmp_path, endpoint: dict, *args: str) -> tuple[LoadLevel, Run]:
    settings = {**THEBOT_PERFTEST, "ENDPOINTS": [endpoint], "SEEDER": None}
    with override_settings(ROOT_URLCONF="tests.support.level_urls", PERFTEST=settings):
        call_command("perftest", "--output", str(tmp_path), *ONE, *args, stdout=io.StringIO())
    run = Run.objects.latest("pk")
    return run.levels.get(), run


@pytest.mark.slow
@with_levels
def test_a_stalled_server_with_idle_workers_is_not_blamed_on_busy_workers(tmp_path, monkeypatch):
    # The sequential pass sends request 1; the level's first request stalls the server.
    monkeypatch.setattr(level_views.StallingServer, "seen", itertools.count(1))
    monkeypatch.setattr(level_views.StallingServer, "stall_at", 2)
    level, run = measured(
        tmp_path, STALLING, "--rate", "20", "--concurrency", "4", "--duration", "2"
    )

    assert next(level_views.StallingServer.seen) > 2, "the stall happened"
    assert level.max_ms >= level_views.SERVER_STALL_S * 1000
    # 8 slots fall due during the stall and 4 workers wait on it: at least 4 are late.
    assert level.late - level.lateness["late_while_idle"] >= 4
    busy_share = level.lateness["busy_s"] / (level.concurrency * level.window_s)
    assert busy_share < generator_rules.BUSY_POOL_SHARE
    [late] = of_rule(list(run.findings.all()), generator_rules.GENERATOR_LATE)
    assert "all workers busy" not in late.title
    assert "(the server slow to answer: every worker was waiting on it, though the 4 " in (
        late.title
    )
    assert "--concurrency would only queue more requests" in late.recommendation
    assert "Workers in requests:" in late.evidence
    report = (tmp_path / f"run-{run.pk}.md").read_text()
    assert "the server slow to answer" in report
    assert (
        "A late request's cause is told from the workers' own state"
        in (report.split("## Methodology")[1])
    )


@pytest.mark.slow
@with_levels
def test_a_pool_too_small_for_the_rate_is_blamed_on_busy_workers(tmp_path):
    level, run = measured(
        tmp_path, QUEUEING, "--rate", "20", "--concurrency", "1", "--duration", "1"
    )

    # One worker serves 1 / 0.2 s = 5 a second of the 20 due: the rest are late or dropped.
    assert level.late + level.dropped >= 10
    busy_share = level.lateness["busy_s"] / (level.concurrency * level.window_s)
    assert busy_share >= generator_rules.BUSY_POOL_SHARE
    assert level.min_ms >= views.QUEUEING_VIEW_SECONDS * 1000
    [late] = of_rule(list(run.findings.all()), generator_rules.GENERATOR_LATE)
    assert "could not be sent on time (all workers busy)" in late.title
    assert "--concurrency" in late.recommendation and "--rate" in late.recommendation


@pytest.mark.django_db
def test_late_requests_a_free_worker_waited_for_are_blamed_on_perftests_own_process():
    run = load_run()
    add_level(
        run,
        4,
        20.0,
        5.0,
        model=LoadLevel.Model.OPEN,
        rate=20.0,
        late=3,
        lateness={"late_while_idle": 3, "busy_s": 0.4},
        max_lateness_ms=12.0,
    )
    [late] = of_rule(analyzed(run), generator_rules.GENERATOR_LATE)
    assert "a worker was free and waiting, yet started late" in late.title
    assert "all workers busy" not in late.title
    assert "3 of them although a worker was free and waiting" in late.evidence
