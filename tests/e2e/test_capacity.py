"""``--capacity`` end to end: a real gunicorn of two sync workers on loopback, a real search."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import override_settings

from perftest.analysis.rules.capacity import CAPACITY
from perftest.models import Run
from perftest.text import number
from tests.support.live_server import shared_database_url, standin_server  # noqa: F401
from thebot_settings.settings import PERFTEST as THEBOT

pytestmark = pytest.mark.django_db(transaction=True)

SLEEP = {
    "name": "Sleep",
    "method": "GET",
    "path": "/test/sleep/",
    "query": {"ms": "50"},
    "auth": False,
}


@override_settings(
    ROOT_URLCONF="tests.support.urls",
    PERFTEST={**THEBOT, "ENDPOINTS": [SLEEP], "SEEDER": None},
)
def test_a_50ms_view_behind_two_sync_workers_has_a_capacity_near_40_per_second(
    standin_server,  # noqa: F811
    tmp_path,
):
    # Two workers of 50 ms each serve 40 requests a second. Returning is exit code 0: the
    # steps that failed on purpose are probes beyond the capacity, which the default @*
    # thresholds leave out.
    call_command(
        "perftest", "--output", str(tmp_path), "--base-url", standin_server.base_url,
        "--capacity", "p95 < 300ms", "--duration", "1.5", "--iterations", "3", "--warmup", "1",
    )  # fmt: skip

    run = Run.objects.latest("pk")
    record = run.capacity
    levels = list(run.levels.order_by("position"))
    assert record["expression"] == "p95 < 300ms"
    assert record["bounds"] == ["p95 < 300ms", "error_rate < 1%", "dropped < 10%"]
    assert 20 <= record["capacity_rps"] <= 60, record
    assert record["ended"] in ("bisected", "bound", "generator"), record
    # Every step is an open level of the run, at its rate, in order; the search is bounded.
    assert [step["level"] for step in record["steps"]] == list(range(len(levels)))
    assert [level.model for level in levels] == ["open"] * len(levels)
    assert [level.rate for level in levels] == [step["rate"] for step in record["steps"]]
    assert 2 <= len(levels) <= 12
    assert record["steps"][0]["rate"] == record["start_rps"]
    failed = [step for step in record["steps"] if not step["passed"]]
    assert all(step["failed"] and step["value"] for step in failed)
    if record["ended"] == "bisected":
        low, high = record["capacity_rps"], record["failed_rps"]
        assert (high - low) / low <= 0.05
    # The answer names what gave way at the rate that failed: the two workers, busy all the
    # time while the requests queued for them outside the app.
    (headline,) = run.findings.filter(rule=CAPACITY)
    assert headline.title.startswith(f"Capacity: {number(round(record['capacity_rps'], 1))} req/s")
    if record["failed"] == "p95 < 300ms":
        assert "the 2 server workers were busy" in headline.title, headline.title
        failed_level = levels[min(failed, key=lambda step: step["rate"])["level"]]
        outside = failed_level.server_timing["outside"]["p95_ms"]
        assert outside > 0.5 * failed_level.p95_ms
    assert run.verdict == Run.Verdict.GREEN, run.verdict_reasons
