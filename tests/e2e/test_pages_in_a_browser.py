"""The pages as a person sees them: Debian's Chromium through Playwright, wide, narrow, dark and
printed.

One real in-process load run of the stand-in is stored for the module, red (a threshold no
answer can pass), its login hashing with the project's own hasher (so it is the slowest
request, as on a real platform), with its HTML report written to a file, and an earlier copy
of its rows as its baseline, so the admin has a comparison and an endpoint history to show;
beside it a stored capacity search (``stored_rows.capacity_run``, judged as a run is) and its
HTML report. gunicorn serves the project's own
settings over the same database (the admin's CSS comes from WhiteNoise, as under
``runserver``), and one browser opens the run list, the run page, the comparison and the HTML
report at 1400 px and at 400 px, in the light and the dark scheme, and prints the report to
PDF with ``chromium --print-to-pdf`` (text read back with poppler's ``pdftotext``).
Screenshots are saved under each test's temporary folder.

The helpers are what a later check needs: ``Viewer.open`` (a page at a width and scheme),
``widest`` (sideways overflow), ``top_of`` (a first screen within 900 px), ``contrasts``
(readable colours), ``table_headers`` with ``pdf_words`` and ``missing_columns`` (a column
left out). Playwright's sync API runs an event loop in this thread, during which Django
refuses ORM calls, so everything expected is read from the database before any page opens.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django import db
from django.core.management import call_command
from django.test import override_settings

from perftest import models
from perftest.analysis.rules.capacity import CAPACITY
from perftest.reports.charts.whole_run import PANELS
from perftest.text import ms
from tests.support.chromium import CHROMIUM, CHROMIUM_ARGS, needs_chromium, staff_session
from tests.support.live_server import run_gunicorn, shared_database_url  # noqa: F401
from tests.support.passwords import PROJECT_HASHERS
from tests.support.stored_rows import analyzed, capacity_run

PDFTOTEXT = shutil.which("pdftotext")
pytestmark = [
    needs_chromium,
    # The test database is set up for the module's stored runs; a test itself reads none
    # (not transactional: a transactional test's flush would empty the module's rows).
    pytest.mark.django_db,
]

#: A small real load run that is red: a threshold no answer can pass.
RED_RUN = [
    *("--endpoints", "Login,Get Profile,Get Lessons", "--iterations", "5", "--warmup", "1"),
    *("--concurrency", "1,2", "--duration", "1", "--threshold", "p95 < 0.001ms"),
    *("--format", "html", "--label", "red load run", "--exit-zero"),
]
WIDE, NARROW = 1400, 400
#: WCAG's least contrast for body text (AA).
READABLE = 4.5
TIMEOUT_MS = 60_000


@dataclass(frozen=True)
class Site:
    """The stored runs as the browser reaches them: the server, the pages' addresses, the
    HTML report's file and the staff session's cookie."""

    base_url: str
    run: int
    baseline: int
    report: Path
    session: str
    #: The stored capacity search, its HTML report and its headline.
    search: int
    search_report: Path
    capacity: str
    #: The red run's worst p95 among the endpoints under test, and the login's, as shown.
    worst_p95: str
    login_p95: str

    @property
    def pages(self) -> dict[str, str]:
        """Every page a person opens, by name."""
        admin = f"{self.base_url}/admin/perftest/run/"
        return {
            "run-list": admin,
            "run-page": f"{admin}{self.run}/change/",
            "comparison": f"{admin}{self.run}/compare/{self.baseline}/",
            "history": f"{admin}{self.run}/endpoint-history/",
            "html-report": self.report.as_uri(),
            "search-page": f"{admin}{self.search}/change/",
            "search-report": self.search_report.as_uri(),
        }


def earlier_copy(run: models.Run) -> models.Run:
    """``run``'s rows stored again as a run an hour earlier: a completed run of the same target
    and plan, so the run page offers the comparison and the compare page has a baseline."""
    levels, endpoints = list(run.levels.all()), list(run.endpoints.all())
    samples, findings = list(run.resource_samples.all()), list(run.findings.all())
    copy = models.Run.objects.get(pk=run.pk)
    copy.pk = None
    copy.label = "baseline"
    copy.started_at -= dt.timedelta(hours=1)
    copy.finished_at -= dt.timedelta(hours=1)
    copy.save()
    copied_levels = {}
    for level in levels:
        old = level.pk
        level.pk, level.run = None, copy
        level.save()
        copied_levels[old] = level
    for row in (*endpoints, *samples, *findings):
        row.pk, row.run = None, copy
        if isinstance(row, models.EndpointResult) and row.level_id is not None:
            row.level = copied_levels[row.level_id]
        row.save()
    return copy


@pytest.fixture(scope="module")
def site(shared_database_url, django_db_blocker, tmp_path_factory) -> Iterator[Site]:  # noqa: F811
    out = tmp_path_factory.mktemp("reports")
    with django_db_blocker.unblock():
        with override_settings(PASSWORD_HASHERS=PROJECT_HASHERS):
            call_command("perftest", "--output", str(out), *RED_RUN, stdout=io.StringIO())
        run = models.Run.objects.latest("pk")
        assert run.verdict == "RED"
        baseline = earlier_copy(run)
        search = capacity_run(label="capacity search")
        (capacity,) = [f.title for f in analyzed(search) if f.rule == CAPACITY]
        call_command("perftest_report", str(search.pk), "--format", "html", "--output", str(out))
        sequential = run.endpoints.filter(phase="sequential")
        login = sequential.get(name="Login")
        worst = max(sequential.exclude(name="Login"), key=lambda row: row.p95_ms)
        session = staff_session()
    try:
        with run_gunicorn(shared_database_url, workers=1, threads=2) as server:
            yield Site(
                server.base_url,
                run.pk,
                baseline.pk,
                out / f"run-{run.pk}.html",
                session,
                search.pk,
                out / f"run-{search.pk}.html",
                capacity.removeprefix("Capacity: "),
                ms(worst.p95_ms),
                ms(login.p95_ms),
            )
    finally:
        with django_db_blocker.unblock():
            call_command("flush", interactive=False, verbosity=0)


@pytest.fixture(scope="module")
def browser(site):
    """One Chromium for the module, started once the site is stored and closed before the
    site's rows are flushed.

    Playwright's sync API keeps an event loop in this thread between calls, and Django's guard
    then refuses every ORM call here, pytest-django's own transaction around each test among
    them (which reads and writes no row the browser sees). Django's documented switch for an
    event loop that shares the thread lifts the guard while the browser is open. Django keeps
    the connections opened meanwhile apart from the thread's own (the loop is another
    context), so they are closed before the loop ends, or the test database could not be
    dropped."""
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
        db.connections.close_all()


class Viewer:
    """A person at one screen width and colour scheme, logged in to the admin."""

    def __init__(self, browser, site: Site, width: int, scheme: str = "light") -> None:
        self.context = browser.new_context(
            viewport={"width": width, "height": 900}, color_scheme=scheme
        )
        self.context.set_default_timeout(TIMEOUT_MS)
        self.context.add_cookies(
            [{"name": "sessionid", "value": site.session, "url": f"{site.base_url}/"}]
        )
        self.site = site

    def open(self, name: str):
        """The page called ``name`` in ``Site.pages``, loaded."""
        page = self.context.new_page()
        response = page.goto(self.site.pages[name])
        assert response is None or response.ok, f"{name}: {response.status}"
        page.wait_for_load_state()
        return page

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def viewer(browser, site) -> Iterator:
    """``viewer(width, scheme)``: a new person's browser window; closed after the test."""
    opened: list[Viewer] = []

    def make(width: int, scheme: str = "light") -> Viewer:
        opened.append(Viewer(browser, site, width, scheme))
        return opened[-1]

    yield make
    for each in opened:
        each.close()


