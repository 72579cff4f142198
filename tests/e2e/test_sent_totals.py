"""Every request the server saw is counted: a real gunicorn's access log has exactly as many
lines as the report says were sent (Markdown, HTML, JSON and the terminal alike), with a path
value captured from another endpoint's answer (each load worker's capture requests at set-up,
or Locust's once per identity before the levels), on the thread engine and on Locust's, over
HTTP and with ``--mode both``.

The server is stopped before its log is read, so every line it wrote is there.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

from perftest.models import Run
from perftest.plan.engine import locust_installed
from tests.support.live_server import run_gunicorn, shared_database_url  # noqa: F401
from tests.support.perftest_configs import CAPTURED  # login, a list, an id captured from the list

pytestmark = pytest.mark.django_db(transaction=True)  # the server reads the seeded rows

#: Warm-up, ramp-up, two levels: every kind of request perftest sends but does not count.
LEVELS = ("--warmup", "1", "--iterations", "2", "--concurrency", "1,2", "--duration", "0.5")
LEVELS += ("--ramp-up", "0.2", "--format", "md,json,html", "--exit-zero")
SENT = re.compile(r"^- Sent to the target in all: (\d+) \(", re.MULTILINE)
OVER_HTTP = re.compile(r"^- Sent over HTTP, which the server's access log counts: (\d+) ", re.M)


def served(database_url: str, tmp_path: Path, capsys, *args: str) -> tuple[Run, str, dict, int]:
    """Run perftest against a gunicorn of its own; the run, its Markdown and JSON reports, and
    how many lines the server wrote to its access log. The HTML report and the terminal say
    the same total as the Markdown."""
    log = tmp_path / "access.log"
    with run_gunicorn(database_url, access_log=log) as server:
        call_command("perftest", "--output", str(tmp_path), "--base-url", server.base_url, *args)
    run = Run.objects.latest("pk")
    report = (tmp_path / f"run-{run.pk}.md").read_text()
    document = json.loads((tmp_path / f"run-{run.pk}.json").read_text())
    line = f"Sent to the target in all: {document['totals']['requests_sent']} ("
    assert line in (tmp_path / f"run-{run.pk}.html").read_text()
    assert line in capsys.readouterr().out
    return run, report, document, len(log.read_text().splitlines())


@override_settings(PERFTEST=CAPTURED)
@pytest.mark.parametrize("mode", ["http", "both"])
def test_thread_workers_capture_requests_are_counted_so_sent_equals_the_access_log(
    shared_database_url,  # noqa: F811
    tmp_path,
    capsys,
    mode,
):
    run, report, document, logged = served(
        shared_database_url, tmp_path, capsys, "--mode", mode, *LEVELS
    )

    assert run.status == Run.Status.COMPLETED, run.failure
    levels = list(run.levels.order_by("position"))
    assert [level.concurrency for level in levels] == [1, 2]
    # One capture request per worker and endpoint captured from (Get Lessons), every level.
    assert [level.capture_requests for level in levels] == [1, 2] and run.capture_requests == 0
    assert all(level.requests and level.ok == level.requests for level in levels)
    totals = document["totals"]
    assert totals["capture_requests"] == 3
    assert int(SENT.search(report).group(1)) == totals["requests_sent"]
    assert "3 capture requests (each load worker's" in report
    assert "1 capture request (at each worker's set-up" in report  # the first level's line
    if mode == "http":
        assert logged == totals["requests_sent"] == totals["requests_sent_over_http"]
    else:  # the in-process sequential pass and its logins never reach the server
        assert logged == totals["requests_sent_over_http"] < totals["requests_sent"]
        assert int(OVER_HTTP.search(report).group(1)) == logged


@pytest.mark.skipif(not locust_installed(), reason="needs perftest[locust]")
@override_settings(PERFTEST=CAPTURED)
def test_locust_handover_capture_requests_are_counted_so_sent_equals_the_access_log(
    shared_database_url,  # noqa: F811
    tmp_path,
    capsys,
):
    run, report, document, logged = served(
        shared_database_url, tmp_path, capsys, "--engine", "locust", "--processes", "2", *LEVELS
    )

    assert run.status == Run.Status.COMPLETED, run.failure
    levels = list(run.levels.order_by("position"))
    assert all(level.requests and level.worker_failures == [] for level in levels)
    # Captured once per identity (two: one per user of the largest level) before the levels.
    assert run.capture_requests == 2 and [lv.capture_requests for lv in levels] == [0, 0]
    totals = document["totals"]
    assert totals["capture_requests"] == 2
    assert logged == totals["requests_sent"] == int(SENT.search(report).group(1))
