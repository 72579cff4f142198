"""The admin as a person sees it: headless Chromium, driven by Playwright, on a real server.

Two real in-process runs of the stand-in (sequential pass and two closed levels, a threshold
that fails) are stored first; then gunicorn serves the project on a loopback port over the
same database (the admin's CSS from the project's WhiteNoise, as a deployment serves it), and
Debian's Chromium (``/usr/bin/chromium``; Playwright never downloads a browser here) logs a
staff user in through the admin's login form, opens the run list, a run, its HTML report and
the comparison of the two runs, checking the values in the tables, the SVG charts in the DOM,
the colour of the failed threshold, and the verdict of the red runs (a red status badge and
the verdict line in the list and on the run page). A user who is not staff is refused.
Screenshots are saved under the test's temporary folder.

Playwright's sync API runs an event loop in this thread, during which Django refuses ORM
calls; so everything expected is read from the database before the browser starts, and the
server runs in its own process.
"""

from __future__ import annotations

import io
import os

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import call_command

from perftest import models
from perftest.admin import drawing
from perftest.analysis.metrics import P95
from perftest.store import read, vocabulary
from perftest.text import quantity
from tests.support.live_server import run_gunicorn, shared_database_url  # noqa: F401

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM),
    reason=f"{CHROMIUM} is missing: `apt-get install -y chromium` (.ci/run does it)",
)

REAL_RUN = [
    *("--endpoints", "Get Profile,Get Lessons", "--iterations", "5", "--warmup", "1"),
    *("--concurrency", "1,2", "--duration", "1", "--threshold", "p95 < 0.001ms", "--exit-zero"),
]
PASSWORD = "a-long-browser-test-password"
#: The colour the admin gives a failed threshold's text (``admin/perftest/styles.html``).
FAILED_RED = "rgb(176, 0, 32)"
TIMEOUT_MS = 60_000


def real_run(tmp_path, label: str) -> read.StoredRun:
    call_command(
        "perftest", "--output", str(tmp_path), "--label", label, *REAL_RUN,
        stdout=io.StringIO(),
    )  # fmt: skip
    return read.load(models.Run.objects.latest("pk").pk)


def account(name: str, *, staff: bool) -> None:
    person = get_user_model().objects.create_user(
        name, f"{name}@example.invalid", PASSWORD, is_staff=staff
    )
    person.user_permissions.set(Permission.objects.filter(codename="view_run"))


def log_in(page, base_url: str, name: str) -> None:
    page.goto(f"{base_url}/admin/login/?next=/admin/perftest/run/")
    page.fill("#id_username", name)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("input[type=submit]")


def texts(page, selector: str) -> list[str]:
    return [text.strip() for text in page.locator(selector).all_inner_texts()]


