"""``--write-scenario`` on the stand-in, then the written scenario checked and run for real."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from perftest.models import Run
from perftest.plan.scenario_file import read
from tests.support.commands import assert_usage_error
from tests.support.leftovers import nothing_left_behind
from thebot_settings.settings import PERFTEST as THEBOT

pytestmark = pytest.mark.django_db

LISTS = {
    "lesson-list": "/api/scheduling/lessons/",
    "assignment-list": "/api/assignments/",
    "conversation-list": "/api/chat/conversations/",
    "material-list": "/api/materials/",
    "notification-list": "/api/notifications/",
}


@pytest.mark.slow
def test_written_scenario_lists_and_details_with_captured_ids_and_view_comments(tmp_path):
    path = tmp_path / "starter.toml"
    out = io.StringIO()
    call_command("perftest", "--write-scenario", str(path), stdout=out)
    assert out.getvalue().startswith(f"Wrote {path}: 10 endpoints.")

    text = path.read_text()
    written = read(str(path))
    by_name = {endpoint["name"]: endpoint for endpoint in written["endpoints"]}
    assert {name: by_name[name]["path"] for name in LISTS} == LISTS
    assert all(by_name[name]["list"] is True for name in LISTS)
    detail = by_name["conversation-detail"]
    assert detail["path"] == "/api/chat/conversations/{pk}/"
    assert detail["params"] == {"pk": {"from": "conversation-list", "json": "results.0.id"}}
    assert written["login"]["token_path"] == "data.token"
    assert written["identity"]["fields"] == {"role": "student"}
    blocks = text.split("[[endpoints]]")
    assert all(
        block.rstrip().splitlines()[-1].startswith("# view: thebot_settings.standin.views.")
        for block in blocks[:-1]
    )
    assert "/api/profile/me/" not in text and 'path = "/api/"' not in text


@pytest.mark.slow
def test_an_existing_file_is_refused_unless_forced(manage, tmp_path):
    path = tmp_path / "starter.toml"
    path.write_text("# mine\n")
    assert_usage_error(
        manage("perftest", "--write-scenario", str(path)),
        f"{path}: the file exists; perftest does not overwrite it (--force).",
    )
    assert path.read_text() == "# mine\n"

    call_command("perftest", "--write-scenario", str(path), "--force", stdout=io.StringIO())
    assert "[[endpoints]]" in path.read_text()


@pytest.mark.slow
def test_the_written_scenario_checks_clean_and_runs_clean(run_perftest, tmp_path):
    path = str(tmp_path / "starter.toml")
    call_command("perftest", "--write-scenario", path, stdout=io.StringIO())

    out = io.StringIO()
    call_command("perftest", "--check", "--scenario", path, stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[-1] == "Plan clean." and not any("NOT MEASURED" in line for line in lines)
    detail = lines.index(next(line for line in lines if "conversation-detail" in line))
    assert lines[detail + 1] == "    {pk}: captured from conversation-list at 'results.0.id'"

    run, _ = run_perftest("--scenario", path, "--iterations", "2", "--warmup", "0")
    rows = list(run.endpoints.filter(phase="sequential"))
    assert len(rows) == 10
    assert all(row.ok == row.requests == 2 for row in rows), {r.name: r.ok for r in rows}
    assert not any(row.configuration for row in rows)
    assert not run.findings.filter(kind="configuration").exists()
    assert Run.objects.get(pk=run.pk).status == "completed"


def test_a_folder_that_cannot_be_written_is_one_line_and_exit_2(tmp_path):
    path = tmp_path / "missing-folder" / "starter.toml"
    with pytest.raises(CommandError) as ended:
        call_command("perftest", "--write-scenario", str(path))
    assert ended.value.returncode == 2
    assert str(ended.value) == f"{path}: cannot write the scenario: No such file or directory."


@pytest.mark.slow
@override_settings(ROOT_URLCONF="tests.support.plan_urls")
def test_shadowed_refused_and_unfillable_routes_are_comments_and_router_lists_are_written(
    tmp_path,
):
    path = tmp_path / "starter.toml"
    call_command("perftest", "--write-scenario", str(path), stdout=io.StringIO())

    written = read(str(path))
    paths = [endpoint["path"] for endpoint in written["endpoints"]]
    assert len(paths) == len(set(paths))
    # Lists of routers written as platforms write them: at the include's root (beside
    # DRF's router root on the same path), and with an optional trailing slash.
    for kept in ("/test/plan/items/", "/test/plan/items/{pk}/", "/test/plan/chat/"):
        assert kept in paths
    assert "/test/plan/rooms/" in paths
    assert not any("recent" in p or "gradebook" in p or "members" in p for p in paths), paths

    comments = [line for line in path.read_text().splitlines() if line.startswith("# GET ")]
    assert comments == [
        "# GET /test/plan/items/recent/ (item-recent, tests.support.plan_views.RecentItemViewSet): "
        "shadowed: its path reaches /test/plan/items/<pk>/ (item-detail, "
        "tests.support.plan_views.ItemViewSet)",
        "# GET /test/plan/rooms/<int:room>/members/<int:member>/ (room-member, "
        "tests.support.plan_views.RoomMemberView): no list route above it gives {room}, {member}; "
        "write the endpoint with params (from = a list endpoint, json = where the value is) "
        "or a seeder's value (seed)",
        "# GET /test/plan/gradebook/ (gradebook-list, tests.support.plan_views.GradebookViewSet): "
        "answered 403, expected 200: refused to the identity (role='student'); measure it as "
        "a role that may see it (PERFTEST['IDENTITY']['ROLES']) or leave it out",
    ]
    assert nothing_left_behind()


@override_settings(PERFTEST={**THEBOT, "LOGIN": {**THEBOT["LOGIN"], "PATH": "/api/auth/signin/"}})
def test_a_draft_that_cannot_be_sent_is_still_written_with_the_reason_it_was_not_checked(
    tmp_path,
):
    path = tmp_path / "starter.toml"
    out = io.StringIO()
    call_command("perftest", "--write-scenario", str(path), stdout=out)
    reason = (
        "Not checked against the target: No route in the URLconf for: login (/api/auth/signin/)"
    )
    assert out.getvalue().splitlines()[1].startswith(reason)
    assert f"# {reason}" in path.read_text()
    assert len(read(str(path))["endpoints"]) == 10
    assert nothing_left_behind()
