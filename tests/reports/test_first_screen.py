"""The first screen: under the title and its verdict, a few lines that answer what a person
wants in ten seconds, each linked to its evidence below, in every format.

Stored runs built row by row (``tests.support.stored_rows``) and judged as the runner judges
them, so each line is proven to appear when its data is stored and to be absent otherwise:
the capacity and what gave way first, the slowest endpoint under test (never the login set
apart) with its cause, what changed since the baseline, the three things to do. Every link of
the Markdown and HTML reports leads to a heading that exists; the JSON carries the same
answer; the terminal prints the verdict, then the top three findings.
"""

from __future__ import annotations

import html as html_text
import re

import pytest

from perftest.analysis import verdict
from perftest.analysis.rules.capacity import CAPACITY
from perftest.analysis.rules.endpoints import N_PLUS_ONE
from perftest.analysis.rules.first_to_break import FIRST_TO_BREAK
from perftest.reports import anchors, console, html, json, markdown
from perftest.reports.blocks import Heading
from perftest.reports.sections import answer, short_summary
from perftest.store import read
from tests.support.first_screen_runs import (
    compared_run,
    endpoints_run,
    login_hash_run,
    plan,
)
from tests.support.report_checks import validate
from tests.support.stored_rows import (
    add_endpoint,
    analyzed,
    capacity_run,
    make_run,
    of_rule,
)

pytestmark = pytest.mark.django_db


def glance(report: str) -> str:
    """The Markdown report's first screen: from its heading to the next section's."""
    start = report.index(f"## {answer.HEADING}\n")
    return report[start : report.index("\n## ", start + 1)]


def github_anchors(report: str) -> set[str]:
    """Every heading's anchor as GitHub makes it from the rendered Markdown (duplicates
    numbered as GitHub numbers them)."""
    seen: dict[str, int] = {}
    found = set()
    for text in re.findall(r"^#{1,6} (.*)$", report, flags=re.M):
        slug = anchors.slug(re.sub(r"\\(.)", r"\1", text))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if not count else f"{slug}-{count}")
    return found


def markdown_links(text: str) -> list[str]:
    return re.findall(r"\]\(#([^)]+)\)", text)


def test_the_slowest_endpoint_is_the_slowest_under_test_with_its_stored_cause():
    stored = endpoints_run()
    report = markdown.render(stored)
    (cause,) = of_rule(list(stored.findings), N_PLUS_ONE)

    lines = glance(report)
    assert (
        f"- [Slowest endpoint](#response-times): Get Lessons, p95 300.0 ms; "
        f"why: [{cause.title}](#{anchors.of_finding(stored, cause)})"
    ) in lines
    # The login's 900 ms password hash is set apart: never "the slowest".
    assert "Login" not in lines.split("What to do first:")[0]
    # The JSON says the same.
    slowest = validate(json.render(stored))["answer"]["slowest"]
    assert (slowest["endpoint"], slowest["p95_ms"], slowest["cause"]) == (
        "Get Lessons",
        300.0,
        cause.title,
    )


def test_the_login_is_the_slowest_when_the_plan_puts_it_under_test():
    stored = endpoints_run(under_test=True)

    assert (
        "- [Slowest endpoint](#response-times): Login, p95 900.0 ms; no cause found by the rules"
        in glance(markdown.render(stored))
    )


def test_a_run_with_no_capacity_no_levels_and_no_baseline_says_only_what_it_measured():
    stored = endpoints_run()
    lines = glance(markdown.render(stored))

    assert "Capacity" not in lines and "What gave way first" not in lines
    assert "- Since last time: no baseline: this run was not compared with an earlier one" in (
        lines
    )
    screen = validate(json.render(stored))["answer"]
    assert (screen["capacity"], screen["first_to_break"]) == (None, [])
    assert screen["since_baseline"]["baseline_run"] is None


def test_a_capacity_search_puts_its_answer_and_what_gave_way_on_the_first_screen():
    run = capacity_run()
    analyzed(run)
    stored = read.load(run.pk)
    (capacity,) = of_rule(list(stored.findings), CAPACITY)
    gave_way = of_rule(list(stored.findings), FIRST_TO_BREAK)
    assert gave_way, "the failed step's level is ranked"

    lines = glance(markdown.render(stored))
    assert f"- [Capacity](#capacity-search): {capacity.title.removeprefix('Capacity: ')}" in lines
    for finding in gave_way:
        anchor = anchors.of_finding(stored, finding)
        assert f"- [What gave way first](#{anchor}): {finding.title}" in lines
    # Compact: a few lines, no table.
    assert "|" not in lines.replace("\\|", "")


