"""The HTML report: one self-contained page from the report's sections, with SVG charts.

A real in-process run with two closed levels gives every chart data; stored rows built with
the ORM prove the knee mark, the per-process series and that stored text cannot inject markup.
The page is opened in Debian's headless Chromium, which must find the charts in its DOM.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
from html.parser import HTMLParser

import pytest
from django.core.management import call_command

from perftest import models
from perftest.analysis.rules import scaling as scaling_rules
from perftest.reports import charts, formats, html, markdown
from perftest.store import read
from perftest.store.read import StoredRun
from perftest.text import MB, level_label
from tests.support.old_runs import RUNS
from tests.support.report_checks import CHROMIUM, svg_titles
from tests.support.stored_rows import (
    add_endpoint,
    add_level,
    analyzed,
    curve_with_a_knee_at_30,
    load_run,
    make_run,
)

#: Two closed levels so the scaling chart has a curve; two light endpoints keep it short.
REAL_RUN = [
    "--endpoints",
    "Get Profile,Get Lessons",
    "--warmup",
    "1",
    "--iterations",
    "5",
    "--concurrency",
    "1,2",
    "--duration",
    "1",
]
CHART_TITLES = [
    "Latency percentiles per endpoint (sequential)",
    "Throughput as expected and p95 against concurrency",
    "RSS over time per process",
    "CPU over time per process",
]
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture
def real_run(tmp_path) -> StoredRun:
    """A real in-process run of the stand-in API: sequential pass and two closed levels."""
    call_command("perftest", "--output", str(tmp_path), *REAL_RUN, stdout=io.StringIO())
    return StoredRun.of(models.Run.objects.latest("pk"))


def real_titles(stored: StoredRun) -> list[str]:
    """CHART_TITLES with, after the latency bars, the whole run over time and the over-time
    chart of each level whose stored windows are two or more (a level of 1 s nearly always
    spans two)."""
    over_time = [
        f"p50 and p95 over time, {level_label(level)}"
        for level in stored.levels
        if len(level.windows.get("windows", ())) >= 2
    ]
    return [CHART_TITLES[0], "The whole run over time", *over_time, *CHART_TITLES[1:]]


class Tags(HTMLParser):
    """Every start tag of a page with its attributes, as a browser's parser sees them."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def external_references(page: str) -> list[str]:
    """What the page would fetch or run: scripts, stylesheets, images, fonts, frames."""
    found = []
    for tag, attrs in Tags(page).tags:
        if tag in ("script", "link", "iframe", "object", "embed", "img"):
            found.append(tag)
        found += [f"{tag} {name}" for name in attrs if name.startswith("on")]
        found += [
            f"{tag} {name}={value}"
            for name, value in attrs.items()
            if name in ("src", "href", "xlink:href") and value and not value.startswith("#")
        ]
    return found + re.findall(r"url\((?!#)[^)]*\)|@import", page)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_html_report_of_a_real_run_draws_every_chart_and_fetches_nothing(real_run, tmp_path):
    path = formats.write(real_run, formats.FORMATS["html"], tmp_path / "out")
    page = path.read_text(encoding="utf-8")

    assert path.name == f"run-{real_run.pk}.html"
    assert svg_titles(page) == real_titles(real_run)
    assert external_references(page) == []
    # The words are the Markdown report's: every section heading is there, in order.
    headings = re.findall(r"^#+ (.*)$", markdown.render(real_run), flags=re.M)
    html_headings = re.findall(r"<h[1-3][^>]*>(.*?)</h[1-3]>", page)
    assert html_headings == headings
    # Each endpoint's bars are its stored p50 / p95 / p99, in the table's order.
    latency = charts.latencies(real_run)
    assert latency.categories == ("Get Profile", "Get Lessons")
    assert [s.name for s in latency.series] == ["p50", "p95", "p99"]
    assert [y for _, y in latency.series[1].points] == [e.p95_ms for e in real_run.sequential]
    throughput = charts.scaling(real_run).panels[0].series[0]
    assert [x for x, _ in throughput.points] == [1, 2]
    assert [y for _, y in throughput.points] == [level.ok_throughput for level in real_run.levels]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_re_rendering_a_stored_run_gives_the_same_bytes(real_run, tmp_path):
    written = formats.write(real_run, formats.FORMATS["html"], tmp_path / "out").read_bytes()
    again = StoredRun.of(models.Run.objects.get(pk=real_run.pk))

    assert html.render(again).encode("utf-8") == written
    # pygal's random chart ids are pinned, so each chart's CSS is scoped to a stable id.
    over_time = [chart.key for chart in charts.over_time(real_run)]
    assert re.findall(r'<svg[^>]* id="(chart-[^"]+)"', written.decode()) == [
        f"chart-run{real_run.pk}-{key}"
        for key in ("latency", "whole-run", *over_time, "scaling", "rss", "cpu")
    ]


