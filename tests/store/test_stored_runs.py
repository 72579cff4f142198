"""Runs stored by older perftest code still read and render, to text a person has reviewed.

``fixtures/pre_restructure/runs.json`` is a ``dumpdata`` of four runs stored by the code before
the layers restructuring (an in-process default run, closed levels, an open model with --mix,
and --mode both over HTTP). Before part 4 their reports were compared with what that old code
rendered, byte for byte (see the history of this file); since part 4 deliberately changed what
reports say, ``fixtures/pre_restructure/rendered/`` holds the reviewed rendering of the current
code, so any further change of wording or figures shows up here as a diff to review.

After a deliberate change of report text, write the new rendering with
``PERFTEST_WRITE_RENDERED=1 python -m pytest tests/store/test_stored_runs.py`` (the tests then fail,
saying so) and review ``git diff tests/fixtures`` before committing it.
"""

from __future__ import annotations

import os

import pytest

from perftest.analysis import findings
from perftest.reports import console, formats, markdown
from perftest.store import read
from tests.support.old_runs import FIXTURES, RUNS
from tests.support.report_checks import missing_figures, missing_titles, validate

RENDERED = FIXTURES / "rendered"
FINDING_FIELDS = ("kind", "rule", "subject", "title", "evidence", "recommendation", "target")
FINDING_FIELDS += ("actual", "passed")


def matches_reviewed(text: str, name: str) -> None:
    path = RENDERED / name
    if os.environ.get("PERFTEST_WRITE_RENDERED"):
        path.write_text(text, encoding="utf-8")
        pytest.fail(f"wrote {path}; review `git diff tests/fixtures` and run again without it")
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("pk", RUNS)
def test_an_old_stored_run_renders_its_reviewed_markdown_report(stored_runs, pk):
    matches_reviewed(markdown.render(read.load(pk)), f"report-{pk}.md")


@pytest.mark.parametrize("pk", RUNS)
def test_an_old_stored_run_renders_its_reviewed_console_summary(stored_runs, pk):
    matches_reviewed(console.summary_table(read.load(pk)) + "\n", f"console-{pk}.txt")


@pytest.mark.parametrize("pk", RUNS)
def test_an_old_stored_run_can_be_analysed_again(stored_runs, pk):
    stored = read.load(pk)
    found = findings.analyse(stored)
    # The rules changed since these runs were stored; what must hold is that every rule reads
    # the old rows, and that the figures every run has are still judged.
    assert {f.rule for f in found} >= {"threshold.response_time_p95", "key.totals"}


@pytest.mark.slow
@pytest.mark.django_db
def test_analysing_a_stored_run_again_finds_what_was_stored(run_perftest):
    run, _ = run_perftest("--iterations", "2", "--warmup", "0")
    stored = read.load(run.pk)

    def rows(found) -> list[tuple]:
        return [tuple(getattr(f, name) for name in FINDING_FIELDS) for f in found]

    assert rows(findings.analyse(stored)) == rows(stored.findings)


@pytest.mark.django_db
def test_a_missing_run_says_which():
    with pytest.raises(read.RunNotFound, match=r"^No stored run #999\.$"):
        read.load(999)


def test_a_stored_run_is_read_once_and_rendered_without_queries(
    stored_runs, django_assert_num_queries
):
    # The run, then one query each for its endpoint rows (all phases and levels), its levels,
    # its resource samples and its findings; rendering reads only what was loaded.
    with django_assert_num_queries(5):
        stored = read.load(2)
    with django_assert_num_queries(0):
        markdown.render(stored)
        console.summary_table(stored)


@pytest.mark.parametrize("pk", RUNS)
def test_an_old_stored_run_renders_json_that_matches_the_schema_and_carries_its_markdown(
    stored_runs, pk
):
    stored = read.load(pk)
    document = validate(formats.FORMATS["json"].render(stored))
    text = markdown.render(stored)
    assert missing_figures(text, document) == []
    assert missing_titles(text, document, [f.title for f in stored.findings]) == []
