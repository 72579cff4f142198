"""No sentence of a report contradicts another, or the tables beside it.

One report per shape of a run's load levels (none, levels without errors, errors from the
lowest level, a knee, errors that come back after a clean level), rendered from stored rows
as ``perftest_report`` renders them; the summary's claims are checked against the scaling
table of the same report, never against the figures the test wrote.
"""

from __future__ import annotations

import re

import pytest

from perftest.analysis import efficiency, verdict
from perftest.store import read
from tests.support.stored_rows import (
    add_endpoint,
    add_level,
    analyzed,
    errors_of,
    load_run,
    make_run,
    rendered,
)

pytestmark = pytest.mark.django_db

#: A row of the scaling table: concurrency, throughput, its growth, p95, its growth, error rate.
CURVE_ROW = re.compile(
    r"^\| (\d+) \| [\d.]+ req/s \| (\S+) % \| [\d.]+ ms \| (\S+) % \| ([\d.]+) % \|$|"
    r"^\| (\d+) \| [\d.]+ req/s \| — \| [\d.]+ ms \| — \| ([\d.]+) % \|$"
)
NO_ERRORS = ("no errors appeared", "none of these levels had errors", "No closed level had errors")


def curve_table(report: str) -> list[tuple[int, float | None, float | None, float]]:
    """The scaling table's rows: (concurrency, throughput growth, p95 growth, error rate)."""
    rows = []
    for line in report.splitlines():
        if match := CURVE_ROW.match(line):
            if match.group(1):
                growth, p95, rate = (float(match.group(i).lstrip("+")) for i in (2, 3, 4))
                rows.append((int(match.group(1)), growth, p95, rate))
            else:
                rows.append((int(match.group(5)), None, None, float(match.group(6))))
    return rows


def check_claims(report: str) -> None:
    """What the summary says about knee and errors is what the scaling table shows."""
    rows = curve_table(report)
    with_errors = [level for level, _, _, rate in rows if rate > 0]
    if with_errors:
        assert not any(claim in report for claim in NO_ERRORS), with_errors
        assert f"Errors start at {with_errors[0]} concurrent" in report
    else:
        assert "Errors start at" not in report
    # Scaling efficiency: the throughput's growth over the workers' growth, from the table.
    bending = [
        level
        for (before, _, _, _), (level, growth, _, _) in zip(rows, rows[1:], strict=False)
        if growth is not None
        and growth / (100 * (level - before) / before) < efficiency.EFFICIENCY_BOUND
    ]
    onset = [level for level in with_errors[:1] if level != rows[0][0]]
    knees = re.findall(r"Knee at (\d+) concurrent", report)
    expected = min(bending + onset, default=None)
    if expected is None:
        assert not knees
        assert ("No knee across" in report) == (len(rows) >= 2)
    else:
        assert set(knees) == {str(expected)} and "No knee" not in report
    if with_errors and "No knee across" in report:
        assert f"errors were there from the lowest level, {rows[0][0]} concurrent" in report


def test_a_report_without_levels_claims_no_knee_and_no_error_onset():
    run = load_run()
    add_endpoint(run, "Get Profile")
    report = rendered_after_analysis(run)

    assert curve_table(report) == []
    assert "Knee at" not in report and "No knee" not in report and "Errors start" not in report


def rendered_after_analysis(run):
    analyzed(run)
    return rendered(run)


def test_levels_without_errors_say_so_and_have_no_knee():
    run = load_run()
    for concurrency in (1, 10, 20):
        add_level(run, concurrency, 10.0 * concurrency, 25.0)
    report = rendered_after_analysis(run)

    assert [row[3] for row in curve_table(report)] == [0.0, 0.0, 0.0]
    assert "No knee across 1, 10, 20 concurrent" in report
    assert "none of these levels had errors" in report
    check_claims(report)


def test_errors_from_the_lowest_level_are_never_told_as_no_errors():
    """The report that said "No knee … and no errors appeared" beside "Errors start at 1
    concurrent (94.9 %)"."""
    run = load_run()
    for concurrency in (1, 5, 10):
        add_level(run, concurrency, 10.0 * concurrency, 25.0, **errors_of("HTTP 401", 380))
    report = rendered_after_analysis(run)

    assert [row[3] for row in curve_table(report)] == [95.0, 95.0, 95.0]
    assert "Errors start at 1 concurrent: 380 of 400 requests (95.0 %)" in report
    assert "errors were there from the lowest level, 1 concurrent (95.0 %)" in report
    check_claims(report)


def test_the_knee_sentence_names_the_level_the_table_shows_bending():
    run = load_run()
    add_level(run, 1, 12.5, 20.0)
    add_level(run, 10, 120.1, 40.0)
    add_level(run, 30, 125.2, 112.0)
    add_level(run, 50, 126.0, 300.0, **errors_of("HTTP 503", 40))
    report = rendered_after_analysis(run)

    assert "Knee at 30 concurrent" in report and "Errors start at 50 concurrent" in report
    check_claims(report)


def test_errors_that_come_back_after_a_clean_level_do_not_move_the_knee_past_their_start():
    run = load_run()
    add_level(run, 1, 10.0, 25.0, **errors_of("HTTP 503", 4))
    add_level(run, 10, 100.0, 25.0)
    add_level(run, 20, 200.0, 25.0, **errors_of("HTTP 503", 8))
    report = rendered_after_analysis(run)

    assert "Errors start at 1 concurrent" in report
    assert "Knee at" not in report
    assert "errors were there from the lowest level, 1 concurrent (1.0 %)" in report
    check_claims(report)


def test_an_endpoint_unmeasured_in_both_passes_is_named_once_with_its_passes():
    run = make_run(mode="both")
    reason = "its path could not be filled"
    add_endpoint(run, "Get Profile")
    add_endpoint(run, "Get Profile", phase="sequential-http", position=0)
    for phase in ("sequential", "sequential-http"):
        add_endpoint(run, "Get Conversations", phase=phase, requests=0, not_measured=reason)
    add_endpoint(run, "Get Lessons", phase="sequential-http", requests=0, not_measured=reason)

    red = verdict.of(read.StoredRun.of(run))

    assert red.code == verdict.RED
    assert red.reasons == (
        f"FAIL: endpoint Get Conversations (in-process and HTTP passes) not measured: {reason}",
        f"FAIL: endpoint Get Lessons (HTTP pass) not measured: {reason}",
    )