def test_since_the_baseline_counts_the_changes_and_names_the_worst_culprit():
    stored = compared_run()
    baseline = stored.row.comparison["baseline"]["id"]

    lines = glance(markdown.render(stored))
    assert (
        f"- [Since run #{baseline}](#compared-with-run-{baseline}): 3 regressions, 1 improvement "
        "beyond noise; the worst: Get Lessons: 60 more queries per request (and 1 more on Get "
        "Lessons)"
    ) in lines
    since = validate(json.render(stored))["answer"]["since_baseline"]
    assert (since["baseline_run"], since["regressions"], since["improvements"]) == (baseline, 3, 1)


def test_what_to_do_is_three_recommendations_most_pressing_first_each_once():
    stored = compared_run()

    to_do = validate(json.render(stored))["answer"]["to_do"]
    # Regressions before anything else, each recommendation once (Get Lessons had two).
    assert [(line["label"], line["text"]) for line in to_do][:2] == [
        ("Get Profile", "Look at Get Profile's code"),
        ("Get Lessons", "Look at Get Lessons's code"),
    ]
    assert len(to_do) <= answer.TOP
    texts = [line["text"] for line in to_do]
    assert len(texts) == len(set(texts))


def test_the_logins_own_advice_comes_after_the_endpoints_under_test():
    stored = login_hash_run()

    labels = [line.label for line in answer.of(stored).to_do]
    assert labels[0] == "Get Lessons" and labels[-1] == "Login"


@pytest.mark.parametrize(
    "build", [endpoints_run, compared_run, login_hash_run], ids=["n+1", "baseline", "fact"]
)
def test_every_first_screen_link_leads_to_a_heading_in_markdown_and_html(build):
    stored = build()
    report = markdown.render(stored)
    links = markdown_links(glance(report))
    assert links

    assert set(links) <= github_anchors(report)
    page = html.render(stored)
    ids = re.findall(r'<h[2-6] id="([^"]+)"', page)
    assert set(links) <= set(ids)
    # Every heading below the title has GitHub's anchor as its id, each id once.
    title = anchors.slug(re.search(r"<h1>(.*?)</h1>", page)[1].replace("&amp;", "&"))
    assert len(ids) == len(set(ids)) and set(ids) == github_anchors(report) - {title}
    first = page[page.index('id="at-a-glance"') : page.index('id="executive-summary"')]
    assert [html_text.unescape(href) for href in re.findall(r'href="#([^"]+)"', first)] == links


def test_the_json_answer_matches_the_schema_and_the_markdown():
    stored = compared_run()
    document = validate(json.render(stored))

    assert document["schema_version"] == "1.6"
    for line in document["answer"]["to_do"]:
        assert f"[{line['label']}](#{line['anchor']}): {line['text']}" in markdown.render(stored)


def test_the_console_prints_the_verdict_then_the_top_three_findings():
    stored = compared_run()

    lines = console.ending(stored, ["run.md"]).lines
    problems = answer.problems(stored)
    assert len(problems) > answer.TOP
    assert lines[0] == console.verdict_line(verdict.of(stored))
    top = lines[1].splitlines()
    assert top[0] == f"Top findings (3 of {len(problems)}; every one is in the report):"
    assert top[1::2] == [f"- {finding.title}" for finding in problems[:3]]
    assert top[2::2] == [f"  {finding.recommendation}" for finding in problems[:3]]
    assert lines[2] == console.summary_table(stored)


def test_a_run_the_rules_found_nothing_wrong_in_prints_no_top_findings():
    run = make_run(config=plan())
    add_endpoint(run, "Get Profile")
    analyzed(run)
    stored = read.load(run.pk)

    assert short_summary.top_findings(stored) == []
    assert console.ending(stored, ["run.md"]).lines[1] == console.summary_table(stored)


def test_the_html_report_folds_how_the_run_was_made_below_the_results():
    page = html.render(endpoints_run())

    folded = re.search(
        r'<details class="how-it-was-made"><summary><h2 id="methodology">Methodology</h2>'
        r"</summary>(.*?)</details>",
        page,
        re.S,
    )
    assert folded and "Iterations" in folded[1]
    assert page.index('id="at-a-glance"') < page.index('id="bottlenecks"') < folded.start()


def test_a_repeated_heading_is_numbered_across_the_page_as_github_numbers_it():
    seen: dict[str, int] = {}
    first = html.section_html([Heading("Per endpoint"), Heading("Per endpoint", 3)], seen)
    second = html.section_html([Heading("Per endpoint", 3)], seen)

    assert re.findall(r'id="([^"]+)"', first + second) == [
        "per-endpoint",
        "per-endpoint-1",
        "per-endpoint-2",
    ]
