"""The verdict first, everywhere: RED, GREEN, REGRESSED or INTERRUPTED, the count of reasons
(one ``FAIL:`` or ``REGRESSION:`` line each) and the first reasons themselves.

Real in-process runs of ``manage.py perftest`` against the stand-in and the test views: a run
whose thresholds fail, a clean one, one with a query more per request than its baseline (an
exact figure: a regression on a busy machine too), one stopped by Ctrl-C. Each is checked on
every surface: the console's first line after the run (and its reason lines and last line),
the first block of the Markdown and HTML reports under their title, the JSON's ``verdict``
and the verdict stored on the run's row. Then lists of runs: stored rows of every verdict
(and runs never judged), judged as the runner judges them, in ``perftest_runs`` and the
admin's list, whose status badge takes the verdict's colour.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from perftest.analysis import verdict
from perftest.lifecycle import runner
from perftest.models import Run
from perftest.store import read
from perftest.text import quantity
from tests.support import views
from tests.support.admin_pages import LIST, cell, user
from tests.support.perftest_configs import ONE_VIEW
from tests.support.report_checks import validate
from tests.support.stored_rows import STARTED, add_endpoint, add_samples, make_run
from tests.support.text_tables import cells
from thebot_settings.settings import PERFTEST as THEBOT

pytestmark = pytest.mark.django_db

TWO_ENDPOINTS = ("--endpoints", "Get Profile,Get Lessons", "--iterations", "3", "--warmup", "0")
#: Four checks no answer can pass: four failed thresholds, one reason each.
IMPOSSIBLE = ("p95 < 0.001ms", "p50 < 0.001ms")
#: The progress lines printed while a run measures (no terminal: plain lines).
PROGRESS = re.compile(r"^\[\s*\d+\.\d+s\] ")


def perftest(tmp_path, *args: str) -> tuple[Run, list[str], CommandError | None]:
    """Run the command writing every format but JUnit; the stored run, the lines it printed
    after its progress lines, and the error it ended with (None when it exited 0)."""
    out = io.StringIO()
    try:
        call_command(
            "perftest", "--output", str(tmp_path), "--format", "md,json,html", *args, stdout=out
        )
        error = None
    except CommandError as raised:
        error = raised
    lines = [line for line in out.getvalue().splitlines() if not PROGRESS.match(line)]
    return Run.objects.latest("pk"), lines, error


def said(word: str, reasons: list[str]) -> str:
    """The verdict line as the issue asks for it: the word, the count of reasons, the first
    three of them and how many more."""
    if not reasons:
        return f"{word} — 0 reasons"
    more = f"; and {len(reasons) - 3} more" if len(reasons) > 3 else ""
    return f"{word} — {quantity(len(reasons), 'reason')}: {'; '.join(reasons[:3])}{more}"


def first_blocks(tmp_path, run: Run) -> tuple[str, str]:
    """The Markdown block and the HTML paragraph right under each report's title, as text."""
    blocks = (tmp_path / f"run-{run.pk}.md").read_text().split("\n\n")
    assert blocks[0].startswith(f"# Performance report: run #{run.pk}")
    page = (tmp_path / f"run-{run.pk}.html").read_text()
    first = re.search(r"<h1>[^<]*</h1>\s*<p>(.*?)</p>", page, re.S)
    assert first, "the HTML report has no paragraph right under its title"
    return blocks[1], html.unescape(re.sub(r"<[^>]+>", "", first[1]))


def assert_verdict_first(tmp_path, run: Run, lines: list[str], word: str, code: int) -> list[str]:
    """Every surface opens with the run's verdict; returns its reasons."""
    reasons = list(verdict.of(read.load(run.pk)).reasons)
    line = said(word, reasons)
    assert lines[0] == line
    assert [x for x in lines if x.startswith(("FAIL: ", "REGRESSION: "))] == reasons
    markdown, page = first_blocks(tmp_path, run)
    assert markdown == f"**{word}**{line[len(word) :]}"
    assert page == line
    document = validate((tmp_path / f"run-{run.pk}.json").read_text())
    assert document["verdict"] == {
        "word": word,
        "exit_code": code,
        "reason_count": len(reasons),
        "reasons": reasons,
    }
    run.refresh_from_db()
    assert (run.verdict, run.verdict_reasons) == (word, reasons)
    return reasons


