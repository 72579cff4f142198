"""``perftest --check``: the plan as it will run, one real login, coverage; nothing measured."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from perftest.models import Run, SeededObject
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


def nothing_left_behind() -> bool:
    users = get_user_model().objects.filter(username__startswith="perftest-")
    return not Run.objects.exists() and not SeededObject.objects.exists() and not users.exists()


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


@pytest.mark.django_db
@override_settings(
    ROOT_URLCONF="tests.urls",
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


@pytest.mark.django_db
@override_settings(PERFTEST={**THEBOT, "LOGIN": {**THEBOT["LOGIN"], "TOKEN_PATH": "data.key"}})
def test_check_tries_the_login_and_a_wrong_token_path_exits_2():
    lines = checked(exit_code=2)
    (login,) = [line for line in lines if line.startswith("Login")]
    assert login.startswith(
        "Login FAILED: POST /api/auth/login/: HTTP 200 but no token at 'data.key'"
    )
    assert nothing_left_behind()
