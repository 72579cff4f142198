"""``--check --baseline``: the routes a target gained since a stored run are listed."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.urls import clear_url_caches, path

from perftest.models import Run
from tests.support import growing_urls, views

pytestmark = pytest.mark.django_db


def checked(*args: str) -> list[str]:
    out = io.StringIO()
    call_command("perftest", "--check", *args, stdout=out)
    return out.getvalue().splitlines()


@pytest.fixture
def added_route():
    """Adds ``/test/added-later/`` to the growing URLconf when called; removed afterwards."""
    original = list(growing_urls.urlpatterns)

    def add() -> None:
        growing_urls.urlpatterns.append(path("test/added-later/", views.slow))
        clear_url_caches()

    yield add
    growing_urls.urlpatterns[:] = original
    clear_url_caches()


@pytest.mark.slow
@override_settings(ROOT_URLCONF="tests.support.growing_urls")
def test_a_route_added_after_the_baseline_run_is_listed_as_new(run_perftest, added_route):
    before, _ = run_perftest("--iterations", "1", "--warmup", "0")
    assert "/test/slow/" in before.config["routes"]
    assert "/test/added-later/" not in before.config["routes"]

    added_route()
    for baseline in (str(before.pk), "latest"):
        lines = checked("--baseline", baseline)
        start = lines.index(f"New routes since run #{before.pk}: 1")
        assert lines[start + 1] == "  ? /test/added-later/"
        assert lines[-1] == "Plan clean."

    again, _ = run_perftest("--iterations", "1", "--warmup", "0")
    assert again.plan_fingerprint == before.plan_fingerprint  # routes are not part of it
    assert "/test/added-later/" in again.config["routes"]
    assert f"New routes since run #{again.pk}: none." in checked("--baseline", "latest")


@pytest.mark.slow
@override_settings(ROOT_URLCONF="tests.support.growing_urls")
def test_a_baseline_without_a_route_list_or_of_another_target_says_so(run_perftest):
    old, _ = run_perftest("--iterations", "1", "--warmup", "0")
    config = {key: value for key, value in old.config.items() if key != "routes"}
    Run.objects.filter(pk=old.pk).update(config=config)
    lines = checked("--baseline", str(old.pk))
    assert (
        f"New routes: not compared: run #{old.pk} was stored before runs kept the target's "
        "routes." in lines
    )

    Run.objects.filter(pk=old.pk).update(target="http://127.0.0.1:9/")
    with pytest.raises(CommandError) as ended:
        checked("--baseline", str(old.pk))
    assert ended.value.returncode == 2
    assert f"run #{old.pk} measured http://127.0.0.1:9/" in str(ended.value)
    assert "New routes: not compared: no completed run of this target" in "\n".join(
        checked("--baseline", "latest")
    )


@pytest.mark.slow
def test_coverage_is_a_count_per_path_prefix_and_every_uncovered_route_only_when_asked():
    lines = checked()
    start = lines.index("Coverage: 7 of 13 routes measured, by path prefix:")
    assert lines[start + 1 : start + 10] == [
        "  /api/auth/           1 of 1",
        "  /api/profile/        1 of 1",
        "  /api/scheduling/     1 of 2",
        "  /api/assignments/    1 of 2",
        "  /api/chat/           1 of 2",
        "  /api/materials/      1 of 2",
        "  /api/notifications/  1 of 2",
        "  /api/                0 of 1",
        "6 routes not measured by any endpoint (--check --uncovered lists them).",
    ]
    assert not any("<pk>" in line for line in lines)

    listed = checked("--uncovered")
    start = listed.index("Not measured by any endpoint:")
    assert listed[start + 1 : start + 7] == [
        "  GET,PUT,PATCH,DELETE /api/scheduling/lessons/<pk>/",
        "  GET,PUT,PATCH,DELETE /api/assignments/<pk>/",
        "  GET /api/chat/conversations/<pk>/",
        "  GET,PUT,PATCH,DELETE /api/materials/<pk>/",
        "  GET /api/notifications/<pk>/",
        "  GET /api/",
    ]
    assert listed[-1] == "Plan clean."
