"""The endpoint history: each endpoint's p95 and queries per request across a run and the
earlier runs of its target and plan, regressions marked, runs not judged told apart.

The runs are built row by row (``tests/support/stored_rows.py``) with real latency histograms,
then compared and analysed as a run's end compares and analyses it (``analysis.compare``,
``runner.judge``): the marks the history shows are the findings those store, never written
by hand. A query more per request is a regression by itself (exact, no noise), and a
sequential pass beside a busy neighbour is not judged: both deterministic.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from perftest import models
from perftest.admin import endpoint_history
from perftest.analysis import history
from perftest.analysis.compare import compare
from perftest.measure.stats import LatencyStats
from perftest.plan.fingerprint import fingerprint
from perftest.plan.model import RunPlan
from perftest.store import read, write
from perftest.store.history import RUNS, earlier_runs
from tests.support.admin_pages import LIST, user
from tests.support.stored_rows import STARTED, add_endpoint, analyzed, make_environment, make_run

pytestmark = pytest.mark.django_db

LOGIN = {"method": "POST", "path": "/api/auth/login/"}


def plan_config(login_under_test: bool = False, iterations: int = 20) -> dict:
    """A stored plan of a login and two endpoints."""
    endpoint = {"method": "GET", "expected_status": 200, "auth": True}
    return {
        "iterations": iterations,
        "login": {**LOGIN, "under_test": login_under_test},
        "endpoints": [
            {"name": "Log in", **LOGIN, "expected_status": 200, "auth": False, "is_login": True},
            {"name": "Get Profile", "path": "/api/profile/", **endpoint},
            {"name": "Get Lessons", "path": "/api/lessons/", **endpoint},
        ],
    }


def histogram(p95_ms: float) -> str:
    """200 answers evenly from half of ``p95_ms`` up to it: a latency the noise rule reads."""
    stats = LatencyStats()
    for i in range(200):
        stats.record(int(p95_ms * (0.5 + i / 400) * 1e6))
    return stats.encode()


def busy_environment() -> dict:
    """A run whose sequential pass had a neighbour busy on two cores."""
    phases = {"sequential": {"system_cores": 3.5, "other_cores": 2.0, "others": []}}
    return {**make_environment(), "calibration": {"phases": phases}}


def stored_run(
    minute: float,
    *,
    profile_p95: float = 20.0,
    lessons_queries: int = 2,
    baseline: models.Run | None = None,
    config: dict | None = None,
    **fields,
) -> models.Run:
    """A run of ``config`` started ``minute`` minutes in: the login (600 ms, its password
    hash), Get Profile (p95 ``profile_p95``, 1 query per request) and Get Lessons (p95 40 ms,
    ``lessons_queries`` per request), compared with ``baseline`` when given, then analysed
    and its verdict stored as a run's end does."""
    config = config or plan_config()
    run = make_run(
        config=config,
        plan_fingerprint=fingerprint(RunPlan.from_dict(config)),
        started_at=STARTED + dt.timedelta(minutes=minute),
        **fields,
    )
    for name, p95, queries in (("Log in", 600.0, 1), ("Get Profile", profile_p95, 1),
                               ("Get Lessons", 40.0, lessons_queries)):  # fmt: skip
        add_endpoint(
            run, name, requests=200, p95_ms=p95, histogram=histogram(p95),
            sql_captured=True, queries_total=200 * queries,
        )  # fmt: skip
    if baseline is not None:
        data = compare(read.StoredRun.of(baseline), read.StoredRun.of(run))
        write.save_comparison(run, baseline.pk, data)
    analyzed(run)
    run.refresh_from_db()
    return run


def a_history() -> dict[str, models.Run]:
    """Four runs of one target and plan, each compared with the one before: the third made Get
    Profile three times slower and Get Lessons run a query more per request (two
    regressions), the fourth ran beside a busy neighbour (not judged); and the runs a
    history of the fourth leaves out: another target, another plan, a failed run, a later
    run."""
    runs = {"first": stored_run(0)}
    runs["second"] = stored_run(1, baseline=runs["first"])
    runs["third"] = stored_run(2, profile_p95=60.0, lessons_queries=3, baseline=runs["second"])
    runs["fourth"] = stored_run(
        3, profile_p95=60.0, lessons_queries=3, baseline=runs["third"],
        environment=busy_environment(),
    )  # fmt: skip
    runs["other target"] = stored_run(1.5, target="http://elsewhere")
    runs["other plan"] = stored_run(1.5, config=plan_config(iterations=40))
    runs["failed"] = stored_run(1.5, status=models.Run.Status.FAILED)
    runs["later"] = stored_run(10)
    return runs


def history_url(run: models.Run) -> str:
    return f"{LIST}{run.pk}/endpoint-history/"


