"""An in-process soak names the lines where memory grew: a soak of ``/test/leak/`` (50 KB kept
per request in a module-level list) stores, and every report shows, the line of
``tests/support/soak_views.py`` that allocates what the list keeps as the top growing site,
its growth about the steady part's requests × 50 KB. Over HTTP the server's memory is not
perftest's process: nothing is traced.

Real soaks: the in-process one ~14 s at 20 req/s (2 s of warm-up), the HTTP one 2 s on the
stand-in server."""

from __future__ import annotations

import io
import tracemalloc

import pytest
from django.core.management import call_command
from django.test import override_settings

from perftest.analysis.allocations import top_sites
from perftest.models import Run
from tests.support import soak_views
from tests.support.live_server import shared_database_url, standin_server  # noqa: F401
from tests.support.report_checks import validate
from thebot_settings.settings import PERFTEST as THEBOT

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LEAK = {"name": "Leak", "method": "GET", "path": "/test/leak/", "expected_status": 200}
RATE = 20
LEAKING = {**THEBOT, "ENDPOINTS": [LEAK], "SEEDER": None, "SOAK": {"CHECKPOINT_S": 2}}
UNTRACED = {**LEAKING, "SOAK": {"CHECKPOINT_S": 1, "TRACE_ALLOCATIONS": False}}


def _soak(tmp_path, *args: str) -> Run:
    call_command(
        "perftest",
        # A leak makes the run red: these tests read what it stored.
        *("--output", str(tmp_path), "--format", "md,json,html", "--exit-zero"),
        *("--iterations", "2", "--warmup", "0", "--rate", str(RATE), "--concurrency", "2"),
        *args,
        stdout=io.StringIO(),
    )
    return Run.objects.latest("pk")


@override_settings(ROOT_URLCONF="tests.support.urls", PERFTEST=LEAKING)
def test_an_in_process_soak_names_the_leaking_line_as_the_top_growing_site(tmp_path):
    was_tracing = tracemalloc.is_tracing()

    run = _soak(tmp_path, "--soak", "12s", "--soak-warmup", "2s")

    assert tracemalloc.is_tracing() == was_tracing  # stopped again if perftest started it
    level = run.levels.get()
    traced = level.soak["allocations"]
    assert traced["depth"] >= 1 and traced["snapshot_pause_ms"] >= 0
    assert 0 < traced["warmup_snapshot_s"] < traced["end_snapshot_s"]
    top = top_sites(level)[0]
    assert top.where == f"tests/support/soak_views.py:{soak_views.leaking_line()}"
    # The requests sent after the warm-up's snapshot: the open model sent them on schedule
    # (requests before it: about RATE × its moment). Half of what they kept, at least.
    steady = level.requests - RATE * traced["warmup_snapshot_s"]
    assert steady > 100
    assert top.size_growth >= 0.5 * steady * soak_views.KEPT_BYTES
    assert top.size_growth <= level.requests * (soak_views.KEPT_BYTES + 1024)
    assert top.count_growth >= 0.5 * steady
    assert not any(site.file.startswith("/") for site in top_sites(level))

    report = (tmp_path / f"run-{run.pk}.md").read_text()
    assert "## Where memory grew (allocation sites, in-process)" in report
    assert f"| {top.where} |" in report
    assert "its latencies were measured with tracing on" in report
    html = (tmp_path / f"run-{run.pk}.html").read_text()
    assert top.where in html
    document = validate((tmp_path / f"run-{run.pk}.json").read_text())
    assert document["schema_version"] == "1.6"
    sites = document["levels"][0]["soak"]["allocations"]["sites"]
    assert (sites[0]["file"], sites[0]["line"]) == (top.file, top.line)


@override_settings(ROOT_URLCONF="tests.support.urls", PERFTEST=UNTRACED)
def test_a_soak_with_allocation_tracing_turned_off_traces_nothing(tmp_path):
    was_tracing = tracemalloc.is_tracing()

    run = _soak(tmp_path, "--soak", "1s", "--soak-warmup", "0")

    assert "allocations" not in run.levels.get().soak
    assert tracemalloc.is_tracing() == was_tracing
    assert "Where memory grew" not in (tmp_path / f"run-{run.pk}.md").read_text()


def test_an_http_soak_traces_no_allocations(tmp_path, standin_server):  # noqa: F811
    run = _soak(
        tmp_path,
        *("--base-url", standin_server.base_url, "--endpoints", "Get Profile"),
        *("--soak", "2s", "--soak-warmup", "1s"),
    )

    level = run.levels.get()
    assert level.soak["steady_s"] == 2 and "allocations" not in level.soak
    assert top_sites(level) == []
    assert "Where memory grew" not in (tmp_path / f"run-{run.pk}.md").read_text()
