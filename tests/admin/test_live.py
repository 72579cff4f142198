"""A running run live in the admin: its page's "Live" panel and the view the page's script
polls (``<pk>/live/``) show what the run has stored so far and nothing else.

A running soak is stored here as its checkpoints store it (the run ``running``, its level cut
short with its ``soak`` record, latency windows and error groups, the resource samples), so
every figure the panel shows is known; then another checkpoint's rows replace them and the
panel follows. A real soak in a browser is ``tests/e2e/test_live_run_in_a_browser.py``.
"""

from __future__ import annotations

import html
import re

import pytest
from django.test import Client

from perftest import models
from perftest.admin import live, live_chart
from perftest.store import read
from tests.support.admin_pages import LIST, cell, user
from tests.support.stored_rows import (
    STARTED,
    add_endpoint,
    add_level,
    add_samples,
    errors_of,
    make_run,
    stored_windows,
)

pytestmark = pytest.mark.django_db

RUN_START = STARTED.timestamp()
#: The soak's plan: 2 s of warm-up, 1 min steady, a checkpoint every half second.
SOAK_PLAN = {"steady_s": 60.0, "warmup_s": 2.0, "checkpoint_s": 0.5}


def running_soak() -> models.Run:
    """A soak's run as its twelfth checkpoint stored it: its level started 5 s into the run,
    three 1 s windows (p50 8, 10, 12 ms; p95 40, 50, 60 ms), 123 requests of which 3 failed,
    6.2 s of its 62 s covered; sampling started 1 s into the run, three samples 2 s apart."""
    run = make_run(
        status=models.Run.Status.RUNNING,
        finished_at=None,
        label="soak",
        config={"load": {"rate": 10.0, "concurrency": [2], "soak": SOAK_PLAN}},
    )
    add_endpoint(run, "Get Profile", requests=2)
    add_level(
        run,
        2,
        throughput=19.4,
        p95=55.0,
        ok_throughput=19.0,
        model=models.LoadLevel.Model.OPEN,
        rate=10.0,
        duration_s=62.0,
        planned_requests=620,
        requests=123,
        ok=120,
        status_counts={"200": 120, "500": 3},
        errors=errors_of("HTTP 500", 3)["errors"],
        interrupted=True,
        windows=stored_windows(40.0, 50.0, 60.0, start=RUN_START + 5.0),
        soak={
            **SOAK_PLAN,
            "checkpoints": 12,
            "covered_s": 6.2,
            "warmup_ends_at": RUN_START + 7.0,
            "warmup_ends_s": 2.0,
            "resources_warmup_ends_s": 6.0,
        },
    )
    add_samples(run, [50.0, 52.0, 55.0], [10.0, 12.0, 11.0], step_s=2.0)
    return run


def figures(panel: str) -> dict[str, tuple[str, str]]:
    """Each figure of a live panel by its key: (value, detail), as a person reads them."""
    found = re.findall(
        r'<div data-live="([a-z0-9]+)"><dt>.*?</dt><dd><strong class="perftest-live-value">'
        r"(.*?)</strong>(?:<small>(.*?)</small>)?</dd></div>",
        panel,
    )
    return {key: (html.unescape(value), html.unescape(detail)) for key, value, detail in found}


def live_url(run: models.Run) -> str:
    return f"{LIST}{run.pk}/live/"


@pytest.fixture
def viewer() -> Client:
    return user("viewer")


def test_the_live_view_shows_a_running_soaks_figures_from_its_stored_checkpoint(viewer):
    run = running_soak()

    response = viewer.get(live_url(run))

    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]
    panel = response.content.decode()
    assert 'data-live-running="yes"' in panel and 'data-live-every-ms="1000"' in panel
    assert (
        "Soak in its steady load: 6.2 s of its planned 1 min 2 s (2 s of warm-up, then 1 min "
        "steady) covered, as its checkpoint 12 stored (one every 0.5 s)." in panel
    )
    assert figures(panel) == {
        "covered": ("10.0%", "6.2 s in"),
        "left": ("56 s", "of 1 min 2 s"),
        "requests": ("123", "of 620 planned at 10/s"),
        "errors": ("3 (2.4 %)", "HTTP 500 ×3"),
        "p50": ("27.5 ms", ""),
        "p95": ("55.0 ms", ""),
        "throughput": ("19.0 req/s", ""),
        "rss": ("55.0 MB", "this process (pid 7); 50.0 MB at the first of 3 samples"),
    }
    assert '<progress class="perftest-live-progress" max="100" value="10"' in panel
    assert f'id="chart-run{run.pk}-live"' in panel