def test_each_endpoints_p95_and_queries_across_the_earlier_runs_of_its_target_and_plan():
    runs = a_history()
    stored = read.load(runs["fourth"].pk)
    shown = earlier_runs(stored)

    columns = history.columns(shown)
    trends = {trend.endpoint: trend.points for trend in history.trends(stored, shown)}

    order = ("first", "second", "third", "fourth")
    assert [column.pk for column in columns] == [runs[name].pk for name in order]
    assert [column.baseline for column in columns] == [None, *(runs[n].pk for n in order[:3])]
    assert [column.regressions for column in columns] == [0, 0, 2, 0]
    assert list(trends) == ["Get Profile", "Get Lessons"]  # the login set apart
    assert [p.p95_ms for p in trends["Get Profile"]] == [20.0, 20.0, 60.0, 60.0]
    assert [p.queries for p in trends["Get Lessons"]] == [2.0, 2.0, 3.0, 3.0]
    for points in trends.values():
        assert [p.mark for p in points] == ["", "", history.REGRESSION, history.NOT_JUDGED]
    assert trends["Get Profile"][2].figures == {history.P95}
    assert trends["Get Lessons"][2].figures == {history.QUERIES}
    stored_titles = {
        f.subject: f.title for f in runs["third"].findings.filter(rule=history.REGRESSION)
    }
    assert trends["Get Profile"][2].why == stored_titles["Get Profile"]
    assert stored_titles["Get Profile"].startswith("Get Profile p95 ")
    assert trends["Get Lessons"][2].why == stored_titles["Get Lessons"]
    assert "1 more query per request" in stored_titles["Get Lessons"]
    busy = f"the machine was busy in run #{runs['fourth'].pk}"
    assert all(busy in points[3].why for points in trends.values())


def test_the_login_is_in_the_history_when_the_plan_puts_it_under_test():
    config = plan_config(login_under_test=True)
    first = stored_run(0, config=config)
    second = stored_run(1, config=config, baseline=first)
    stored = read.load(second.pk)

    trends = history.trends(stored, earlier_runs(stored))

    assert [trend.endpoint for trend in trends] == ["Log in", "Get Profile", "Get Lessons"]
    assert [p.p95_ms for p in trends[0].points] == [600.0, 600.0]


def test_the_history_page_and_the_run_page_link_each_run_and_explain_each_mark():
    runs = a_history()
    viewer = user("viewer")

    page = viewer.get(history_url(runs["fourth"])).content.decode()
    run_page = viewer.get(f"{LIST}{runs['fourth'].pk}/change/").content.decode()

    heads = re.findall(rf'<a href="{LIST}(\d+)/change/">#', page)
    assert heads == [str(runs[name].pk) for name in ("first", "second", "third", "fourth")]
    assert "(this run)" in page and "no baseline" in page
    assert f"vs #{runs['second'].pk}, 2 regressions" in page
    assert page.count("<strong>regressed</strong>") == 2
    assert page.count("<strong>not judged</strong>") == 2
    emphasised = re.findall(r'<span class="perftest-history-figure">([^<]+)</span>', page)
    assert emphasised == ["60.0 ms", "60.0 ms", "3.0 q/req", "40.0 ms"]  # what each mark is about
    assert "Log in" not in page
    for finding in runs["third"].findings.filter(rule=history.REGRESSION):
        assert f"{finding.subject} regressed: {escape(finding.title)}</li>" in page
    assert page.count('class="perftest-sparkline"') == 2
    assert page.count('class="perftest-dot-regression"') == 1  # Get Profile's p95
    assert page.count('class="perftest-dot-unjudged"') == 2
    assert 'id="history"' in run_page
    assert run_page.count(f'href="{history_url(runs["fourth"])}"') == 2  # tools and section
    assert re.findall(rf'<a href="{LIST}(\d+)/change/">#', run_page) == heads
    assert run_page.count("<strong>regressed</strong>") == 2
    assert viewer.get(f"{LIST}{runs['later'].pk + 1}/endpoint-history/").status_code == 404


def page_queries(client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


@pytest.mark.slow
def test_the_history_costs_the_same_queries_whatever_the_number_of_runs():
    viewer = user("viewer")
    runs = [stored_run(0)]
    for minute in range(1, RUNS + 2):
        runs.append(stored_run(minute, lessons_queries=2 + minute % 2, baseline=runs[-1]))
    few, many = runs[2], runs[-1]
    viewer.get(f"{LIST}{few.pk}/change/")  # Django caches the run's content type once

    few_history, few_page = page_queries(viewer, history_url(few))
    many_history, many_page = page_queries(viewer, history_url(many))
    few_run_page = page_queries(viewer, f"{LIST}{few.pk}/change/")[0]
    many_run_page, run_page = page_queries(viewer, f"{LIST}{many.pk}/change/")

    assert many_history == few_history and many_run_page == few_run_page
    heads = re.findall(rf'<a href="{LIST}(\d+)/change/">#', many_page)
    assert heads == [str(run.pk) for run in runs[-RUNS:]]
    assert len(re.findall(rf'<a href="{LIST}(\d+)/change/">#', few_page)) == 3
    page_heads = re.findall(rf'<a href="{LIST}(\d+)/change/">#', run_page)
    assert page_heads == [str(run.pk) for run in runs[-endpoint_history.PAGE_RUNS :]]
    assert many_page.count("<strong>regressed</strong>") == RUNS // 2  # 2 -> 3 queries
    assert many_page.count("<strong>improved</strong>") == RUNS // 2  # 3 -> 2 queries