#: The page's titles that a button of the page (reports, comparison, history) lies over.
COVERED_JS = """
() => {
  const boxes = [...document.querySelectorAll(".object-tools a")]
    .map(a => a.getBoundingClientRect());
  const over = (a, b) =>
    a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  return [...document.querySelectorAll("#content > h1, #content > h2")]
    .filter(title => boxes.some(box => over(box, title.getBoundingClientRect())))
    .map(title => title.innerText);
}
"""


def covered_titles(page) -> list[str]:
    """The titles of the page a button covers (none on a page a person can read)."""
    return page.evaluate(COVERED_JS)


def widest(page) -> int:
    """How wide the page is laid out, in CSS pixels: wider than the window scrolls sideways."""
    return page.evaluate("document.documentElement.scrollWidth")


def top_of(page, selector: str) -> float:
    """Where the first element matching ``selector`` starts, from the top of the page."""
    return page.locator(selector).first.evaluate(
        "e => e.getBoundingClientRect().top + window.scrollY"
    )


#: Each element's text colour and the colour behind it, both as the eye gets them: the
#: backgrounds of the element and its ancestors composited until one is opaque (the
#: canvas's own colour under all of them).
COLOURS_JS = """
elements => {
  const rgba = text => {
    const [r, g, b, a] = text.match(/[\\d.]+/g).map(Number);
    return [r, g, b, a === undefined ? 1 : a];
  };
  const over = (top, below) => {
    const a = top[3];
    return [0, 1, 2].map(i => top[i] * a + below[i] * (1 - a)).concat([1]);
  };
  const canvas = matchMedia("(prefers-color-scheme: dark)").matches
    && getComputedStyle(document.documentElement).colorScheme.includes("dark")
    ? [18, 18, 18, 1] : [255, 255, 255, 1];
  return elements.map(element => {
    const layers = [];
    for (let e = element; e; e = e.parentElement) {
      const background = rgba(getComputedStyle(e).backgroundColor);
      if (background[3] > 0) layers.push(background);
      if (background[3] === 1) break;
    }
    let behind = canvas;
    for (const layer of layers.reverse()) behind = over(layer, behind);
    const text = over(rgba(getComputedStyle(element).color), behind);
    return {text: element.innerText.trim().slice(0, 60), fg: text, bg: behind};
  });
}
"""


