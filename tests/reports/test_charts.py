"""The charts a person reads: the whole run on one time axis, one colour per figure in every
chart, every axis titled with its unit and round ticks, no chart where it cannot mean
anything, and the login out of the endpoint charts' scale.

Every run here is built from stored rows (``tests/support/stored_rows.py``), so each drawn
point is known; the SVG is read as the HTML report and the admin embed it.
"""

from __future__ import annotations

import re

import pytest

from perftest import models
from perftest.admin.drawing import REPORT_CHARTS
from perftest.reports import charts, html
from perftest.reports.charts import palette, ticks
from perftest.store.read import StoredRun
from tests.support.report_checks import svg_titles
from tests.support.stored_rows import (
    add_endpoint,
    add_level,
    add_samples,
    load_run,
    server_environment,
    server_timing,
    stored_windows,
)

LOGIN = {"name": "Login", "method": "POST", "path": "/api/auth/login/", "is_login": True}


def with_login(under_test: bool = False, **fields):
    """A load run whose plan marks the login endpoint (set apart unless ``under_test``)."""
    run = load_run(**fields)
    run.config = {
        **run.config,
        "endpoints": [LOGIN, {"name": "Get Profile", "method": "GET", "path": "/api/profile/"}],
        "login": {**run.config["login"], "under_test": under_test},
    }
    run.save(update_fields=["config"])
    add_endpoint(run, "Login", method="POST", p50_ms=700.0, p95_ms=900.0, p99_ms=950.0)
    add_endpoint(run, "Get Profile", sum_ns=2 * 10**9)
    return run


def whole_run_of_two_levels():
    """A run with the login, one endpoint, a windowed level (a stalled second in it) and a
    level stored without windows."""
    run = with_login()
    add_level(run, 1, 40.0, 20.0, windows=stored_windows(20, 25, None, 30, 20))
    add_level(run, 10, 39.0, 80.0, ok=390, status_counts={"200": 390, "500": 10}, window_s=10.0)
    return StoredRun.of(run)


def series_colours(figure: charts.Figure, svg: str) -> dict[str, str]:
    """Each series' colour as the SVG paints it: a panel's series group's stroke, or pygal's
    ``.color-<n>`` rule for the n-th series."""
    if isinstance(figure, charts.Panels):
        return dict(re.findall(r'<g class="series" data-series="([^"]+)" stroke="([^"]+)"', svg))
    painted = dict(re.findall(r"\.color-(\d+) a:visited\{stroke:(#[0-9a-f]+)", svg))
    return {series.name: painted[str(i)] for i, series in enumerate(figure.series)}


@pytest.mark.django_db
def test_the_whole_run_chart_draws_each_figure_once_and_marks_every_phase():
    stored = whole_run_of_two_levels()
    figure = charts.whole_run(stored)
    svg = charts.svg(figure, f"run{stored.pk}-whole-run")

    assert [panel.y_title for panel in figure.panels] == [
        "answers/s", "latency (ms)", "error rate (% of requests)", "workers",
    ]  # fmt: skip
    names = [series.name for panel in figure.panels for series in panel.series]
    assert names == [
        "throughput as expected", "answers not as expected", "p50", "p95", "error rate",
        "active workers",
    ]  # fmt: skip
    # One group per figure in the SVG, each named, and a marker per phase, in the order run.
    assert re.findall(r'<g class="series" data-series="([^"]+)"', svg) == names
    assert re.findall(r'<g class="phase-marker" data-label="([^"]+)"', svg) == [
        "sequential pass", "level 1: 1 concurrent", "level 2: 10 concurrent",
    ]  # fmt: skip
    # The phases are laid end to end: the sequential pass is Get Profile's 2 s in requests
    # (the login's left out), level 1 its five windows, level 2 its 10 s window.
    assert [(m.start, m.end) for m in figure.marks] == [(0.0, 2.0), (2.0, 7.0), (7.0, 17.0)]
    assert svg_titles(svg) == ["The whole run over time"]
    assert 'id="chart-run' in svg and "seconds of measuring (phases end to end)" in svg


