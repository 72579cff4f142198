"""``perftest --check``: the plan as it will run, one real login, coverage; nothing measured."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from perftest.plan.discover import closest_routes
from tests.support.counting import count_by_method
from tests.support.leftovers import nothing_left_behind
from tests.support.live_server import run_gunicorn, shared_database_url  # noqa: F401
from thebot_settings.settings import PERFTEST as THEBOT


def checked(exit_code: int = 0) -> list[str]:
    out = io.StringIO()
    if exit_code:
        with pytest.raises(CommandError) as ended:
            call_command("perftest", "--check", stdout=out)
        assert ended.value.returncode == exit_code
        assert str(ended.value) == "The plan needs fixing (see above); nothing was measured."
    else:
        call_command("perftest", "--check", stdout=out)
    return out.getvalue().splitlines()


@pytest.mark.slow
@pytest.mark.django_db
def test_check_of_the_stand_in_shows_each_status_views_lists_and_the_login():
    lines = checked()
    assert lines[0] == "Plan: 7 endpoints (in-process)"
    lessons = next(line for line in lines if line.strip().startswith("Get Lessons"))
    assert lessons.split()[-4:] == [
        "200",
        "->",
        "thebot_settings.standin.views.learning.LessonViewSet",
        "(list)",
    ]
    profile = next(line for line in lines if line.strip().startswith("Get Profile"))
    assert profile.split()[-3] == "200" and not profile.endswith("(list)")
    login = lines.index(next(line for line in lines if line.strip().startswith("Login  ")))
    assert lines[login].split()[3] == "200"
    assert lines[login + 1] == "    the check's login"
    assert any(
        line.startswith("Login: POST /api/auth/login/ answered 200") and "'data.token'" in line
        for line in lines
    )
    assert not any("PROBLEM" in line for line in lines)
    assert lines[-1] == "Plan clean."
    assert nothing_left_behind()


@pytest.mark.slow
@pytest.mark.django_db
@override_settings(
    ROOT_URLCONF="tests.support.urls",
    PERFTEST={
        **THEBOT,
        "ENDPOINTS": [
            THEBOT["ENDPOINTS"][1],
            {"name": "Get Threads", "method": "GET", "path": "/api/chat/threads/"},
            {"name": "Router Root", "method": "GET", "path": "/test/router/"},
            {"name": "Post Notifications", "method": "POST", "path": "/api/notifications/"},
        ],
    },
)
def test_check_names_a_missing_route_a_router_root_and_a_disallowed_method_and_exits_2():
    lines = checked(exit_code=2)
    text = "\n".join(lines)
    assert "NOT MEASURED: no route in the URLconf for /api/chat/threads/" in text
    assert "    did you mean /api/chat/conversations/" in text
    assert "DRF router root" in text and "/test/router/nothing/" in text
    assert "NOT MEASURED: /api/notifications/ answers GET, not POST" in text
    assert lines[-1] == "Plan needs fixing."
    assert nothing_left_behind()


@pytest.mark.slow
@pytest.mark.django_db
@override_settings(PERFTEST={**THEBOT, "LOGIN": {**THEBOT["LOGIN"], "TOKEN_PATH": "data.key"}})
def test_check_tries_the_login_and_a_wrong_token_path_exits_2():
    lines = checked(exit_code=2)
    (login,) = [line for line in lines if line.startswith("Login")]
    assert login.startswith(
        "Login FAILED: POST /api/auth/login/: HTTP 200 but no token at 'data.key'"
    )
    assert nothing_left_behind()


def test_suggestions_for_a_missing_path_prefer_the_enclosing_collection_then_lists():
    routes = ["/api/assignments/", "/api/chat/contacts/", "/api/chat/<pk>/", "/api/chat/"]
    lists = {"/api/chat/", "/api/chat/rooms/"}
    assert closest_routes("/api/chat/conversations/", routes, lists=lists) == (
        "/api/chat/",
        "/api/chat/contacts/",
        "/api/chat/<pk>/",
    )
    among = ["/api/chat/threads-old/", "/api/chat/rooms/"]
    assert closest_routes("/api/chat/threads/", among, lists=lists)[0] == "/api/chat/rooms/"
    assert closest_routes("/api/chat/threads/", among)[0] == "/api/chat/threads-old/"


@pytest.fixture(scope="module")
def plan_server(shared_database_url):  # noqa: F811
    """gunicorn serving ``tests.support.plan_urls``, counting the requests it handles by method."""
    with run_gunicorn(shared_database_url, settings="tests.support.plan_http_settings") as server:
        yield server


#: A hand-written plan with each kind of endpoint that answers other than expected, and two
#: that write.
HAND_WRITTEN = [
    {"name": "Items", "method": "GET", "path": "/test/plan/items/"},
    {"name": "Recent Items", "method": "GET", "path": "/test/plan/items/recent/"},
    {"name": "Items Anonymously", "method": "GET", "path": "/test/plan/items/", "auth": False},
    {"name": "Gradebook", "method": "GET", "path": "/test/plan/gradebook/"},
    {
        "name": "Room Member",
        "method": "GET",
        "path": "/test/plan/rooms/{room}/members/{member}/",
        "params": {
            "room": {"from": "Items", "json": "0.room"},
            "member": {"from": "Items", "json": "0.id"},
        },
    },
    {
        "name": "Add Item",
        "method": "POST",
        "path": "/test/plan/items/",
        "body": {"name": "third"},
        "expected_status": 201,
    },
    {
        "name": "Drop Item",
        "method": "DELETE",
        "path": "/test/plan/items/{pk}/",
        "params": {"pk": {"from": "Items", "json": "0.id"}},
        "expected_status": 204,
    },
]


def _row(lines: list[str], name: str) -> tuple[str, list[str]]:
    """The status shown beside an endpoint, and the indented lines under it."""
    start = next(i for i, line in enumerate(lines) if line.startswith(f"  {name}  "))
    under = []
    for line in lines[start + 1 :]:
        if not line.startswith("    "):
            break
        under.append(line.strip())
    words = lines[start].split()
    return words[words.index("->") - 1], under


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@override_settings(
    ROOT_URLCONF="tests.support.plan_urls", PERFTEST={**THEBOT, "ENDPOINTS": HAND_WRITTEN}
)
def test_check_sends_each_get_once_and_names_each_unexpected_status_with_its_cause(plan_server):
    before = count_by_method(str(plan_server.count_file))
    out = io.StringIO()
    with pytest.raises(CommandError) as ended:
        call_command("perftest", "--check", "--base-url", plan_server.base_url, stdout=out)
    assert ended.value.returncode == 2
    lines = out.getvalue().splitlines()
    assert lines[-1] == "Plan needs fixing."

    status, under = _row(lines, "Items")
    assert status == "200" and under == []
    status, under = _row(lines, "Recent Items")
    assert status == "404"
    assert under == [
        "PROBLEM: answered 404, expected 200: shadowed, its path reaches /test/plan/items/<pk>/ "
        "(item-detail, tests.support.plan_views.ItemViewSet)"
    ]
    status, under = _row(lines, "Items Anonymously")
    assert status == "401"
    assert under == [
        "PROBLEM: answered 401, expected 200: the view needs a login, but the endpoint is "
        "configured auth = false"
    ]
    status, under = _row(lines, "Gradebook")
    assert status == "403"
    assert under[0].startswith(
        "PROBLEM: answered 403, expected 200: refused to the identity (role='student')"
    )
    status, under = _row(lines, "Room Member")
    assert status == "-"
    assert under[:2] == [
        "{room}: captured from Items at '0.room'",
        "{member}: captured from Items at '0.id'",
    ]
    assert under[2].startswith(
        "PROBLEM: not sent: /test/plan/rooms/{room}/members/{member}/: {room}: no value at "
        "'0.room' in the answer of Items"
    )
    for name, method in (("Add Item", "POST"), ("Drop Item", "DELETE")):
        status, under = _row(lines, name)
        assert status == "-"
        assert under[-1:] == [f"not sent: {method} writes (--check-writes sends it)"]

    sent = count_by_method(str(plan_server.count_file)) - before
    # Four GETs (the fifth could not be filled) and the check's one login: nothing written.
    assert sent == Counter({"GET": 4, "POST": 1})
    assert nothing_left_behind()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@override_settings(
    ROOT_URLCONF="tests.support.plan_urls", PERFTEST={**THEBOT, "ENDPOINTS": HAND_WRITTEN}
)
def test_check_writes_sends_the_methods_that_write_when_asked(plan_server):
    before = count_by_method(str(plan_server.count_file))
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "perftest", "--check", "--check-writes", "--base-url", plan_server.base_url,
            stdout=out,
        )  # fmt: skip
    lines = out.getvalue().splitlines()
    assert _row(lines, "Add Item")[0] == "201"
    assert _row(lines, "Drop Item")[0] == "204"
    sent = count_by_method(str(plan_server.count_file)) - before
    assert sent == Counter({"GET": 4, "POST": 2, "DELETE": 1})
    assert nothing_left_behind()


@pytest.mark.slow
@pytest.mark.django_db
@override_settings(
    ROOT_URLCONF="tests.support.plan_urls",
    PERFTEST={
        **THEBOT,
        "IDENTITY": {
            **THEBOT["IDENTITY"],
            "ROLES": [
                {"name": "student", "count": 2, "fields": {"role": "student"}},
                {"name": "teacher", "count": 1, "fields": {"role": "teacher"}},
            ],
        },
        "ENDPOINTS": [e for e in HAND_WRITTEN if e["name"] in ("Items", "Gradebook")],
    },
)
def test_with_roles_each_role_sends_once_and_a_refusal_names_the_role_that_sees_it():
    lines = checked(exit_code=2)
    items = next(line for line in lines if line.startswith("  Items "))
    gradebook = next(line for line in lines if line.startswith("  Gradebook "))
    assert "  student:200 teacher:200  -> tests.support.plan_views.ItemViewSet" in items
    assert "  student:403 teacher:200  -> tests.support.plan_views.GradebookViewSet" in gradebook
    assert _row(lines, "Gradebook")[1] == [
        "PROBLEM: student: answered 403, expected 200: refused to role 'student'; measure it "
        "as a role that may see it (PERFTEST['IDENTITY']['ROLES']) or leave it out; it answers "
        "role 'teacher' as expected"
    ]
    assert nothing_left_behind()