def luminance(rgb: list[float]) -> float:
    """WCAG's relative luminance of an sRGB colour (0-255 channels)."""

    def linear(channel: float) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(fg: list[float], bg: list[float]) -> float:
    """WCAG's contrast ratio of two colours, 1 to 21."""
    light, dark = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def contrasts(page, selector: str) -> list[tuple[str, float]]:
    """Every element matching ``selector`` that has text: its text and its contrast ratio."""
    found = page.locator(selector).evaluate_all(COLOURS_JS)
    return [(each["text"], contrast(each["fg"], each["bg"])) for each in found if each["text"]]


class Headers(HTMLParser):
    """The column headers of every table of a page, table by table (a header's parts, e.g.
    the lines of a history column's head, joined by spaces)."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[str]] = []
        self._header: list[str] | None = None
        self.feed(page)

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "th":
            self._header = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "th" and self._header is not None:
            self.tables[-1].append(" ".join(" ".join(self._header).split()))
            self._header = None

    def handle_data(self, data: str) -> None:
        if self._header is not None:
            self._header.append(data)


def table_headers(page: str) -> list[list[str]]:
    return Headers(page).tables


def print_to_pdf(page: Path, pdf: Path) -> None:
    """``page`` printed by Chromium as a person's "Save as PDF" prints it (print media)."""
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            *CHROMIUM_ARGS,
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=TIMEOUT_MS / 1000,
    )


@dataclass(frozen=True)
class Word:
    """A word printed in a PDF, with its box (points from the page's top left)."""

    text: str
    left: float
    top: float
    right: float
    bottom: float


WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>'
)


