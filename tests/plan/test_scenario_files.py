"""Scenario files: read over PERFTEST, validated by the same code, checked and run for real."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from perftest.analysis.rules.configuration import METHOD_NOT_ALLOWED, NO_ROUTE, ROUTER_ROOT
from perftest.models import Run
from tests.support.commands import assert_usage_error

pytestmark = pytest.mark.django_db

SHORT = ("--iterations", "3", "--warmup", "0")


def scenario(tmp_path: Path, text: str, name: str = "scenario.toml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def endpoints(*tables: str) -> str:
    return "".join(f"\n[[endpoints]]\n{table.strip()}\n" for table in tables)


PROFILE = 'name = "Get Profile"\nmethod = "GET"\npath = "/api/profile/me/"'
CONVERSATIONS = 'name = "Get Conversations"\nmethod = "GET"\npath = "/api/chat/conversations/"'

INVALID = [
    ("syntax", '[[endpoints]\nname = "x"\n', "not valid TOML: ", "line 1, column"),
    ("unknown key", "iteratons = 5\n", "iteratons: unknown key; known keys here: ", ""),
    (
        "wrong type",
        'iterations = "many"\n',
        "iterations: must be a whole number from 1 to 1,000,000, not 'many'.",
        "",
    ),
    (
        "table of the wrong type",
        'login = "/api/auth/login/"\n',
        "login: must be a dict, not str.",
        "",
    ),
    (
        "bad method",
        endpoints(PROFILE, CONVERSATIONS, 'name = "X"\nmethod = "GETT"\npath = "/api/x/"'),
        "endpoints[2].method: unknown HTTP method 'GETT'; use one of GET, POST",
        "",
    ),
    (
        "placeholder without param",
        endpoints('name = "Room"\nmethod = "GET"\npath = "/api/chat/conversations/{room_id}/"'),
        "endpoints[0].path: has the placeholder {room_id} but no params entry fills it",
        "",
    ),
    (
        "param naming a later endpoint",
        endpoints(
            'name = "Room"\nmethod = "GET"\npath = "/api/chat/conversations/{room_id}/"\n'
            'params = {room_id = {from = "Get Conversations", json = "results.0.id"}}',
            CONVERSATIONS,
        ),
        "endpoints[0].params.room_id.from: names 'Get Conversations', which is not an "
        "endpoint listed before this one",
        "",
    ),
    (
        "threshold that does not parse",
        'thresholds = ["p95 < 500"]\n',
        "thresholds: threshold 'p95 < 500': p95 is a time and needs a unit (us, ms, s)",
        "",
    ),
    (
        "weight not above 0",
        endpoints(PROFILE + "\nweight = 0"),
        "endpoints[0].weight: must be a number above 0 and at most 1,000,000, not 0.",
        "",
    ),
    (
        "header that is not a scalar",
        endpoints(PROFILE + '\nheaders = {Accept = ["a", "b"]}'),
        "endpoints[0].headers: must be a table of request headers",
        "",
    ),
]


@pytest.mark.parametrize(("case", "text", "problem", "more"), INVALID, ids=[c[0] for c in INVALID])
def test_an_invalid_scenario_is_one_line_naming_file_and_key_exit_2_and_nothing_recorded(
    manage, tmp_path, case, text, problem, more
):
    path = scenario(tmp_path, text)
    expected = f"{path}: {problem}"

    with pytest.raises(CommandError) as ended:
        call_command("perftest", "--scenario", path, "--output", str(tmp_path))
    assert ended.value.returncode == 2
    assert str(ended.value).startswith(expected) and more in str(ended.value), ended.value
    assert not Run.objects.exists()

    assert_usage_error(manage("perftest", "--scenario", path, "--output", str(tmp_path)), expected)


def test_a_missing_scenario_file_is_one_line_and_exit_2(manage, tmp_path):
    path = str(tmp_path / "nope.toml")
    missing = f"{path}: no such scenario file."
    assert_usage_error(manage("perftest", "--scenario", path), missing)
    assert_usage_error(manage("perftest", "--check", "--scenario", path), missing)


MISCONFIGURED = endpoints(
    PROFILE,
    'name = "Get Threads"\nmethod = "GET"\npath = "/api/chat/threads/"',
    'name = "Router Root"\nmethod = "GET"\npath = "/test/router/"',
    'name = "Post Notifications"\nmethod = "POST"\npath = "/api/notifications/"',
)


@pytest.mark.slow
@override_settings(ROOT_URLCONF="tests.support.urls")
def test_check_with_a_scenario_names_missing_route_router_root_and_disallowed_method(tmp_path):
    path = scenario(tmp_path, MISCONFIGURED)
    out = io.StringIO()
    with pytest.raises(CommandError) as ended:
        call_command("perftest", "--check", "--scenario", path, stdout=out)
    assert ended.value.returncode == 2
    lines = out.getvalue().splitlines()
    text = "\n".join(lines)
    assert lines[0] == f"Plan: 4 endpoints (in-process; scenario {path})"
    assert "NOT MEASURED: no route in the URLconf for /api/chat/threads/" in text
    assert "    did you mean /api/chat/conversations/" in text
    assert "DRF router root" in text and "/test/router/nothing/" in text
    assert "NOT MEASURED: /api/notifications/ answers GET, not POST" in text
    assert lines[-1] == "Plan needs fixing."
    assert not Run.objects.exists()


@pytest.mark.slow
@override_settings(ROOT_URLCONF="tests.support.urls")
def test_a_run_of_that_scenario_skips_them_as_configuration_findings_and_measures_the_rest(
    run_perftest, tmp_path
):
    path = scenario(tmp_path, MISCONFIGURED)
    run, report = run_perftest("--scenario", path, *SHORT, exit_code=1)

    rows = {row.name: row for row in run.endpoints.filter(phase="sequential")}
    assert rows["Get Profile"].ok == 3 and not rows["Get Profile"].configuration
    assert rows["Get Threads"].requests == 0 and rows["Get Threads"].not_measured
    assert rows["Post Notifications"].requests == 0
    assert rows["Router Root"].requests == 3  # sent, but judged as a router root
    rules = {finding.rule: finding.subject for finding in run.findings.filter(kind="configuration")}
    assert rules[NO_ROUTE] == "Get Threads"
    assert rules[METHOD_NOT_ALLOWED] == "Post Notifications"
    assert rules[ROUTER_ROOT] == "Router Root"
    assert f"Plan: read from the scenario file {path} over the PERFTEST settings" in report
    assert run.config["scenario"] == path


@pytest.mark.slow
def test_scenario_keys_go_over_perftest_and_its_endpoints_replace_the_settings_list(
    run_perftest, tmp_path
):
    """iterations and one login key come from the scenario; the rest of the login, the
    identity and the seeder from PERFTEST; the query string and headers are sent."""
    path = scenario(
        tmp_path,
        'iterations = 4\nwarmup = 0\n[login]\ntoken_path = "data.token"\n'
        + endpoints(
            PROFILE + '\nheaders = {Authorization = "Token not-the-real-one"}',
            'name = "Page 99"\nmethod = "GET"\npath = "/api/scheduling/lessons/"\n'
            "query = {page = 99}\nexpected_status = 404",
            'name = "Open Profile"\nmethod = "GET"\npath = "/api/profile/me/"\nauth = false\n'
            'headers = {Authorization = "Token 0123456789abcdef", '
            'Cookie = "sessionid=s3cr3t-cookie"}\n'
            "expected_status = 401",
        ),
    )
    run, report = run_perftest("--scenario", path)

    rows = {row.name: row for row in run.endpoints.filter(phase="sequential")}
    assert list(rows) == ["Get Profile", "Page 99", "Open Profile"]
    # The login's token wins over a configured Authorization header; without auth the
    # configured header is sent as it is (and refused); ?page=99 is past the last page.
    assert {name: (row.requests, row.ok) for name, row in rows.items()} == {
        "Get Profile": (4, 4),
        "Page 99": (4, 4),
        "Open Profile": (4, 4),
    }
    stored = json.dumps(run.config) + report
    assert "0123456789abcdef" not in stored and "s3cr3t-cookie" not in stored
    assert "not-the-real-one" not in stored
    headers = run.config["endpoints"][2]["headers"]
    assert headers == {"Authorization": "[redacted]", "Cookie": "[redacted]"}
    assert run.config["endpoints"][1]["query"] == {"page": "99"}
