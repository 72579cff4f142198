"""The capacity search's answer and the server's account of each level, in every format.

Stored runs are built row by row (``tests.support.stored_rows``) with a capacity record and
``server_timing`` as the capacity search and the timing middleware store them, so each
expected figure is known: the headline from the stored key finding or from the record, the
steps table, the breakdown's stacked means (outside + app without SQL + SQL), its p95s and
queries per request, Little's law per level, the server's slots; the JSON against the 1.4
schema, the JUnit capacity case, the console line, the HTML's stacked chart.
"""

from __future__ import annotations

from xml.etree import ElementTree

import pytest

from perftest import models
from perftest.analysis import efficiency, server_account
from perftest.analysis.rules.capacity import CAPACITY
from perftest.reports import charts, console, formats, html, markdown
from perftest.reports.json import SCHEMA_VERSION
from perftest.reports.sections.server_account import MIDDLEWARE_MISSING
from perftest.store.read import StoredRun
from tests.support.report_checks import cases, missing_figures, svg_titles, validate
from tests.support.stored_rows import (
    add_endpoint,
    add_level,
    analyzed,
    capacity_record,
    capacity_run,
    capacity_step,
    load_run,
    make_run,
    server_environment,
    server_timing,
)

pytestmark = pytest.mark.django_db

BREAKDOWN_CHART = "Mean latency per level: outside the app, app, SQL (the server's account)"
BREAKDOWN_HEADING = "## The server's account: outside the app, app, SQL"


def stored(run: models.Run) -> StoredRun:
    analyzed(run)
    return StoredRun.of(run)


def section(text: str, heading: str) -> str:
    """The Markdown of one section: from its heading to the next section's."""
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start : end if end != -1 else None].strip()


def row_of(text: str, first_cell: str) -> list[str]:
    """The cells of the Markdown table row that starts with ``first_cell``."""
    line = next(line for line in text.splitlines() if line.startswith(f"| {first_cell} |"))
    return [cell.strip() for cell in line.strip("|").split("|")]


def headline_of(run: models.Run) -> str:
    """The capacity finding the analysis stored for ``run`` (analysing it first)."""
    (finding,) = [f for f in analyzed(run) if f.rule == CAPACITY]
    return finding.title


def test_the_first_screen_opens_with_the_stored_capacity_finding_said_once():
    run = capacity_run()
    report = markdown.render(stored(run))

    glance = section(report, "## At a glance")
    first = glance.split("\n\n")[1].splitlines()[0]
    assert first == f"- [Capacity](#capacity-search): {headline_of(run).removeprefix('Capacity: ')}"
    assert headline_of(run).startswith("Capacity: 30 req/s of this mix with p95 < 300 ms")
    assert "Capacity:" not in section(report, "## Executive summary")


@pytest.mark.parametrize(
    ("steps", "fields", "says"),
    [
        (
            [capacity_step(0, 20.0), capacity_step(1, 40.0)],
            {"ended": "generator", "generator_max_rps": 55.26},
            "Capacity: above 55.3 req/s, the most this generator could send",
        ),
        (
            [capacity_step(0, 20.0, "p95 < 300ms", "912 ms")],
            {"ended": "bound"},
            "Capacity: none found of this mix with p95 < 300 ms: even the lowest rate tried, "
            "20 req/s",
        ),
        (
            [capacity_step(0, 20.0), capacity_step(1, 40.0)],
            {"ended": "max_rate"},
            "Capacity: at least 40 req/s of this mix with p95 < 300 ms",
        ),
    ],
    ids=["generator", "first-step-failed", "max-rate"],
)
def test_every_format_states_the_capacity_however_the_search_ended(steps, fields, says):
    run = load_run(capacity=capacity_record(steps, **fields))
    for step in steps:
        add_level(run, 4, step["rate"], 100.0, model="open", rate=step["rate"])

    found = stored(run)
    worded = headline_of(run)

    assert worded.startswith(says)
    capacity = f"- [Capacity](#capacity-search): {worded.removeprefix('Capacity: ')}\n"
    assert capacity in markdown.render(found)
    assert worded in console.summary_table(found)
    (case,) = cases(formats.FORMATS["junit"].render(found))["capacity"]
    assert case.find("system-out").text == worded


