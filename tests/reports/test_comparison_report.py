"""The comparison with a baseline, rendered from storage in every format.

Two real in-process runs of the stand-in API are stored; the comparison dict stored with the
second (``store.write.save_comparison``) is built here from the two runs' stored figures, with
the verdicts the test chooses (a p95 regression of one endpoint, one new statement, one
endpoint unchanged), so each renderer is proven on real storage. The engine that chooses the
verdicts (``analysis.compare``, branch issue8-c1) is proven in tests/analysis/test_baseline.py; the
tests here that need it skip until it is there.
"""

from __future__ import annotations

import copy
import io
import os
import re
import subprocess
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from perftest import models
from perftest.analysis import rebaseline
from perftest.analysis.metrics import ERROR_RATE, OK_THROUGHPUT, P50, P95, P99, QUERIES_MEAN
from perftest.analysis.rules.base import BASELINE, Finding
from perftest.reports import charts, console, formats, html, markdown
from perftest.reports.charts import palette
from perftest.reports.sections import comparison
from perftest.store import baselines, read, write
from perftest.store.read import StoredRun
from tests.support.report_checks import (
    CHROMIUM,
    cases,
    missing_figures,
    missing_titles,
    svg_titles,
    validate,
)
from tests.support.stored_rows import NOISE_RULE as RULE

ENDPOINTS = ["--endpoints", "Get Profile,Get Lessons", "--iterations", "5", "--warmup", "0"]
ALL = ",".join(formats.FORMATS)
#: The figures a sequential row compares, by the comparison's metric names.
COMPARED = {"p50": P50, "p95": P95, "p99": P99, "error_rate": ERROR_RATE}
COMPARED["queries_mean"] = QUERIES_MEAN
REGRESSED = ("Get Lessons", "p95")


def real_run(tmp_path, *args: str) -> StoredRun:
    call_command(
        "perftest", "--output", str(tmp_path), "--exit-zero", *ENDPOINTS, *args,
        stdout=io.StringIO(),
    )  # fmt: skip
    return read.load(models.Run.objects.latest("pk").pk)


def _metric(name: str, before: Any, after: Any, verdict: str) -> dict[str, Any]:
    was, now = COMPARED[name].of(before), COMPARED[name].of(after)
    return {
        "metric": name,
        "unit": COMPARED[name].unit if name != "queries_mean" else "",
        "before": was,
        "after": now,
        "change": now / was - 1 if was else None,
        "verdict": verdict,
        "basis": "" if verdict == comparison.NOT_COMPARED else "samples",
        "why": (
            f"p99 is shown, not judged ({before.judged_count} and {after.judged_count} answers)"
            if name == "p99"
            else f"{name} {COMPARED[name].text(before)} -> {COMPARED[name].text(after)}"
        ),
    }


def comparison_of(before: StoredRun, after: StoredRun) -> dict[str, Any]:
    """The comparison dict of two stored runs' sequential endpoints, from their figures: p95
    of Get Lessons a regression with one new statement (one of its real ones), p99 not
    compared, everything else unchanged."""
    rows = []
    for was, now in zip(before.sequential, after.sequential, strict=True):
        verdicts = {name: comparison.UNCHANGED for name in COMPARED}
        verdicts["p99"] = comparison.NOT_COMPARED
        if now.name == REGRESSED[0]:
            verdicts[REGRESSED[1]] = comparison.REGRESSION
        rows.append(
            {
                "phase": "sequential",
                "level": None,
                "endpoint": now.name,
                "metrics": [_metric(name, was, now, v) for name, v in verdicts.items()],
                "new_sql": [
                    {
                        "sql": now.statements[0]["sql"],
                        "before_per_request": 0.0,
                        "after_per_request": now.statements[0]["count"] / now.judged_count,
                    }
                ]
                if now.name == REGRESSED[0]
                else [],  # fmt: skip
                "new_repeated": [],
            }
        )
    return {
        "baseline": {
            "id": before.pk,
            "started_at": before.row.started_at.isoformat(),
            "label": "before the change",
        },
        "rule": RULE,
        "rows": rows,
        "unmatched": ["Get Notifications: only in the baseline"],
        "regressions": 1,
        "improvements": 0,
    }