@pytest.mark.django_db
def test_the_whole_run_chart_places_each_phase_where_it_started_in_the_run():
    run = with_login()
    began = run.started_at.timestamp()
    models.EndpointResult.objects.filter(run=run, name="Get Profile").update(
        windows=stored_windows(5, start=began + 1)
    )
    # Level 1 starts 4 s in (after set-up), level 2 five seconds after it ended.
    add_level(run, 1, 40.0, 20.0, windows=stored_windows(20, 25, 30, start=began + 4))
    add_level(run, 10, 120.0, 80.0, windows=stored_windows(60, 80, start=began + 12))
    figure = charts.whole_run(StoredRun.of(run))

    assert [(m.start, m.end) for m in figure.marks] == [(1.0, 3.0), (4.0, 7.0), (12.0, 14.0)]
    assert figure.x_title == "seconds since the run started"
    assert figure.note.startswith("Each phase starts where it started in the run")


@pytest.mark.django_db
def test_the_whole_run_chart_draws_windows_where_stored_and_says_which_level_is_flat():
    stored = whole_run_of_two_levels()
    figure = charts.whole_run(stored)
    series = {s.name: s.points for panel in figure.panels for s in panel.series}

    # Level 1 window by window at each window's middle; the stalled second breaks the line.
    assert series["p95"][2:8] == (
        (2.0, None), (2.5, 20.0), (3.5, 25.0), (4.5, None), (5.5, 30.0), (6.5, 20.0)
    )  # fmt: skip
    # Throughput from the windows wholly inside the level: the stalled one answered none.
    assert series["throughput as expected"][3:6] == ((3.5, 40.0), (4.5, 0.0), (5.5, 40.0))
    # Level 2 had no windows: flat at its whole figures, said under the chart.
    assert series["p95"][-2:] == ((7.0, 80.0), (17.0, 80.0))
    assert series["error rate"][-2:] == ((7.0, 2.5), (17.0, 2.5))
    assert series["active workers"][-2:] == ((7.0, 10), (17.0, 10))
    assert "10 concurrent is drawn flat at the level's whole figures" in figure.note
    # The login's 900 ms is nowhere on the latency scale.
    assert max(y for _, y in series["p95"] if y is not None) == 100.0


@pytest.mark.django_db
def test_the_whole_run_chart_is_in_the_html_report_with_its_id_and_note():
    stored = whole_run_of_two_levels()

    page = html.render(stored)

    figure = re.search(r'<figure class="chart" id="whole-run".*?</figure>', page, re.S)
    assert figure and "The whole run over time" in svg_titles(figure.group(0))
    assert "<figcaption>Phases are drawn end to end" in figure.group(0)


@pytest.mark.django_db
def test_no_whole_run_or_scaling_chart_where_it_cannot_mean_anything():
    run = with_login()
    sequential_only = StoredRun.of(run)
    add_level(run, 10, 120.0, 80.0)
    one_level = StoredRun.of(run)

    assert charts.whole_run(sequential_only) is None
    # One level is a point, not a curve: no scaling chart, in the report either.
    assert charts.scaling(one_level) is None
    assert "Throughput as expected and p95 against concurrency" not in svg_titles(
        html.render(one_level)
    )
    add_level(run, 20, 130.0, 160.0)
    assert charts.scaling(StoredRun.of(run)) is not None


@pytest.mark.django_db
def test_the_same_figure_wears_the_same_colour_in_every_chart():
    run = with_login(environment=server_environment(2))
    timed = server_timing(400, 10.0, 4.0, 6.0)
    add_level(run, 1, 40.0, 20.0, windows=stored_windows(20, 25, 30), server_timing=timed)
    add_level(run, 10, 120.0, 80.0, windows=stored_windows(60, 80, 70), server_timing=timed)
    stored = StoredRun.of(run)
    figures = charts.drawn(stored, REPORT_CHARTS)

    seen: dict[str, set[str]] = {}
    for figure in figures:
        for name, colour in series_colours(figure, charts.svg(figure, figure.key)).items():
            seen.setdefault(name, set()).add(colour)

    assert {figure.key for figure in figures} >= {
        "latency", "whole-run", "over-time-0", "over-time-1", "scaling", "breakdown",
    }  # fmt: skip
    assert seen["p50"] == {palette.COLOURS[palette.P50]}
    assert seen["p95"] == {palette.COLOURS[palette.P95]}
    assert seen["throughput as expected"] == {palette.COLOURS[palette.AS_EXPECTED]}
    assert seen["SQL"] == {palette.COLOURS[palette.SQL]}
    # No two kinds share a colour, and none is the alarm red a regression's bar wears.
    colours = list(palette.COLOURS.values())
    assert len(set(colours)) == len(colours) and palette.ALARM not in colours