@pytest.mark.slow
def test_a_red_run_says_red_with_every_failed_threshold_counted_first_everywhere(tmp_path):
    thresholds = [arg for check in IMPOSSIBLE for arg in ("--threshold", check)]
    run, lines, error = perftest(tmp_path, *TWO_ENDPOINTS, *thresholds)

    assert error is not None and error.returncode == 1
    reasons = assert_verdict_first(tmp_path, run, lines, "RED", verdict.RED)
    # Four failed checks are four reasons, not one line "4 thresholds failed".
    failed = [r for r in reasons if r.endswith(" ms)") and "< 0.001 ms (actual " in r]
    assert len(failed) == 4 and len(reasons) >= 4
    assert lines[0].startswith(f"RED — {len(reasons)} reasons: {reasons[0]}; {reasons[1]}; ")
    assert lines[0].endswith(f"; and {len(reasons) - 3} more")
    assert str(error) == (
        f"Run #{run.pk} is red: {len(reasons)} reasons above (--exit-zero to exit 0 anyway)."
    )


@pytest.mark.slow
def test_a_green_run_says_green_first_everywhere(tmp_path):
    run, lines, error = perftest(tmp_path, *TWO_ENDPOINTS)

    assert error is None
    assert assert_verdict_first(tmp_path, run, lines, "GREEN", verdict.OK) == []
    assert lines[0] == "GREEN — 0 reasons"
    assert lines[-1].startswith(f"Run #{run.pk} completed. Report: ")


@pytest.mark.slow
@override_settings(ROOT_URLCONF="tests.support.urls", PERFTEST=ONE_VIEW)
def test_a_regressed_run_says_regressed_first_everywhere(tmp_path, monkeypatch):
    before, _, _ = perftest(tmp_path, "--iterations", "20", "--warmup", "1")
    monkeypatch.setattr(views, "TUNABLE_EXTRA_QUERIES", 1)

    run, lines, error = perftest(
        tmp_path, "--iterations", "20", "--warmup", "1",
        "--baseline", str(before.pk), "--fail-on-regression",
    )  # fmt: skip

    assert error is not None and error.returncode == 3
    reasons = assert_verdict_first(tmp_path, run, lines, "REGRESSED", verdict.REGRESSED)
    assert f"REGRESSION: Tunable: 1 more query per request than run #{before.pk}" in reasons
    assert all(reason.startswith("REGRESSION: ") for reason in reasons)
    assert str(error) == (
        f"Run #{run.pk} regressed: {quantity(len(reasons), 'reason')} above "
        "(--exit-zero to exit 0 anyway)."
    )


INTERRUPTED_PLAN: dict[str, Any] = {
    **THEBOT,
    "ENDPOINTS": [
        {"name": "Get Profile", "method": "GET", "path": "/api/profile/me/"},
        {"name": "Interrupt", "method": "GET", "path": "/test/interrupt/"},
        {"name": "Get Lessons", "method": "GET", "path": "/api/scheduling/lessons/"},
    ],
}


@override_settings(ROOT_URLCONF="tests.support.urls", PERFTEST=INTERRUPTED_PLAN)
def test_an_interrupted_run_says_interrupted_first_everywhere(tmp_path):
    run, lines, error = perftest(tmp_path, "--iterations", "3", "--warmup", "0")

    assert error is not None and error.returncode == 130
    assert run.status == Run.Status.INTERRUPTED
    reasons = assert_verdict_first(tmp_path, run, lines, "INTERRUPTED", verdict.INTERRUPTED)
    unreached = "FAIL: endpoint Get Lessons not measured: the run was interrupted before this "
    assert unreached in lines[0]
    assert str(error) == (
        f"Interrupted by SIGINT: run #{run.pk} stored as interrupted; "
        f"{quantity(len(reasons), 'reason')} above."
    )


def regression_against(baseline: Run) -> dict[str, Any]:
    """A stored comparison (``analysis.compare``'s shape) whose only change beyond noise is
    Get Profile's p95, 3.1 times slower than ``baseline``'s."""
    p95 = {
        "metric": "p95", "unit": "ms", "before": 4.1, "after": 12.6, "change": 12.6 / 4.1 - 1,
        "verdict": "regression", "basis": "samples", "why": "99% interval 2.9x to 3.3x",
    }  # fmt: skip
    return {
        "baseline": {"id": baseline.pk, "started_at": STARTED.isoformat(), "label": ""},
        "rows": [
            {
                "phase": "sequential",
                "level": None,
                "endpoint": "Get Profile",
                "metrics": [p95],
                "new_sql": [],
                "new_repeated": [],
            }  # fmt: skip
        ],
        "unmatched": [],
        "regressions": 1,
        "improvements": 0,
    }


def stored_run(label: str, minutes: int, *, judge: bool = True, **fields) -> Run:
    """A run of one endpoint with resource samples (its resource thresholds pass), judged as
    the runner judges a run that ended (findings, then the verdict), unless told not to."""
    endpoint = fields.pop("endpoint", {})
    run = make_run(label=label, started_at=STARTED + dt.timedelta(minutes=minutes), **fields)
    add_endpoint(run, "Get Profile", **endpoint)
    add_samples(run, [100.0, 101.0], [10.0, 20.0])
    if judge:
        runner.judge(run)
    return run


