"""``--capacity`` end to end: a real gunicorn of two sync workers on loopback, a real search."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import override_settings

from perftest.models import Run
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
    # The defaults' ``@*`` level checks would judge the probe steps that failed on purpose;
    # the run's own checks here are the sequential ones.
    PERFTEST={**THEBOT, "ENDPOINTS": [SLEEP], "SEEDER": None, "THRESHOLDS": ["p95 < 2000ms"]},
)
def test_a_50ms_view_behind_two_sync_workers_has_a_capacity_near_40_per_second(
    standin_server,  # noqa: F811
    tmp_path,
):
    # Two workers of 50 ms each serve 40 requests a second. Returning is exit code 0.
    call_command(
        "perftest", "--output", str(tmp_path), "--base-url", standin_server.base_url,
        "--capacity", "p95 < 300ms", "--duration", "3", "--iterations", "10", "--warmup", "1",
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