@pytest.mark.django_db
def test_stored_text_cannot_inject_markup_into_the_html_report():
    run = make_run(label=f"release {HOSTILE}")
    add_endpoint(
        run,
        f"Evil {HOSTILE}",
        p95_ms=5000.0,
        errors=[{"reason": HOSTILE, "count": 1, "example": "<img src=x onerror=alert(2)>"}],
        ok=19,
        status_counts={"200": 19, "500": 1},
        duplicate_queries=[
            {"sql": f"SELECT '</code>{HOSTILE}'", "max_per_request": 10, "requests": 20}
        ],
        queries_total=200,
        queries_max=10,
        sql_captured=True,
    )
    add_endpoint(run, "[click](javascript:alert(3)) *loud*")
    analyzed(run)
    page = html.render(StoredRun.of(run))

    assert external_references(page) == []
    assert not [
        v for _, attrs in Tags(page).tags for v in attrs.values() if v and "javascript" in v
    ]
    assert f"<h1>Performance report: run #{run.pk}, release &lt;script&gt;" in page
    assert "\\&lt;" not in page  # headings show the text, not Markdown's escapes
    assert "Example: &lt;img src=x onerror=alert(2)&gt;" in page
    assert "<em>loud</em>" not in page
    assert "Evil &lt;script&gt;alert(1)&lt;/script&gt;" in page  # shown, as text
    assert "[click](javascript:alert(3)) *loud*" in page
    assert "SELECT '&lt;/code&gt;&lt;script&gt;alert(1)&lt;/script&gt;'" in page
    # The chart labels are text nodes of the SVG, escaped by its XML writer.
    assert svg_titles(page) == CHART_TITLES[:1]
    assert "<text" in page and "Evil &lt;script&gt;" in page.split("<svg", 1)[1]


@pytest.mark.django_db
def test_the_scaling_chart_marks_the_knee_where_the_stored_finding_puts_it():
    run = curve_with_a_knee_at_30()
    found = analyzed(run)
    stored = StoredRun.of(run)
    chart = charts.scaling(stored)

    assert [f.subject for f in found if f.rule == scaling_rules.KNEE] == ["30 concurrent"]
    assert [(m.label, m.start, m.end) for m in chart.marks] == [("knee: 30 concurrent", 30, 30)]
    assert chart.x_ticks == (1, 10, 30, 50)
    # p95 in a plot of its own under the throughput's, no second axis beside it.
    assert [panel.y_title for panel in chart.panels] == ["answers/s", "latency (ms)"]
    assert chart.panels[1].series[0].points == ((1, 20.0), (10, 40.0), (30, 112.0), (50, 300.0))
    assert "knee: 30 concurrent" in html.render(stored)


@pytest.mark.django_db
def test_a_curve_without_a_stored_knee_marks_none():
    run = load_run()
    add_level(run, 1, 50.0, 20.0)
    add_level(run, 10, 400.0, 22.0)
    analyzed(run)

    chart = charts.scaling(StoredRun.of(run))

    assert chart.marks == ()
    assert [[s.name for s in panel.series] for panel in chart.panels] == [
        ["throughput as expected"],
        ["p95"],
    ]


