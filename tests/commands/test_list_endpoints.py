"""``perftest --list-endpoints``: the target's routes read off its URLconf, nothing measured."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from perftest.models import Run


def listed(**kwargs) -> dict[str, list[str]]:
    out = io.StringIO()
    call_command("perftest", "--list-endpoints", stdout=out, **kwargs)
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["METHODS", "PATH", "NAME", "AUTH", "LIST", "PARAMETERS", "VIEW"]
    rows = {}
    for line in lines[1:]:
        cells = line.split()
        if cells[1].startswith("/"):
            rows[cells[1]] = cells
    return rows | {"": lines}


@pytest.mark.django_db
def test_list_endpoints_shows_methods_auth_lists_and_parameters_of_drf_routes(client):
    # DRF adds HEAD to a viewset's actions at its first GET; the listing reads the same after.
    client.get("/api/scheduling/lessons/")
    rows = listed()
    lessons = rows["/api/scheduling/lessons/"]
    assert lessons[:6] == ["GET,POST", "/api/scheduling/lessons/", "lesson-list", "yes", "yes", "-"]
    assert lessons[6] == "thebot_settings.standin.views.learning.LessonViewSet"
    detail = rows["/api/scheduling/lessons/<pk>/"]
    assert detail[0] == "GET,PUT,PATCH,DELETE"
    assert detail[3:6] == ["yes", "no", "pk"]
    assert rows["/api/auth/login/"][:5] == ["POST", "/api/auth/login/", "login", "no", "no"]
    assert rows["/api/"][4] == "no"  # the router root links to lists; it is not one
    assert not any(path.startswith("/admin/") for path in rows)
    assert any(line.endswith("of Django's admin site not listed.") for line in rows[""])
    assert not Run.objects.exists()  # nothing was measured or stored


@pytest.mark.django_db
def test_list_endpoints_says_what_it_cannot_tell_of_a_plain_django_view(settings):
    settings.ROOT_URLCONF = "tests.support.urls"
    slow = listed()["/test/slow/"]
    assert slow == ["?", "/test/slow/", "-", "?", "no", "-", "tests.support.views.slow"]