@pytest.mark.django_db(transaction=True)
def test_a_staff_user_reads_and_compares_runs_in_chromium_and_a_visitor_is_refused(
    shared_database_url,  # noqa: F811
    tmp_path,
):
    from playwright.sync_api import sync_playwright

    before = real_run(tmp_path, "before")
    after = real_run(tmp_path, "after")
    account("reader", staff=True)
    account("visitor", staff=False)
    # What a person must see, read from the stored runs before the browser starts.
    p95_cells = {e.name: P95.text(e) for e in vocabulary.judged(after.sequential)}
    chart_titles = [chart.title for chart in drawing.drawn(after)]
    failed = [f for f in after.findings if f.kind == "threshold" and f.passed is False]
    assert len(p95_cells) == 2 and len(chart_titles) >= 3 and failed
    # Both runs are red (a threshold no answer can pass): the verdict line each page shows.
    reasons = after.row.verdict_reasons
    assert after.row.verdict == "RED" and reasons[0].startswith("FAIL: ")
    listed_verdict = f"RED — {quantity(len(reasons), 'reason')}: {reasons[0]}"
    page_verdict = f"RED — {quantity(len(reasons), 'reason')}: {'; '.join(reasons[:3])}"

    with (
        run_gunicorn(shared_database_url, workers=1, threads=2) as server,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context(viewport={"width": 1800, "height": 1000})
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()

        log_in(page, server.base_url, "reader")
        assert page.url == f"{server.base_url}/admin/perftest/run/"
        assert texts(page, "#result_list td.field-label") == ["after", "before"]
        assert texts(page, "#result_list td.field-status") == ["completed", "completed"]
        # A red run's status badge is red, never green, and its verdict is in its own column.
        badges = page.locator("#result_list td.field-status .perftest-badge")
        assert (
            badges.evaluate_all("bs => bs.map(b => b.className)")
            == ["perftest-badge perftest-bad"] * 2
        )
        assert badges.first.evaluate("e => getComputedStyle(e).color") == FAILED_RED
        verdict_cell = page.locator("#result_list td.field-verdict").first
        assert verdict_cell.inner_text().startswith(listed_verdict)
        word = verdict_cell.locator(".perftest-badge")
        assert word.inner_text() == "RED"
        assert word.evaluate("e => getComputedStyle(e).color") == FAILED_RED
        red = page.locator("#result_list td.field-thresholds .perftest-bad").first
        assert red.inner_text() == str(len(failed))
        assert red.evaluate("e => getComputedStyle(e).color") == FAILED_RED
        page.screenshot(path=tmp_path / "run-list.png", full_page=True)

        with page.expect_navigation():
            page.click(f"#result_list a[href$='/admin/perftest/run/{after.pk}/change/']")
        assert f"Run #{after.pk}, after" in page.locator("#content h1").inner_text()
        # The verdict is the first thing under the page's title, above the summary.
        line = page.locator("#verdict .perftest-verdict-line")
        assert line.inner_text().startswith(page_verdict)
        assert (
            line.locator(".perftest-badge").evaluate("e => getComputedStyle(e).color") == FAILED_RED
        )
        above = page.locator("#verdict").evaluate(
            "v => !!(v.compareDocumentPosition(document.querySelector('.perftest-summary')) & 4)"
        )
        assert above, "the verdict comes before the executive summary"
        endpoints = page.locator("#endpoint-results tbody tr")
        for name, p95 in p95_cells.items():
            row = endpoints.filter(has_text=name).first
            assert p95 in row.inner_text().split("\t")
        assert page.locator("#charts svg").count() == len(chart_titles)
        shown = page.locator("#charts figure").evaluate_all(
            "figures => figures.map(f => f.getAttribute('aria-label'))"
        )
        assert shown == chart_titles
        verdict = page.locator("#thresholds tr.perftest-failed td.perftest-verdict").first
        assert verdict.inner_text() == "FAIL"
        assert verdict.evaluate("e => getComputedStyle(e).color") == FAILED_RED
        page.screenshot(path=tmp_path / "run-page.png", full_page=True)
        page.locator("#thresholds").screenshot(path=tmp_path / "thresholds.png")

        with context.expect_page() as opened:
            page.click("text=Open the HTML report")
        report = opened.value
        report.wait_for_load_state()
        assert report.title().startswith(f"Performance report: run #{after.pk}")
        assert report.locator("figure.chart svg").count() == len(chart_titles)
        report.screenshot(path=tmp_path / "html-report.png", full_page=True)
        report.close()

        page.goto(f"{server.base_url}/admin/perftest/run/")
        page.check(f"input[name=_selected_action][value='{before.pk}']")
        page.check(f"input[name=_selected_action][value='{after.pk}']")
        page.select_option("select[name=action]", "compare_runs")
        with page.expect_navigation(url=f"**/run/{after.pk}/compare/{before.pk}/"):
            page.click("button[name=index]")
        assert page.url.endswith(f"/admin/perftest/run/{after.pk}/compare/{before.pk}/")
        assert page.locator("#comparison h2").first.inner_text() == (
            f"Compared with run #{before.pk}"
        )
        assert page.locator("figure.perftest-chart svg").count() == 1
        assert "bootstrap" in page.locator("#noise-rule").inner_text()
        page.screenshot(path=tmp_path / "comparison.png", full_page=True)

        visitor = browser.new_context()
        refused = visitor.new_page()
        log_in(refused, server.base_url, "visitor")
        assert "/admin/login/" in refused.url
        assert "staff account" in refused.locator(".errornote").inner_text()
        refused.goto(f"{server.base_url}/admin/perftest/run/{after.pk}/report/html/")
        assert "/admin/login/" in refused.url
        refused.screenshot(path=tmp_path / "visitor-refused.png")
        browser.close()

    shots = ("run-list", "run-page", "thresholds", "html-report", "comparison", "visitor-refused")
    for name in shots:
        assert (tmp_path / f"{name}.png").stat().st_size > 0
