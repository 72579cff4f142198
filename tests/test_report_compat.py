"""Reports of runs stored by the code before the restructuring read byte for byte the same.

``fixtures/pre_restructure/runs.json`` is a ``dumpdata`` of four runs the old code stored (an
in-process default run, closed levels, an open model with --mix, and --mode both over HTTP);
``run-N.md`` and ``console-N.txt`` are what the old code rendered from them.
"""

from __future__ import annotations

import pathlib

import pytest
from django.core.management import call_command

from perftest.analysis import engine
from perftest.reports import console, markdown
from perftest.store import read

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "pre_restructure"
RUNS = (1, 2, 3, 4)


@pytest.fixture
def stored_runs(db):
    call_command("loaddata", str(FIXTURES / "runs.json"), verbosity=0)


@pytest.mark.parametrize("pk", RUNS)
def test_markdown_report_is_unchanged(stored_runs, pk):
    expected = (FIXTURES / f"run-{pk}.md").read_text(encoding="utf-8")
    assert markdown.render(read.load(pk)) == expected


@pytest.mark.parametrize("pk", RUNS)
def test_console_summary_is_unchanged(stored_runs, pk):
    # The saved files end with the newline the command prints after the table.
    expected = (FIXTURES / f"console-{pk}.txt").read_text(encoding="utf-8")
    assert console.summary_table(read.load(pk)) + "\n" == expected


@pytest.mark.parametrize("pk", RUNS)
def test_analysis_finds_what_the_old_rules_stored(stored_runs, pk):
    stored = read.load(pk)
    fields = ("kind", "rule", "subject", "title", "evidence", "recommendation", "target")
    fields += ("actual", "passed")
    assert [tuple(getattr(f, name) for name in fields) for f in engine.analyse(stored)] == [
        tuple(getattr(f, name) for name in fields) for f in stored.findings
    ]


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