@pytest.fixture
def compared(tmp_path) -> StoredRun:
    """The second of two real runs, its comparison with the first and a regression finding
    stored as the engine would store them."""
    before = real_run(tmp_path)
    after = real_run(tmp_path)
    data = comparison_of(before, after)
    write.save_comparison(after.row, before.pk, data)
    regression = Finding(
        BASELINE, "regression", REGRESSED[0],
        f"Get Lessons p95 slower than run #{before.pk}", "the p95 interval", "look at its SQL",
        target=P95.text(before.sequential[1]), actual=P95.text(after.sequential[1]),
        passed=False,
    )  # fmt: skip
    write.save_findings(after.row, [*after.findings, regression])
    return read.load(after.pk)


def headings(text: str) -> list[str]:
    return re.findall(r"^#+ (.*)$", text, flags=re.M)


def section_text(report: str, heading: str) -> str:
    """The Markdown of one level-2 section, from its heading to the next one."""
    start = report.index(f"## {heading}")
    end = report.find("\n## ", start + 1)
    return report[start : end if end > 0 else None]


@pytest.mark.slow
@pytest.mark.django_db
def test_markdown_shows_the_regression_first_with_its_figures_and_new_sql(compared):
    before_pk = compared.row.baseline_id
    report = markdown.render(compared)
    titles = headings(report)
    lessons = next(e for e in compared.sequential if e.name == "Get Lessons")
    profile = next(e for e in compared.sequential if e.name == "Get Profile")
    baseline_lessons = read.load(before_pk).sequential[1]

    # Right after the summary, before the figures of this run alone.
    assert titles.index(f"Compared with run #{before_pk}") < titles.index("Response times")
    section = section_text(report, f"Compared with run #{before_pk}")
    assert f"Baseline: run #{before_pk} (before the change, started " in section
    assert "1 regression and 0 improvements beyond noise, over 2 endpoints and levels" in section
    # The regression's row comes first, every figure before -> after with its verdict.
    assert headings(section)[1] == "Get Lessons: 1 regression"
    p95_row = next(line for line in section.splitlines() if line.startswith("| p95 |"))
    assert (
        p95_row.startswith(f"| p95 | {P95.text(baseline_lessons)} | {P95.text(lessons)} |")
        and "| regression |" in p95_row
    )
    assert lessons.statements[0]["sql"] in section  # the new SQL, under its row
    # The unchanged endpoint is one sentence, after the changes.
    assert section.index("Get Lessons: 1 regression") < section.index(
        "Unchanged beyond noise: 4 figures of 1 endpoint or level (Get Profile)."
    )
    assert "| p95 |" not in section.split("Unchanged beyond noise")[1]
    assert f"- p99 of Get Profile: p99 is shown, not judged ({profile.judged_count}" in section
    assert "- Get Notifications: only in the baseline" in section
    # The noise rule and its parameters, read from the stored dict.
    methodology = section_text(report, "Methodology")
    assert "the 99% bootstrap interval (2000 resamples, seed 0)" in methodology
    assert "at least 6 windows of at least 5 answers" in methodology
    assert "at least 20% and 1 ms" in methodology and "at least 1 percentage points" in methodology
    assert "Shown, but never given a verdict here: p99." in methodology


@pytest.mark.slow
@pytest.mark.django_db
def test_the_methodology_reads_the_noise_rule_from_the_stored_dict(compared):
    data = copy.deepcopy(compared.row.comparison)
    data["rule"].update(resamples=777, confidence=0.95, min_relative=0.35)
    write.save_comparison(compared.row, compared.row.baseline_id, data)

    methodology = section_text(markdown.render(read.load(compared.pk)), "Methodology")

    assert "the 95% bootstrap interval (777 resamples, seed 0)" in methodology
    assert "at least 35% and 1 ms" in methodology


@pytest.mark.slow
@pytest.mark.django_db
def test_the_console_summary_ends_with_the_comparisons_tally(compared):
    summary = console.summary_table(compared)

    assert (
        summary.splitlines()[-1]
        == f"vs run #{compared.row.baseline_id}: 1 regression, 0 improvements"
    )