def test_the_load_section_lists_each_step_of_the_search():
    run = capacity_run()
    report = markdown.render(stored(run))

    search = section(report, "## Capacity search")
    assert headline_of(run) in search
    assert "rises from 20 req/s until a bound fails, then bisects to within 5%" in search
    assert "Bounds: p95 < 300ms; error_rate < 1%; dropped < 10%." in search
    assert row_of(search, "2") == [
        "2",
        "40 req/s",
        "40 req/s open, 4 workers",
        "failed",
        "p95 < 300ms",
        "912 ms",
        "40.0 req/s",
        "912.0 ms",
    ]
    assert row_of(search, "3")[3] == "passed"
    assert report.index("## Capacity search") < report.index("## Concurrent request testing")


def test_a_run_without_a_search_says_nothing_of_capacity():
    run = load_run()
    add_level(run, 10, 100.0, 20.0)
    found = stored(run)

    report = markdown.render(found)
    assert "Capacity search" not in report and "Capacity:" not in report
    assert "apacity" not in console.summary_table(found)
    assert cases(formats.FORMATS["junit"].render(found))["capacity"] == []
    assert validate(formats.FORMATS["json"].render(found))["capacity"] == {}


def test_each_http_level_splits_its_mean_into_outside_the_app_app_and_sql():
    run = load_run()
    level = add_level(
        run,
        10,
        100.0,
        80.0,
        requests=1240,
        mean_ms=40.0,
        server_timing=server_timing(
            1234,
            15.0,
            6.0,
            25.0,
            queries=4936,
            app_p95_ms=30.0,
            sql_p95_ms=12.5,
            outside_p95_ms=55.0,
        ),
    )
    add_endpoint(
        run,
        "Get Profile",
        phase="level",
        level=level,
        requests=1240,
        server_timing=server_timing(
            1234,
            15.0,
            6.0,
            25.0,
            queries=4936,
            app_p95_ms=30.0,
            sql_p95_ms=12.5,
            outside_p95_ms=55.0,
        ),
    )
    report = markdown.render(stored(run))

    account = section(report, BREAKDOWN_HEADING)
    # outside 25 + app without SQL (15 - 6) 9 + SQL 6 = 40, the timed answers' mean.
    assert row_of(account, "10 concurrent") == [
        "10 concurrent",
        "1,234 of 1,240",
        "25.0 ms",
        "9.00 ms",
        "6.00 ms",
        "40.0 ms",
        "55.0 ms",
        "30.0 ms",
        "12.5 ms",
        "80.0 ms",
        "4.0",
    ]
    endpoint = row_of(account, "10 concurrent | Get Profile")
    assert endpoint[2:4] == ["1,234 of 1,240", "25.0 ms"]
    assert MIDDLEWARE_MISSING not in report


def test_the_sequential_pass_over_http_is_split_per_endpoint_without_a_level():
    run = load_run()
    add_endpoint(
        run,
        "Get Profile",
        server_timing=server_timing(
            20, 30.0, 22.0, 2.0, queries=140, app_p95_ms=41.0, sql_p95_ms=30.0, outside_p95_ms=3.0
        ),
    )
    add_endpoint(run, "Get Lessons")  # its answers carried no account: no row
    report = markdown.render(stored(run))

    account = section(report, BREAKDOWN_HEADING)
    row = row_of(account, "sequential over HTTP")
    assert row[1:7] == ["Get Profile", "20 of 20", "2.00 ms", "8.00 ms", "22.0 ms", "32.0 ms"]
    assert row[-1] == "7.0"
    assert "Get Lessons" not in account and "| Level |" not in account


def test_an_http_run_whose_server_timed_nothing_says_how_to_turn_it_on():
    run = load_run()
    add_level(run, 10, 100.0, 20.0)
    found = stored(run)
    report = markdown.render(found)

    assert section(report, BREAKDOWN_HEADING).split("\n\n")[1] == MIDDLEWARE_MISSING
    assert MIDDLEWARE_MISSING in html.render(found)
    assert charts.server_account(found) is None


def test_an_in_process_run_shows_no_breakdown():
    run = make_run()
    add_endpoint(run, "Get Profile")
    add_level(run, 2, 100.0, 20.0, transport="in-process")
    found = stored(run)
    report = markdown.render(found)

    assert "The server's account" not in report and MIDDLEWARE_MISSING not in report
    assert not server_account.untimed(found)
    assert BREAKDOWN_CHART not in svg_titles(html.render(found))