@pytest.mark.django_db
def test_every_axis_is_titled_with_its_unit_and_ticks_are_round():
    run = with_login()
    add_level(run, 1, 40.0, 23.06, windows=stored_windows(20, 46.12, 30))
    add_level(run, 10, 120.0, 46.12, windows=stored_windows(60, 80, 70))
    stored = StoredRun.of(run)

    for figure in charts.drawn(stored, REPORT_CHARTS):
        svg = charts.svg(figure, figure.key)
        if isinstance(figure, charts.Panels):
            titles = [figure.x_title, *(panel.y_title for panel in figure.panels)]
            assert "right axis" not in svg
        else:
            titles = [figure.x_title, figure.y_title]
        for title in titles:
            assert title and f">{title}</text>" in svg, (figure.key, title)
    # Round steps (1, 2 or 5 times a power of ten) for a top of 46.12, never 23.06 / 46.12.
    assert ticks.upto(46.12) == (0, 10, 20, 30, 40, 50)
    assert ticks.upto(0.3) == (0, 0.1, 0.2, 0.3)
    assert ticks.upto(900) == (0, 200, 400, 600, 800, 1000)


@pytest.mark.django_db
def test_the_levels_time_charts_share_one_scale():
    run = with_login()
    add_level(run, 1, 40.0, 20.0, windows=stored_windows(20, 25, 30))
    add_level(run, 10, 120.0, 80.0, windows=stored_windows(60, 180, 70))

    low, high = charts.over_time(StoredRun.of(run))

    assert low.y_max == high.y_max == 180.0
    axis = re.compile(r'<g class="axis y[^"]*">.*?</g>\s*</g>', re.S)
    assert axis.search(charts.svg(low, "a")).group(0).replace('"a"', "") == axis.search(
        charts.svg(high, "a")
    ).group(0).replace('"a"', "")


@pytest.mark.django_db
@pytest.mark.parametrize("under_test", [False, True])
def test_the_login_is_out_of_the_endpoint_charts_scale_unless_under_test(under_test):
    run = with_login(under_test=under_test)
    run.comparison = {
        "baseline": {"id": 1, "started_at": "2026-01-01T00:00:00+00:00", "label": ""},
        "rows": [
            {
                "phase": "sequential",
                "level": None,
                "endpoint": name,
                "metrics": [
                    {"metric": metric, "before": value, "after": value, "verdict": "unchanged"}
                    for metric, value in (("p50", p95 / 2), ("p95", p95))
                ],
            }
            for name, p95 in (("Login", 900.0), ("Get Profile", 100.0))
        ],
    }
    run.save(update_fields=["comparison"])
    stored = StoredRun.of(run)

    latency, before_after = charts.latencies(stored), charts.before_after(stored)

    expected = ("Login", "Get Profile") if under_test else ("Get Profile",)
    assert latency.categories == before_after.categories == expected
    top = max(y for chart in (latency, before_after) for s in chart.series for _, y in s.points)
    assert top == (950.0 if under_test else 120.0)
    assert bool(latency.note) == bool(before_after.note) == (not under_test)


@pytest.mark.django_db
def test_an_open_levels_workers_are_those_busy_in_requests():
    run = with_login()
    open_level = {"model": models.LoadLevel.Model.OPEN, "rate": 40.0, "window_s": 10.0}
    add_level(run, 8, 40.0, 50.0, lateness={"late_while_idle": 0, "busy_s": 25.0}, **open_level)
    add_level(run, 8, 40.0, 50.0, mean_ms=100.0, **open_level)  # stored before busy_s was

    figure = charts.whole_run(StoredRun.of(run))
    workers = figure.panels[-1].series[0].points

    # 25 s inside requests over a 10 s window; else throughput × mean latency (40/s × 0.1 s).
    assert [y for _, y in workers if y is not None] == [1, 1, 2.5, 2.5, 4.0, 4.0]


@pytest.mark.django_db
def test_one_resource_sample_is_no_chart_over_time():
    run = with_login()
    add_samples(run, rss_mb=[100.0], cpu=[50.0])
    one = StoredRun.of(run)
    add_samples(run, rss_mb=[100.0, 120.0], cpu=[50.0, 60.0], step_s=1.0)

    assert charts.rss(one) is None and charts.cpu(one) is None
    assert charts.rss(StoredRun.of(run)) is not None