@pytest.mark.slow
@pytest.mark.django_db
def test_perftest_report_gives_the_same_bytes_as_the_reports_written_for_the_run(
    compared, tmp_path
):
    for report in formats.FORMATS.values():  # as the perftest command writes them
        formats.write(compared, report, tmp_path / "run")
    call_command(
        "perftest_report", str(compared.pk), "--format", ALL, "--output", str(tmp_path / "again")
    )  # fmt: skip

    for report in formats.FORMATS.values():
        name = report.file_name(compared)
        assert (tmp_path / "again" / name).read_bytes() == (tmp_path / "run" / name).read_bytes()
    assert "Compared with run" in (tmp_path / "again" / f"run-{compared.pk}.md").read_text()


@pytest.mark.slow
@pytest.mark.django_db
def test_the_html_draws_before_after_bars_with_the_regression_flagged(compared):
    page = html.render(compared)
    chart = charts.before_after(compared)
    before_pk = compared.row.baseline_id

    title = f"p50 and p95 against run #{before_pk} (regressions in red)"
    assert title in svg_titles(page)
    assert chart.categories == ("Get Profile", "Get Lessons")
    assert [s.name for s in chart.series] == [
        f"p50 run #{before_pk}", "p50 this run", f"p95 run #{before_pk}", "p95 this run",
    ]  # fmt: skip
    assert [s.flagged for s in chart.series] == [frozenset()] * 3 + [frozenset({1})]
    assert [y for _, y in chart.series[3].points] == [e.p95_ms for e in compared.sequential]
    # The chart follows the comparison's words, and only the flagged bar is red.
    section = page.split(f"Compared with run #{before_pk}</h2>", 1)[1].split("<h2", 1)[0]
    assert title in section
    assert page.count(f'style="fill: {palette.ALARM}') == 1