def test_the_html_report_stacks_each_levels_mean_in_one_bar():
    found = stored(capacity_run())

    chart = charts.server_account(found)
    page = html.render(found)

    assert chart.stacked and chart.categories == (
        "20 req/s open, 4 workers",
        "40 req/s open, 4 workers",
        "30 req/s open, 4 workers",
    )
    totals = [sum(s.points[i][1] for s in chart.series) for i in range(3)]
    assert totals == pytest.approx([60.0, 456.0, 105.0])  # each level's mean latency
    assert BREAKDOWN_CHART in svg_titles(page)
    drawn = next(svg for svg in page.split("<svg")[1:] if BREAKDOWN_CHART in svg)
    assert "stackedbar" in drawn
    assert all(name in drawn for name in ("outside the app", "app without SQL", "SQL"))


def test_the_load_table_shows_littles_law_and_the_servers_cpu_when_read():
    run = load_run()
    add_level(run, 10, 100.0, 200.0, mean_ms=95.0, server_cores=1.46, database_cores=0.31)
    add_level(run, 20, 110.0, 400.0, mean_ms=120.0)
    found = stored(run)
    report = markdown.render(found)

    assert efficiency.littles_law(found.levels[0]).busy == pytest.approx(9.5)
    load = section(report, "## Concurrent request testing")
    assert row_of(load, "10 concurrent")[-3:] == ["9.5 of 10", "1.46 cores", "0.31 cores"]
    assert row_of(load, "20 concurrent")[-3:] == ["13.2 of 20", "—", "—"]


def test_the_methodology_names_the_servers_slots():
    report = markdown.render(stored(capacity_run()))

    assert (
        "- Server: gunicorn pid 123 with 2 workers × 1 thread, 2 requests at a time (from its "
        "command line)." in section(report, "## Methodology")
    )


def test_json_carries_the_capacity_the_server_and_each_breakdown_in_the_new_schema():
    run = capacity_run()
    found = stored(run)
    text = formats.FORMATS["json"].render(found)
    document = validate(text)

    assert document["schema_version"] == SCHEMA_VERSION == "1.6"
    assert document["capacity"] == run.capacity
    assert document["server"] == server_environment(2)["server"]
    assert "capacity" not in document["run"]
    level = document["levels"][1]
    assert level["server_breakdown"] == {
        "timed_answers": 400,
        "answers": 400,
        "queries_per_request": 3.0,
        "outside_mean_ms": 342.0,
        "app_without_sql_mean_ms": pytest.approx(68.4),
        "sql_mean_ms": 45.6,
        "timed_mean_ms": 456.0,
        "outside_p95_ms": 912.0,
        "app_p95_ms": 228.0,
        "sql_p95_ms": 91.2,
    }
    assert level["littles_law"] == {"in_flight": pytest.approx(18.24), "concurrency": 4}
    assert level["server_cores"] == 0.8 and level["generator_processes"] == 1
    assert set(level["server_timing"]) == {"answers", "queries", "app", "sql", "outside"}
    assert level["endpoints"][0]["server_breakdown"]["timed_answers"] == 400
    assert "histogram" not in text
    # (This stored run has no threshold snapshot: its p95 limit, 2000 ms, is the one figure of
    # the Markdown the JSON does not carry.)
    assert missing_figures(markdown.render(found), document) == ["2000 ms"]


def test_junit_passes_the_capacity_case_with_its_figure_and_fails_when_none_was_found():
    run = capacity_run()
    found = stored(run)
    (case,) = cases(formats.FORMATS["junit"].render(found))["capacity"]
    assert case.get("name") == "capacity p95 < 300ms" and case.find("failure") is None
    assert case.find("system-out").text == headline_of(run)

    run = load_run(capacity=capacity_record([capacity_step(0, 20.0, "p95 < 300ms", "912 ms")]))
    add_level(run, 4, 20.0, 912.0, model="open", rate=20.0)
    xml = formats.FORMATS["junit"].render(stored(run))
    (failed,) = cases(xml)["capacity"]
    assert failed.find("failure").get("message").startswith("Capacity: none found")
    suite = next(s for s in ElementTree.fromstring(xml) if s.get("name").endswith("capacity"))
    assert suite.get("failures") == "1"


def test_the_console_summary_states_the_capacity_after_the_levels():
    run = capacity_run()
    summary = console.summary_table(stored(run))

    lines = summary.splitlines()
    headline = headline_of(run)
    assert headline in lines
    assert lines.index(headline) > max(i for i, line in enumerate(lines) if "req/s open" in line)


def test_json_of_a_run_without_the_servers_account_or_a_search_validates_with_nulls():
    run = load_run()
    add_level(run, 10, 100.0, 20.0)
    document = validate(formats.FORMATS["json"].render(stored(run)))

    assert document["levels"][0]["server_breakdown"] is None
    assert document["levels"][0]["server_timing"] == {}
    assert document["server"] is None