SLOWER = "REGRESSION: Get Profile p95 3.1x slower than run #{} (4.10 ms -> 12.6 ms)"
FAILED_P95 = "FAIL: p95 response time of Get Profile < 2000 ms (actual 2500.0 ms)"
#: Each listed run's verdict cell and status badge colour, newest first (``every_verdict``).
LISTED = [
    ("abandoned", "—", "bad"),
    ("running", "—", "info"),
    ("failed", "RED — 1 reason: FAIL: the run failed: nothing could be measured", "bad"),
    ("interrupted", "INTERRUPTED — 0 reasons", "warn"),
    ("regressed", f"REGRESSED — 1 reason: {SLOWER}", "warn"),
    ("red", f"RED — 1 reason: {FAILED_P95}", "bad"),
    ("green", "GREEN — 0 reasons", "good"),
]


@pytest.fixture
def every_verdict() -> list[tuple[str, str, str]]:
    """Stored runs of every verdict, and a running and an abandoned run (never judged); what
    ``LISTED`` says of each, the baseline's id filled in."""
    green = stored_run("green", 0)
    stored_run("red", 1, endpoint={"p95_ms": 2500.0})
    regressed = stored_run("regressed", 2, judge=False)
    regressed.config["fail_on_regression"] = True  # --fail-on-regression, as the plan stores it
    regressed.baseline, regressed.comparison = green, regression_against(green)
    regressed.save()
    runner.judge(regressed)
    stored_run("interrupted", 3, status=Run.Status.INTERRUPTED)
    stored_run("failed", 4, status=Run.Status.FAILED, failure="nothing could be measured")
    stored_run("running", 5, judge=False, status=Run.Status.RUNNING, finished_at=None)
    stored_run(
        "abandoned", 6, judge=False, status=Run.Status.ABANDONED,
        failure="abandoned: still marked running 3.0 h after it began",
    )  # fmt: skip
    return [(label, text.format(green.pk), css) for label, text, css in LISTED]


def test_perftest_runs_shows_each_runs_verdict_in_its_column(every_verdict, capsys):
    call_command("perftest_runs")
    header, *rows = capsys.readouterr().out.splitlines()

    column = cells(header).index("Verdict")
    assert cells(header)[column - 1] == "Status"
    assert [cells(row)[2] for row in rows] == [label for label, _, _ in every_verdict]
    shown = [cells(row)[column] for row in rows]
    assert shown == [text for _, text, _ in every_verdict]
    # Regressions are counted with the findings too, right after configuration problems.
    findings = {cells(row)[2]: cells(row)[-1] for row in rows}
    assert findings["regressed"].startswith("1 regression, ")
    assert "regression" not in findings["green"]


def test_the_admin_list_shows_each_verdict_and_colours_the_status_badge_by_it(every_verdict):
    page = user("reader").get(LIST).content.decode()

    assert cell(page, "label") == [label for label, _, _ in every_verdict]
    verdicts = [html.unescape(text) for text in cell(page, "verdict")]
    assert verdicts == [text for _, text, _ in every_verdict]
    badges = re.findall(r'<td class="field-status">.*?perftest-(\w+)">(\w+)</span>', page)
    assert [css for css, _ in badges] == [css for _, _, css in every_verdict]
    assert [status for _, status in badges] == [
        "abandoned", "running", "failed", "interrupted", "completed", "completed", "completed",
    ]  # fmt: skip
    # A red run is never a green badge: of three completed runs, only the green one is green.
    assert [css for css, status in badges if status == "completed"] == ["warn", "bad", "good"]


def test_the_admin_filters_runs_by_verdict_and_a_run_never_judged_says_why_on_its_page(
    every_verdict,
):
    reader = user("reader")

    red = reader.get(LIST, {"verdict__exact": "RED"}).content.decode()
    assert cell(red, "label") == ["failed", "red"]
    pages = {
        run.label: reader.get(f"{LIST}{run.pk}/change/").content.decode()
        for run in Run.objects.filter(label__in=("running", "abandoned"))
    }
    verdict_lines = {
        label: html.unescape(re.sub(r"<[^>]+>", "", line))
        for label, page in pages.items()
        for line in re.findall(r'<p class="perftest-verdict-line">(.*?)</p>', page, re.S)
    }
    assert verdict_lines == {
        "running": "running no verdict yet: the run has not ended",
        "abandoned": (
            "RED — 1 reason: FAIL: the run was abandoned: still marked running 3.0 h after it began"
        ),
    }
