"""``perftest_runs`` lists stored runs newest first, filtered and limited; it and
``perftest_report`` answer bad input (unknown id, unmigrated database) with one line, exit 2."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from perftest import models
from perftest.analysis.rules.base import BASELINE
from tests.support.commands import assert_usage_error, manage_subprocess
from tests.support.stored_rows import STARTED, add_endpoint, analyzed, make_run
from tests.support.text_tables import cells


def listed(capsys, *args: str) -> list[str]:
    call_command("perftest_runs", *args)
    return capsys.readouterr().out.splitlines()


@pytest.mark.django_db
def test_runs_are_listed_newest_first_with_their_outcome(capsys):
    older = make_run(label="nightly", target="http://127.0.0.1:8000", mode="http")
    add_endpoint(older, "Fast", p95_ms=20.0)
    add_endpoint(older, "Slow", p95_ms=3000.0, p99_ms=3100.0, max_ms=3200.0)
    analyzed(older)
    newer = make_run(label="pr-42", started_at=STARTED + dt.timedelta(hours=1))
    add_endpoint(newer, "Flaky", ok=15, errors=[{"reason": "HTTP 500", "count": 5, "example": ""}])
    add_endpoint(newer, "Gone", requests=0, not_measured="login failed")
    analyzed(newer)

    header, first, second = listed(capsys)
    assert cells(header) == [
        "Run", "Started (UTC)", "Label", "Mode", "Target", "Status", "Verdict", "Endpoints ok",
        "Worst p95", "Regressions", "Thresholds failed", "Findings",
    ]  # fmt: skip
    assert cells(first)[:9] == [
        str(newer.pk), "2026-01-02 04:04", "pr-42", "in-process", "URLconf tests.support.urls",
        "completed", verdict_cell(newer), "0/2", "100.0 ms (Flaky)",
    ]  # fmt: skip
    assert cells(second)[:9] == [
        str(older.pk), "2026-01-02 03:04", "nightly", "http", "http://127.0.0.1:8000",
        "completed", verdict_cell(older), "2/2", "3000.0 ms (Slow)",
    ]  # fmt: skip
    for run, line in ((newer, first), (older, second)):
        checks = run.findings.filter(kind="threshold")
        red = [c for c in checks if c.passed is False or c.actual == "not measured"]
        assert cells(line)[9] == "—"  # compared with no baseline
        assert cells(line)[10] == f"{len(red)} of {len(checks)}"
        words = {"configuration": "configuration", "bottleneck": "bottleneck", "key": "fact"}
        kinds = [k for k in words if run.findings.filter(kind=k)]
        counts = [f"{run.findings.filter(kind=k).count()} {words[k]}" for k in kinds]
        assert cells(line)[11] == ", ".join(counts)
    # Slow's p95 breaks the 2000 ms limit; RSS and CPU are not measured (no samples stored):
    # three reasons, the first one quoted.
    slow = "FAIL: p95 response time of Slow < 2000 ms (actual 3000.0 ms)"
    assert cells(second)[6] == f"RED — 3 reasons: {slow}; and 2 more"
    assert cells(second)[10] == "3 of 4"
    assert cells(first)[6].startswith("RED — ")
    assert "FAIL: endpoint Gone not measured: login failed" in cells(first)[6]


def verdict_cell(run) -> str:
    """The Verdict cell of a run whose verdict was stored: its word, the count of its reasons
    and the first one."""
    run.refresh_from_db()
    reasons = run.verdict_reasons
    more = f"; and {len(reasons) - 1} more" if len(reasons) > 1 else ""
    return f"{run.verdict} — {len(reasons)} reasons: {reasons[0]}{more}"


@pytest.mark.django_db
def test_each_run_shows_its_regressions_against_its_baseline(capsys):
    baseline = make_run(label="main")
    add_endpoint(baseline, "Get Lessons", p95_ms=100.0)
    analyzed(baseline)
    run = make_run(label="pr-7", baseline=baseline, started_at=STARTED + dt.timedelta(hours=1))
    add_endpoint(run, "Get Lessons", p95_ms=300.0)
    analyzed(run)
    for position, rule in enumerate(("regression", "regression", "improvement"), 100):
        models.Finding.objects.create(
            run=run, kind=BASELINE, rule=rule, position=position, title=f"Get Lessons {rule}"
        )
    unchanged = make_run(label="pr-8", baseline=run, started_at=STARTED + dt.timedelta(hours=2))

    rows = {cells(line)[2]: cells(line) for line in listed(capsys)[1:]}

    assert rows["pr-7"][9] == f"2 vs run #{baseline.pk}"
    assert rows["pr-7"][11].startswith("2 regression")
    assert rows["pr-8"][9] == f"0 vs run #{run.pk}" and unchanged.baseline_id == run.pk
    assert rows["main"][9] == "—"


@pytest.mark.django_db
def test_runs_filter_by_target_and_label_and_stop_at_the_limit(capsys):
    for hour, (label, target) in enumerate(
        [("nightly", "http://a:1"), ("pr-1", "http://b:2"), ("nightly 2", "http://b:2")]
    ):
        make_run(label=label, target=target, started_at=STARTED + dt.timedelta(hours=hour))

    def labels(*args: str) -> list[str]:
        return [cells(line)[2] for line in listed(capsys, *args)[1:]]

    assert labels() == ["nightly 2", "pr-1", "nightly"]
    assert labels("--label", "NIGHTLY") == ["nightly 2", "nightly"]
    assert labels("--target", "b:2") == ["nightly 2", "pr-1"]
    assert labels("--target", "b:2", "--label", "nightly") == ["nightly 2"]
    assert labels("--limit", "1") == ["nightly 2"]
    assert listed(capsys, "--target", "c:3") == ["No stored runs with target containing 'c:3'."]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["perftest_runs", "--limit", "0"], "--limit must be a whole number from 1 to 10,000"),
        (["perftest_runs", "--limit", "1" + "0" * 20], "from 1 to 10,000, not 100,000,000"),
        (["perftest_runs", "--limit", "many"], "from 1 to 10,000, not 'many'"),
        (["perftest_report", "seven"], "invalid int value: 'seven'"),
        (["perftest_report", "99999"], "No stored run #99999."),
    ],
)
def test_bad_input_of_the_stored_run_commands_is_one_line_and_exit_2(manage, args, expected):
    assert_usage_error(manage(*args), expected)


@pytest.mark.slow
@pytest.mark.parametrize("args", [["perftest_runs"], ["perftest_report", "1"]])
def test_the_stored_run_commands_on_an_unmigrated_database_name_the_fix(args, tmp_path):
    """A subprocess: the database is named by DATABASE_URL, read when the settings load."""
    result = manage_subprocess(*args, DATABASE_URL=f"sqlite:///{tmp_path / 'new.db'}")
    assert_usage_error(result, "run `python manage.py migrate` first")