def pdf_words(pdf: Path) -> list[list[Word]]:
    """The words of each page of the PDF where poppler finds them (``pdftotext -bbox``)."""
    boxes = subprocess.run(
        [PDFTOTEXT, "-bbox", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    return [
        [
            Word(html.unescape(text), float(left), float(top), float(right), float(bottom))
            for left, top, right, bottom, text in WORD.findall(page)
        ]
        for page in boxes.split("<page ")[1:]
    ]


def _run_on_its_line(page: list[Word], word: Word, rest: list[str]) -> tuple[Word, int]:
    """How many of the words ``rest`` follow ``word`` on its line, each the next word to the
    right (case aside: the admin prints headers in capitals), and the last of them."""
    last, taken = word, 0
    while taken < len(rest):
        following = [w for w in page if abs(w.top - last.top) < 1 and w.left > last.right]
        if not following:
            break
        after = min(following, key=lambda w: w.left)
        if after.text.casefold() != rest[taken].casefold():
            break
        last, taken = after, taken + 1
    return last, taken


def _wrapped_below(
    page: list[Word], last: Word, span: tuple[float, float], rest: list[str]
) -> bool:
    """Whether the words ``rest`` go on, on the lines below ``last``, each line's part under
    the part above it (the cell they wrap in, left- or right-aligned)."""
    if not rest:
        return True
    height = last.bottom - last.top
    below = [w for w in page if last.top + height / 2 < w.top < last.top + 2 * height]
    if not below:
        return False
    line = min(w.top for w in below)
    for word in below:
        if abs(word.top - line) >= 1 or word.text.casefold() != rest[0].casefold():
            continue
        end, taken = _run_on_its_line(page, word, rest[1:])
        under = word.left <= span[1] + 1 and end.right >= span[0] - 1
        if under and _wrapped_below(page, end, (word.left, end.right), rest[1 + taken :]):
            return True
    return False


def _header_at(page: list[Word], top: float, header: str) -> bool:
    """Whether ``header`` is printed whole with its first word on the line at ``top``."""
    first, *rest = header.split()
    for word in page:
        if abs(word.top - top) < 1 and word.text.casefold() == first.casefold():
            end, taken = _run_on_its_line(page, word, rest)
            if _wrapped_below(page, end, (word.left, end.right), rest[taken:]):
                return True
    return False


def missing_columns(pages: list[list[Word]], tables: list[list[str]]) -> list[tuple[int, str]]:
    """The column headers a printed PDF lost, as (table number, header): each table's headers
    must all be printed on one header row (its cells top-aligned), the rows in the tables'
    order; a table whose row is not found whole lists what its best row lacks."""
    missing: list[tuple[int, str]] = []
    after = (-1, -1.0)
    for number, headers in enumerate(tables, 1):
        first = headers[0].split()[0].casefold()
        rows = sorted(
            {
                (index, word.top)
                for index, page in enumerate(pages)
                for word in page
                if word.text.casefold() == first
            }
        )
        lacking = [
            (row, [h for h in headers if not _header_at(pages[row[0]], row[1], h)])
            for row in rows
            if row > after
        ]
        whole = [row for row, lacks in lacking if not lacks]
        if whole:
            after = whole[0]
        else:
            best = min((lacks for _, lacks in lacking), key=len, default=headers)
            missing += [(number, header) for header in best]
    return missing


@pytest.mark.parametrize("width", [WIDE, NARROW])
def test_no_page_is_wider_than_the_screen_and_wide_tables_scroll_in_their_box(
    viewer, width, tmp_path
):
    person = viewer(width)
    for name in person.site.pages:
        page = person.open(name)
        page.screenshot(path=tmp_path / f"{name}-{width}.png", full_page=width == NARROW)
        assert widest(page) <= width, f"{name} is {widest(page)} px wide at {width} px"
        # Nothing a person reads is cut off by its box: a verdict, a recommendation, a reason.
        clipped = page.locator(".perftest-verdict, .perftest-summary, td, li, p").evaluate_all(
            "es => es.filter(e => e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0)"
            ".map(e => e.innerText.slice(0, 60))"
        )
        assert clipped == [], f"{name} at {width} px clips {clipped}"
        assert covered_titles(page) == [], f"{name} at {width} px: buttons cover the title"


def test_a_narrow_screen_shows_each_runs_verdict_without_scrolling_sideways(viewer):
    person = viewer(NARROW)
    listed = person.open("run-list")
    # The admin's own stylesheet is served (WhiteNoise): its header has its colour.
    header = listed.locator("#header").evaluate("e => getComputedStyle(e).backgroundColor")
    assert header not in ("rgba(0, 0, 0, 0)", "transparent")
    verdicts = listed.locator("#result_list td.field-verdict")
    assert verdicts.count() == 3
    box = verdicts.first.bounding_box()
    assert box["x"] + min(box["width"], 100) <= NARROW, "the verdict starts off the screen"
    assert listed.locator("#result_list td.field-verdict .perftest-badge").first.is_visible()
    run_page = person.open("run-page")
    line = run_page.locator("#verdict .perftest-verdict-line")
    assert top_of(run_page, "#verdict .perftest-verdict-line") < 900
    box = line.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= NARROW


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_findings_badges_and_reports_are_readable_in_either_colour_scheme(viewer, scheme, tmp_path):
    person = viewer(WIDE, scheme)
    run_page = person.open("run-page")
    run_page.locator("#findings").screenshot(path=tmp_path / f"findings-{scheme}.png")
    evidence = contrasts(run_page, "tr.perftest-detail td")
    assert evidence, "the red run's findings have evidence rows"
    read_on_the_run_page = (
        "tr.perftest-detail td, #findings td, #thresholds td, .perftest-badge, "
        ".perftest-summary p, .perftest-summary li, .perftest-reason, #endpoint-results td"
    )
    report = person.open("html-report")
    report.screenshot(path=tmp_path / f"html-report-{scheme}.png")
    comparison = person.open("comparison")
    comparison.screenshot(path=tmp_path / f"comparison-{scheme}.png")
    history = person.open("history")
    history.screenshot(path=tmp_path / f"history-{scheme}.png")
    unreadable = [
        (name, text, round(ratio, 2))
        for name, page, selector in (
            ("run page", run_page, read_on_the_run_page),
            ("HTML report", report, "p, li, td, th, h1, h2, h3, footer, h1 + p > strong"),
            ("comparison", comparison, "#comparison p, #comparison td, .perftest-reason"),
            ("history", history, "#content td, #content th, #content p, #content li"),
        )
        for text, ratio in contrasts(page, selector)
        if ratio < READABLE
    ]
    assert unreadable == []


@pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext is missing: apt-get install poppler-utils")
def test_the_html_report_printed_to_pdf_keeps_every_column_of_every_table(site, tmp_path):
    headers = table_headers(site.report.read_text(encoding="utf-8"))
    assert len(headers) >= 3, "the load run's report has endpoint, load and threshold tables"
    pdf = tmp_path / "report.pdf"
    print_to_pdf(site.report, pdf)
    assert missing_columns(pdf_words(pdf), headers) == []


@pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext is missing: apt-get install poppler-utils")
def test_the_run_page_printed_to_pdf_keeps_every_column_and_opens_what_was_folded(viewer, tmp_path):
    page = viewer(WIDE).open("run-page")
    headers = table_headers(page.locator("#content").inner_html())
    assert ["Seconds in", "RSS", "CPU (% of all cores)", "Threads", "Open files"] in headers
    pdf = tmp_path / "run-page.pdf"
    page.pdf(path=pdf, prefer_css_page_size=True)
    assert missing_columns(pdf_words(pdf), headers) == []


@pytest.mark.parametrize("width", [WIDE, NARROW])
def test_the_verdict_and_the_capacity_are_on_the_first_screen(viewer, width, tmp_path):
    person = viewer(width)
    for name, verdict in (
        ("run-page", "#verdict .perftest-verdict-line"),
        ("search-page", "#verdict .perftest-verdict-line"),
        ("search-report", "h1 + p"),
    ):
        page = person.open(name)
        page.screenshot(path=tmp_path / f"{name}-{width}.png")
        assert top_of(page, verdict) < 900, name
    for name in ("search-page", "search-report"):
        page = person.open(name)
        capacity = page.get_by_text(person.site.capacity, exact=False).first
        assert capacity.is_visible(), name
        assert top_of(page, f"text={person.site.capacity}") < 900, name


def test_the_login_is_never_the_slowest_endpoint_nor_the_worst_p95(viewer, site):
    # The login hashed with the project's own hasher: by far the slowest request of the run.
    listed = viewer(WIDE).open("run-list")
    red = listed.locator("#result_list tr", has_text="red load run")
    worst = red.locator("td.field-worst_p95").inner_text().strip()
    assert worst == site.worst_p95 and worst != site.login_p95
    run_page = viewer(WIDE).open("run-page")
    login = run_page.locator("#endpoint-results tr", has_text="POST /api/auth/login/")
    assert login.count() >= 1, "the login was measured"
    first_screen = run_page.locator("#first-screen").inner_text()
    slowest = next(line for line in first_screen.splitlines() if "Slowest endpoint" in line)
    assert "Login" not in slowest and ("Get Profile" in slowest or "Get Lessons" in slowest)
    report = viewer(WIDE).open("html-report")
    answer = report.locator("li", has_text="Slowest endpoint").first.inner_text()
    assert "Login" not in answer


@pytest.mark.parametrize("name", ["run-page", "html-report"])
def test_the_whole_run_chart_draws_each_figure_once_and_marks_every_level(viewer, name):
    page = viewer(WIDE).open(name)
    figure = page.locator("figure#whole-run")
    assert figure.count() == 1 and figure.is_visible()
    series = figure.locator("g.series").evaluate_all("gs => gs.map(g => g.dataset.series)")
    assert series == [figure_name for _, panel in PANELS for figure_name, _ in panel]
    marks = figure.locator("g.phase-marker").evaluate_all("gs => gs.map(g => g.dataset.label)")
    # The sequential pass and the red run's two levels (1 and 2 concurrent), in the order run.
    assert marks == ["sequential pass", "level 1: 1 concurrent", "level 2: 2 concurrent"]
