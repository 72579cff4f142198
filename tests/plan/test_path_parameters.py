"""Path parameters filled from the seeder's named values and from captured answers.

The stand-in scopes every detail route to the requesting user (another user's lesson or
room is a 404), so an answer of 200 proves the identity sent an id of its own.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from perftest.analysis.rules.configuration import PATH_PARAMETER
from tests.support.live_server import shared_database_url, standin_server  # noqa: F401

SEQUENTIAL = ("--iterations", "3", "--warmup", "0")
TWO_WORKERS = ("--concurrency", "2", "--requests", "24", "--ramp-up", "0")

LIST = """
[[endpoints]]
name = "Get Conversations"
method = "GET"
path = "/api/chat/conversations/"
list = true
weight = 1
"""
MY_LESSON = """
[[endpoints]]
name = "My Lesson"
method = "GET"
path = "/api/scheduling/lessons/{lesson_id}/"
params = {lesson_id = {seed = "lesson_id"}}
weight = 2
"""
MY_ROOM = """
[[endpoints]]
name = "My Room"
method = "GET"
path = "/api/chat/conversations/{room_id}/"
params = {room_id = {from = "Get Conversations", json = "results.0.id"}}
weight = 1
"""
WRONG_CAPTURE = """
[[endpoints]]
name = "Wrong Capture"
method = "GET"
path = "/api/chat/conversations/{room_id}/"
params = {room_id = {from = "Get Conversations", json = "results.0.room"}}
"""


def scenario(tmp_path: Path, *parts: str) -> str:
    path = tmp_path / "scenario.toml"
    path.write_text("".join(parts))
    return str(path)


def rows(run, phase: str = "sequential") -> dict:
    return {row.name: row for row in run.endpoints.filter(phase=phase)}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)  # the level's worker threads read committed rows
def test_seeded_and_captured_ids_are_each_identitys_own_and_a_wrong_capture_is_a_finding(
    run_perftest, tmp_path
):
    path = scenario(tmp_path, LIST, MY_LESSON, MY_ROOM, WRONG_CAPTURE)
    run, report = run_perftest("--scenario", path, *SEQUENTIAL, *TWO_WORKERS, exit_code=1)

    sequential = rows(run)
    for name in ("Get Conversations", "My Lesson", "My Room"):
        assert (sequential[name].requests, sequential[name].ok) == (3, 3), name
    assert sequential["My Lesson"].path == "/api/scheduling/lessons/{lesson_id}/"

    wrong = sequential["Wrong Capture"]
    assert wrong.requests == 0
    assert wrong.configuration["problem"] == "path parameter"
    detail = wrong.configuration["detail"]
    assert detail.startswith("/api/chat/conversations/{room_id}/: {room_id}: no value at ")
    assert "'results.0.room' in the answer of Get Conversations" in detail
    assert "no 'room' at results.0, which holds keys " in detail and " id, " in detail
    (finding,) = run.findings.filter(rule=PATH_PARAMETER)
    assert finding.subject == "Wrong Capture" and "results.0.room" in finding.evidence
    assert "Wrong Capture was not measured: its path could not be filled" in report

    # Two workers, two identities, each with its own seeded lesson and captured room: every
    # answer is a 200 (another identity's id would be a 404). The weights make the mix 1:2:1
    # (about half the requests ask for the lesson); the wrongly captured endpoint is left out.
    level = rows(run, "level")
    assert set(level) == {"Get Conversations", "My Lesson", "My Room"}
    lesson_share = level["My Lesson"].requests / sum(row.requests for row in level.values())
    assert 0.4 <= lesson_share <= 0.6, {name: row.requests for name, row in level.items()}
    assert all(row.ok == row.requests for row in level.values()), {
        name: row.status_counts for name, row in level.items()
    }
    assert run.levels.get().identities == 2


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_value_that_is_not_the_identitys_own_is_refused_by_the_api(run_perftest, tmp_path):
    """The control: one identity's lesson id for everyone answers 200 only to its owner."""
    path = scenario(
        tmp_path,
        'seeder = "tests.support.scenario_seeders.first_users_lesson_for_everyone"\n',
        LIST,
        MY_LESSON,
    )
    # Red: the second worker's lessons are refused, so the level is below the default share
    # of answers as expected every level must reach (success@* >= 90%).
    run, _ = run_perftest("--scenario", path, *SEQUENTIAL, *TWO_WORKERS, exit_code=1)

    assert rows(run)["My Lesson"].ok == 3  # the sequential pass is the first identity
    lesson = rows(run, "level")["My Lesson"]
    assert set(lesson.status_counts) == {"200", "404"}, lesson.status_counts
    (success,) = run.findings.filter(rule="threshold.success", subject="2 concurrent")
    assert success.passed is False and "HTTP 404 ×" in success.evidence


@pytest.mark.slow
@pytest.mark.django_db
def test_a_seed_name_the_seeder_did_not_return_is_a_finding_naming_what_it_returned(
    run_perftest, tmp_path
):
    path = scenario(
        tmp_path,
        LIST,
        MY_LESSON.replace('seed = "lesson_id"', 'seed = "lesson"'),
    )
    run, _ = run_perftest("--scenario", path, *SEQUENTIAL, exit_code=1)

    lesson = rows(run)["My Lesson"]
    assert lesson.requests == 0
    assert lesson.configuration["detail"] == (
        "/api/scheduling/lessons/{lesson_id}/: {lesson_id}: the seeder returned no value "
        "'lesson' for this identity (values it returned: lesson_id, notification_id, room_id)"
    )
    assert rows(run)["Get Conversations"].ok == 3


@pytest.mark.slow
@pytest.mark.django_db
def test_a_seeder_returning_only_instances_still_works_and_gives_no_values(run_perftest, tmp_path):
    path = scenario(
        tmp_path,
        'seeder = "tests.support.scenario_seeders.instances_only"\n',
        LIST,
        MY_LESSON,
        MY_ROOM,
    )
    run, _ = run_perftest("--scenario", path, *SEQUENTIAL, exit_code=1)

    assert rows(run)["My Room"].ok == 3  # captured: needs no seeded value
    assert "(values it returned: none)" in rows(run)["My Lesson"].configuration["detail"]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_over_http_seeded_and_captured_ids_reach_the_server_as_each_identitys_own(
    run_perftest,
    tmp_path,
    standin_server,  # noqa: F811
):
    path = scenario(tmp_path, LIST, MY_LESSON, MY_ROOM)
    run, _ = run_perftest(
        "--scenario", path, "--base-url", standin_server.base_url, *SEQUENTIAL, *TWO_WORKERS
    )

    assert run.mode == "http"
    for phase in ("sequential", "level"):
        measured = rows(run, phase)
        assert set(measured) == {"Get Conversations", "My Lesson", "My Room"}, phase
        for name, row in measured.items():
            assert row.requests and row.ok == row.requests, (phase, name, row.status_counts)