@pytest.mark.slow
@pytest.mark.django_db
def test_without_a_regression_no_bar_is_red(compared):
    data = copy.deepcopy(compared.row.comparison)
    for row in data["rows"]:
        for metric in row["metrics"]:
            if metric["verdict"] == comparison.REGRESSION:
                metric["verdict"] = comparison.UNCHANGED
    write.save_comparison(compared.row, compared.row.baseline_id, data)
    stored = read.load(compared.pk)

    chart = charts.before_after(stored)

    assert chart.title == f"p50 and p95 against run #{compared.row.baseline_id}"
    assert not any(series.flagged for series in chart.series)
    assert palette.ALARM not in html.render(stored)


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing")
@pytest.mark.django_db
def test_the_before_after_chart_is_in_the_dom_headless_chromium_builds(compared, tmp_path):
    path = formats.write(compared, formats.FORMATS["html"], tmp_path / "out")
    dom = subprocess.run(
        [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", path.resolve().as_uri(),
        ],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip

    assert f"p50 and p95 against run #{compared.row.baseline_id} (regressions in red)" in (
        svg_titles(dom)
    )
    # Two endpoints, four series of bars: the before/after bars are drawn.
    chart = dom.split("(regressions in red)</title>", 1)[1].split("</svg>", 1)[0]
    assert chart.count('class="rect reactive tooltip-trigger"') == 2 * 4


@pytest.mark.slow
@pytest.mark.django_db
def test_junit_has_a_baseline_case_per_judged_figure_failing_each_regression(compared):
    suites = cases(formats.FORMATS["junit"].render(compared))
    rows = compared.row.comparison["rows"]
    judged = [m for row in rows for m in row["metrics"] if m["verdict"] in comparison.JUDGED]

    baseline = suites["baseline"]
    failures = [case for case in baseline if case.find("failure") is not None]
    assert len(baseline) == len(judged) == 2 * 4
    assert len(failures) == compared.row.comparison["regressions"] == 1
    (failure,) = failures
    assert failure.get("name") == f"Get Lessons p95 vs run #{compared.row.baseline_id}"
    regressed = next(m for m in rows[1]["metrics"] if m["metric"] == "p95")
    assert failure.find("failure").get("message") == regressed["why"]


@pytest.mark.slow
@pytest.mark.django_db
def test_json_validates_and_carries_the_stored_comparison_and_its_finding(compared):
    document = validate(formats.FORMATS["json"].render(compared))
    report = markdown.render(compared)

    assert document["schema_version"] == "1.6"
    assert document["comparison"] == compared.row.comparison
    assert "comparison" not in document["run"] and document["run"]["baseline"] == (
        compared.row.baseline_id
    )
    section = section_text(report, f"Compared with run #{compared.row.baseline_id}")
    assert missing_figures(section, document) == []
    titles = [f.title for f in compared.findings if f.kind == BASELINE]
    assert titles and missing_titles(report, document, titles) == []
    # Dropping the comparison loses the section's figures.
    assert missing_figures(section, {**document, "comparison": {}})


@pytest.mark.slow
@pytest.mark.django_db
def test_a_run_that_was_not_compared_has_no_comparison_anywhere(tmp_path):
    stored = real_run(tmp_path)

    assert "Compared with" not in markdown.render(stored)
    assert "Baseline comparison" not in markdown.render(stored)
    assert not console.summary_table(stored).splitlines()[-1].startswith("vs ")
    assert validate(formats.FORMATS["json"].render(stored))["comparison"] == {}
    assert cases(formats.FORMATS["junit"].render(stored))["baseline"] == []
    assert charts.before_after(stored) is None


@pytest.mark.slow
@pytest.mark.django_db
def test_a_run_that_found_no_latest_baseline_says_so_in_one_sentence(tmp_path):
    stored = real_run(tmp_path, "--baseline", "latest")
    sentence = (
        "No comparison: --baseline latest found no earlier completed run with this target and "
        "plan; this run can be the baseline of the next."
    )

    assert stored.plan.baseline == "latest" and stored.row.comparison == {}
    assert section_text(markdown.render(stored), "Baseline comparison") == (
        f"## Baseline comparison\n\n{sentence}\n"
    )
    assert console.summary_table(stored).splitlines()[-1] == sentence


@pytest.mark.slow
@pytest.mark.django_db
def test_recompared_replaces_the_comparison_and_baseline_findings_without_saving(compared):
    other = copy.deepcopy(compared.row.comparison)
    other.update(regressions=0, improvements=1)
    improvement = Finding(BASELINE, "improvement", "Get Profile", "Get Profile faster", passed=True)

    seen = baselines.recompared(compared, compared.row.baseline_id, other, [improvement])

    assert seen.row.comparison == other
    assert [f.title for f in seen.findings if f.kind == BASELINE] == ["Get Profile faster"]
    assert [f.title for f in seen.findings if f.kind != BASELINE] == [
        f.title for f in compared.findings if f.kind != BASELINE
    ]
    assert "vs run #" in console.summary_table(seen) and "1 improvement" in console.summary_table(
        seen
    )
    assert read.load(compared.pk).row.comparison == compared.row.comparison  # nothing saved
    assert [f.title for f in read.load(compared.pk).findings] == [
        f.title for f in compared.findings
    ]


def report_command(*args: str) -> str:
    """``perftest_report`` that must end with one line and exit 2; the line."""
    with pytest.raises(CommandError) as ended:
        call_command("perftest_report", *args, "--stdout")
    assert ended.value.returncode == 2
    message = str(ended.value)
    assert "\n" not in message
    return message


@pytest.mark.slow
@pytest.mark.django_db
def test_perftest_report_refuses_a_baseline_it_cannot_compare_with_in_one_line(compared):
    pk = str(compared.pk)

    assert report_command(pk, "--baseline", "999999") == "--baseline 999999: no stored run #999999."
    assert report_command(pk, "--baseline", "last") == (
        "--baseline takes a run id or 'latest', not 'last'."
    )
    assert report_command(pk, "--baseline", pk) == f"Run #{pk} cannot be its own baseline."
    # With no other completed run of its plan, there is none to call the latest.
    models.Run.objects.exclude(pk=compared.pk).update(status=models.Run.Status.FAILED)
    assert report_command(pk, "--baseline", "latest") == (
        f"No earlier completed run with the target and plan of run #{pk} to compare with."
    )
    assert read.load(compared.pk).row.comparison == compared.row.comparison


@pytest.mark.slow
@pytest.mark.django_db
def test_latest_baseline_of_a_stored_run_is_the_latest_earlier_completed_run_of_its_plan(
    tmp_path,
):
    runs = [real_run(tmp_path) for _ in range(4)]
    models.Run.objects.filter(pk=runs[1].pk).update(status=models.Run.Status.FAILED)
    models.Run.objects.filter(pk=runs[0].pk).update(target="http://127.0.0.1:9")

    assert rebaseline.resolve(read.load(runs[3].pk), "latest").pk == runs[2].pk
    with pytest.raises(rebaseline.NotComparable):  # one failed, one of another target
        rebaseline.resolve(read.load(runs[2].pk), "latest")
    models.Run.objects.filter(pk=runs[2].pk).update(plan_fingerprint="e" * 64)
    with pytest.raises(rebaseline.NotComparable):  # no completed run of the same plan left
        rebaseline.resolve(read.load(runs[3].pk), "latest")


@pytest.mark.slow
@pytest.mark.django_db
def test_perftest_report_compares_two_stored_runs_now_without_storing_it(tmp_path, capsys):
    before = real_run(tmp_path)
    after = real_run(tmp_path)
    capsys.readouterr()

    call_command("perftest_report", str(after.pk), "--baseline", str(before.pk), "--stdout")
    report = capsys.readouterr().out

    assert f"## Compared with run #{before.pk}" in report
    assert read.load(after.pk).row.comparison == after.row.comparison
    call_command("perftest_report", str(after.pk), "--baseline", "latest", "--stdout")
    assert f"## Compared with run #{before.pk}" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.django_db
def test_perftest_report_refuses_runs_of_different_plans_naming_the_differences(tmp_path):
    before = real_run(tmp_path)
    after = real_run(tmp_path, "--iterations", "7")

    message = report_command(str(after.pk), "--baseline", str(before.pk))

    assert message.startswith(f"--baseline {before.pk}: run #{before.pk} measured another plan (")
    assert "iterations" in message


@pytest.mark.django_db
def test_a_levels_rows_are_named_by_level_and_its_overall_figures_drawn():
    from tests.support.stored_rows import add_endpoint, add_level, load_run

    before, after = load_run(), load_run()
    for run, throughput in ((before, 400.0), (after, 120.0)):
        level = add_level(run, 10, throughput, 20.0)
        add_endpoint(run, "Get Lessons", phase="level", level=level)
    was, now = (read.load(run.pk) for run in (before, after))
    label = "10 concurrent (closed)"

    def row(endpoint: str, old: Any, new: Any) -> dict[str, Any]:
        """p50 and p95 unchanged; a level overall's throughput as expected a regression."""
        metrics = [_metric(name, old, new, comparison.UNCHANGED) for name in ("p50", "p95")]
        if endpoint == "all":  # a level's throughput: its endpoints have none of their own
            was_rps, now_rps = OK_THROUGHPUT.of(old), OK_THROUGHPUT.of(new)
            metrics.append(
                {
                    "metric": "ok_rps", "unit": "/s", "before": was_rps, "after": now_rps,
                    "change": now_rps / was_rps - 1, "verdict": comparison.REGRESSION,
                    "basis": "windows", "why": "interval of the ratio",
                }
            )  # fmt: skip
        return {
            "phase": "level", "level": {"position": 0, "label": label}, "endpoint": endpoint,
            "metrics": metrics, "new_sql": [], "new_repeated": [],
        }  # fmt: skip

    overall = row("all", was.levels[0], now.levels[0])
    lessons = row(
        "Get Lessons", was.endpoints_of(was.levels[0])[0], now.endpoints_of(now.levels[0])[0]
    )
    data = {**comparison_of(was, now), "rows": [overall, lessons]}
    write.save_comparison(after, before.pk, data)
    stored = read.load(after.pk)

    section = section_text(markdown.render(stored), f"Compared with run #{before.pk}")
    chart = charts.before_after(stored)

    assert f"### all endpoints @ {label}: 1 regression" in section
    assert "| throughput as expected | 400.0 req/s | 120.0 req/s | -70.0 % | regression |" in (
        section
    )
    assert f"(Get Lessons @ {label})" in section
    assert chart.categories == (f"all endpoints @ {label}",)
    assert chart.series[3].flagged == frozenset()  # p95 unchanged; throughput is not drawn