@pytest.mark.django_db
def test_resource_charts_draw_each_measured_process_over_time():
    run = make_run(resource_cpu_count=2)
    readings = [  # offset, (pid 10 rss MB, cpu % of one core), (pid 11 ...)
        (0.0, (100, 0.0), (40, 0.0)),
        (1.0, (110, 80.0), (42, 20.0)),
        (2.0, (125, 120.0), (41, 10.0)),
    ]
    models.ResourceSample.objects.bulk_create(
        models.ResourceSample(
            run=run,
            offset_s=at,
            rss_bytes=(a[0] + b[0]) * MB,
            cpu_percent=a[1] + b[1],
            threads=4,
            open_files=3,
            processes=[
                {"pid": 11, "name": "gunicorn", "rss_bytes": b[0] * MB, "cpu_percent": b[1]},
                {"pid": 10, "name": "gunicorn", "rss_bytes": a[0] * MB, "cpu_percent": a[1]},
            ],
        )
        for at, a, b in readings
    )
    stored = StoredRun.of(run)

    rss, cpu = charts.rss(stored), charts.cpu(stored)

    assert [(s.name, s.points) for s in rss.series] == [
        ("gunicorn (pid 10)", ((0.0, 100.0), (1.0, 110.0), (2.0, 125.0))),
        ("gunicorn (pid 11)", ((0.0, 40.0), (1.0, 42.0), (2.0, 41.0))),
    ]
    # Percent of all (two) cores, as the resource table; a first reading has no CPU figure.
    assert [(s.name, s.points) for s in cpu.series] == [
        ("gunicorn (pid 10)", ((1.0, 40.0), (2.0, 60.0))),
        ("gunicorn (pid 11)", ((1.0, 10.0), (2.0, 5.0))),
    ]
    assert svg_titles(html.render(stored)) == CHART_TITLES[2:]


@pytest.mark.django_db
def test_a_run_without_figures_renders_its_reasons_and_no_empty_chart():
    run = make_run(status=models.Run.Status.FAILED, failure="the login was refused")
    add_endpoint(run, "Get Profile", requests=0, ok=0, not_measured="the login was refused")

    page = html.render(StoredRun.of(run))

    assert svg_titles(page) == []
    assert "the login was refused" in page


@pytest.mark.parametrize("pk", RUNS)
def test_a_run_stored_by_older_code_renders_as_html_the_same_twice(stored_runs, pk):
    page = html.render(read.load(pk))

    assert page == html.render(read.load(pk))
    assert external_references(page) == []
    assert "Latency percentiles per endpoint (sequential)" in svg_titles(page)


@pytest.mark.slow
@pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing: apt-get install -y chromium"
)
@pytest.mark.django_db(transaction=True)
def test_the_html_report_opens_in_headless_chromium_with_its_charts(real_run, tmp_path):
    path = formats.write(real_run, formats.FORMATS["html"], tmp_path / "out")
    browser = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    url = path.resolve().as_uri()

    dom = subprocess.run(
        [*browser, "--dump-dom", url], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    screenshot = tmp_path / "report.png"
    subprocess.run(
        [*browser, f"--screenshot={screenshot}", "--window-size=1280,2400", url],
        capture_output=True,
        timeout=120,
        check=True,
    )

    titles = real_titles(real_run)
    assert svg_titles(dom) == titles
    assert dom.count("<svg") == len(titles)
    assert "Performance report: run" in dom
    # Each chart drew its series: bars for the endpoints, a line and dots per series (the
    # whole run and the scaling curve are drawn by perftest: a group per series).
    drawn = [*charts.over_time(real_run), charts.rss(real_run), charts.cpu(real_run)]
    assert dom.count('class="rect reactive tooltip-trigger"') == 2 * 3
    assert dom.count('class="dot reactive tooltip-trigger"') == sum(
        len(series.points) for chart in drawn for series in chart.series
    )
    assert dom.count('<g class="series" data-series=') == 6 + 2
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert screenshot.stat().st_size > 50_000