def test_the_soaks_chart_draws_its_windows_and_samples_on_the_runs_clock():
    stored = read.load(running_soak().pk)

    figure = live_chart.figure(stored, live.soak_level(stored))

    latency, rss = figure.panels
    p50, p95 = latency.series
    # Each window at its middle, 5 s into the run where the level started.
    assert p50.points == ((5.5, 8.0), (6.5, 10.0), (7.5, 12.0))
    assert p95.points == ((5.5, 40.0), (6.5, 50.0), (7.5, 60.0))
    # Sampling started 1 s into the run: the warm-up's end, 7 s in, was 6 s into sampling.
    assert rss.series[0].points == ((1.0, 50.0), (3.0, 52.0), (5.0, 55.0))
    assert [(m.label, m.start, m.end) for m in figure.marks] == [
        ("warm-up", 5.0, 7.0),
        ("steady so far", 7.0, 11.2),
    ]
    assert figure.x_title == "seconds since the run started"


def test_the_run_page_shows_the_same_panel_the_view_serves_and_its_script(viewer):
    run = running_soak()

    page = viewer.get(f"{LIST}{run.pk}/change/").content.decode()
    panel = viewer.get(live_url(run)).content.decode()

    # One template serves both: the page's panel is the view's, byte for byte.
    assert (
        f'<div class="perftest-section perftest-live" id="live" data-live-url="{live_url(run)}">'
        in (page)
    )
    assert panel.strip() in page
    assert page.index('id="live"') < page.index('id="verdict"')
    assert '<script src="/static/perftest/live.js" defer></script>' in page
    script = Client().get("/static/perftest/live.js")
    assert script.status_code == 200
    assert b"liveEveryMs" in b"".join(script.streaming_content)


def test_a_new_checkpoints_rows_change_the_figures_the_view_serves(viewer):
    run = running_soak()
    before = figures(viewer.get(live_url(run)).content.decode())

    # The next checkpoint replaces the level with the run so far, and adds samples.
    level = run.levels.get()
    level.requests, level.ok = 140, 137
    level.soak = {**level.soak, "checkpoints": 13, "covered_s": 31.0}
    level.save()
    add_samples(run, [50.0, 52.0, 55.0, 61.0], [10.0] * 4, step_s=2.0)
    after = figures(viewer.get(live_url(run)).content.decode())

    assert before["requests"][0] == "123" and after["requests"][0] == "140"
    assert (after["covered"][0], after["left"][0]) == ("50.0%", "31 s")
    assert after["rss"][0] == "61.0 MB"


def test_a_soak_before_its_first_checkpoint_has_all_of_its_plan_ahead(viewer):
    run = make_run(
        status=models.Run.Status.RUNNING,
        finished_at=None,
        config={"load": {"rate": 10.0, "soak": SOAK_PLAN}},
    )

    panel = viewer.get(live_url(run)).content.decode()

    assert "Soak planned for 1 min 2 s (2 s of warm-up, then 1 min steady): no checkpoint " in (
        panel
    )
    assert figures(panel) == {"left": ("1 min 2 s", "the whole soak, after the pass")}
    assert 'data-live-running="yes"' in panel and 'data-live-every-ms="1000"' in panel
    assert "<svg" not in panel


def test_a_running_run_that_is_no_soak_says_its_figures_come_when_it_ends(viewer):
    run = make_run(status=models.Run.Status.RUNNING, finished_at=None)

    panel = viewer.get(live_url(run)).content.decode()

    assert html.escape(live.STORED_AT_THE_END) in panel
    assert 'data-live-running="yes"' in panel and 'data-live-every-ms="5000"' in panel
    assert figures(panel) == {}


def test_a_finished_run_has_no_live_panel_and_its_view_says_it_finished(viewer):
    run = running_soak()
    run.status = models.Run.Status.COMPLETED
    run.save()

    page = viewer.get(f"{LIST}{run.pk}/change/").content.decode()
    panel = viewer.get(live_url(run)).content.decode()

    assert 'id="live"' not in page and "live.js" not in page
    assert 'data-live-running="no"' in panel
    assert f"Run #{run.pk} finished (completed): reload the page for its full report." in panel
    assert figures(panel) == {}


def test_the_run_list_marks_a_running_soak_with_how_much_it_has_covered(viewer):
    running_soak()
    make_run(status=models.Run.Status.RUNNING, finished_at=None, label="not a soak")
    make_run(label="done")

    page = viewer.get(LIST).content.decode()

    assert cell(page, "status") == ["completed", "running", "running soak 10 % covered"]
    assert page.count('<span class="perftest-badge perftest-info">running</span>') == 2


def test_the_live_view_asks_for_staff_and_the_view_permission():
    url = live_url(running_soak())

    for refused in (Client(), user("visitor", staff=False)):
        answer = refused.get(url)
        assert answer.status_code == 302 and answer["Location"].startswith("/admin/login/")
    assert user("clerk", perms=()).get(url).status_code == 403
    assert user("reader").get(url).status_code == 200
    assert user("reader2").get(f"{LIST}999999/live/").status_code == 404
