"""The admin's run page of a run that searched its capacity and whose server timed its
answers: the capacity line opens the summary, the search's steps are a table (a failed step
in red), and the server's account of each level is drawn as the HTML report draws it; the run
list shows each run's capacity."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest

from perftest.analysis.rules.capacity import CAPACITY
from tests.support.admin_pages import LIST, cell, user
from tests.support.stored_rows import STARTED, analyzed, capacity_run, load_run

pytestmark = pytest.mark.django_db


def page_of(run) -> str:
    analyzed(run)
    response = user("viewer").get(f"{LIST}{run.pk}/change/")
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_the_run_page_shows_the_capacity_its_steps_and_the_servers_account():
    run = capacity_run()
    page = page_of(run)
    (headline,) = [f.title for f in run.findings.all() if f.rule == CAPACITY]

    # On the first screen, before any field of the run and the executive summary.
    answer = headline.removeprefix("Capacity: ")
    assert page.index('id="first-screen"') < page.index(answer) < page.index('class="form-row')
    assert page.index(answer) < page.index("Executive summary")
    assert ">Capacity search<" in page
    failed = re.findall(r'<tr class="perftest-failed">(.*?)</tr>', page, re.S)
    steps = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in failed]
    assert ["2", "40 req/s", "40 req/s open, 4 workers", "failed", "p95 < 300ms", "912 ms"] in [
        cells[:6] for cells in steps
    ]
    assert 'aria-label="Mean latency per level: outside the app, app, SQL' in page
    assert "stackedbar" in page


def test_a_run_without_a_search_has_no_capacity_table():
    run = load_run()
    page = page_of(run)

    assert "Capacity" not in page


def test_the_run_list_shows_each_runs_capacity_from_its_own_row():
    searched = capacity_run(label="searched")
    load_run(label="not searched", started_at=STARTED + dt.timedelta(hours=1))

    page = user("viewer").get(LIST).content.decode()

    assert cell(page, "label") == ["not searched", "searched"]
    assert cell(page, "capacity") == ["—", "30 req/s"]
    assert searched.capacity["capacity_rps"] == 30.0
