"""Configuration problems are findings, not aborts: a missing route is skipped with the routes
probably meant, a DRF router root and always-empty lists are measured but named for what they
are, and the rest of the run is measured as usual."""

from __future__ import annotations

import pytest
from django.test import override_settings

from perftest.analysis.rules.configuration import (
    EMPTY_LIST,
    METHOD_NOT_ALLOWED,
    NO_ROUTE,
    ROUTER_ROOT,
)
from perftest.analysis.rules.endpoints import HIGHEST_P95, LOWEST_P95
from perftest.analysis.thresholds import RESPONSE_TIME
from perftest.measure.endpoint_result import EndpointResult
from perftest.measure.transport.base import RequestSpec
from perftest.measure.transport.http import HttpTransport
from perftest.plan.discover import closest_routes
from perftest.plan.model import Endpoint
from perftest.redact import Redactor
from tests.support.live_server import shared_database_url, standin_server  # noqa: F401
from thebot_settings.settings import PERFTEST as THEBOT

LOGIN, PROFILE = THEBOT["ENDPOINTS"][:2]
MISCONFIGURED = {
    **THEBOT,
    "ENDPOINTS": [
        LOGIN,
        PROFILE,
        {"name": "Get Threads", "method": "GET", "path": "/api/chat/threads/"},
        {"name": "Router Root", "method": "GET", "path": "/test/router/"},
        {"name": "Empty Page", "method": "GET", "path": "/test/router/nothing/"},
        {"name": "Empty Array", "method": "GET", "path": "/test/empty-array/", "auth": False},
    ],
}


def _by_rule(run, kind: str = "configuration") -> dict[str, list]:
    found: dict[str, list] = {}
    for finding in run.findings.filter(kind=kind):
        found.setdefault(finding.rule, []).append(finding)
    return found


@pytest.mark.slow
@pytest.mark.django_db
@override_settings(ROOT_URLCONF="tests.support.urls", PERFTEST=MISCONFIGURED)
def test_a_missing_route_is_skipped_with_suggestions_the_rest_measured_and_the_run_red(
    run_perftest,
):
    run, report = run_perftest("--iterations", "3", "--warmup", "0", exit_code=1)

    rows = {row.name: row for row in run.endpoints.filter(phase="sequential")}
    missing = rows["Get Threads"]
    assert missing.requests == 0 and "no route in the URLconf" in missing.not_measured
    assert missing.configuration["problem"] == "no route"
    assert missing.configuration["suggestions"][0] == "/api/chat/conversations/"
    for name in ("Login", "Get Profile", "Router Root", "Empty Page", "Empty Array"):
        assert rows[name].requests == 3 and rows[name].ok == 3, name

    (no_route,) = _by_rule(run)[NO_ROUTE]
    assert no_route.subject == "Get Threads"
    assert "/api/chat/threads/" in no_route.title
    assert "/api/chat/conversations/" in no_route.evidence
    assert "/api/chat/conversations/" in no_route.recommendation
    assert (
        "## Configuration problems" in report and "did you mean /api/chat/conversations/" in report
    )


@pytest.mark.slow
@pytest.mark.django_db
@override_settings(
    PERFTEST={
        **THEBOT,
        "ENDPOINTS": [
            PROFILE,
            {"name": "Post Notifications", "method": "POST", "path": "/api/notifications/"},
        ],
    }
)
def test_a_method_the_route_does_not_answer_is_skipped_as_a_configuration_finding(run_perftest):
    run, report = run_perftest("--iterations", "3", "--warmup", "0", exit_code=1)

    rows = {row.name: row for row in run.endpoints.filter(phase="sequential")}
    posted = rows["Post Notifications"]
    assert posted.requests == 0
    assert posted.configuration["problem"] == "method not allowed"
    assert "/api/notifications/ answers GET, not POST" in posted.not_measured
    assert rows["Get Profile"].ok == 3
    (finding,) = _by_rule(run)[METHOD_NOT_ALLOWED]
    assert finding.subject == "Post Notifications"
    assert "405" in finding.evidence and "(POST)" in finding.recommendation
    assert "Post Notifications was not measured: /api/notifications/ answers GET" in report


@pytest.mark.slow
@pytest.mark.django_db
@override_settings(ROOT_URLCONF="tests.support.urls", PERFTEST=MISCONFIGURED)
def test_a_router_root_is_named_with_its_list_routes_and_gets_no_latency_verdict(run_perftest):
    run, _ = run_perftest("--iterations", "3", "--warmup", "0", exit_code=1)

    root = run.endpoints.get(phase="sequential", name="Router Root")
    assert root.body_kind == "links" and root.configuration["problem"] == "router root"
    assert root.configuration["suggestions"] == [
        "/test/router/nothing/",
        "/test/router/more-nothing/",
    ]
    (finding,) = _by_rule(run)[ROUTER_ROOT]
    assert "/test/router/nothing/" in finding.evidence and finding.subject == "Router Root"

    threshold = run.findings.get(rule=RESPONSE_TIME, subject="Router Root")
    assert threshold.passed is None and threshold.actual == "not measured"
    assert "no verdict" in threshold.evidence and "DRF router root" in threshold.evidence
    ranked = run.findings.filter(rule__in=[HIGHEST_P95, LOWEST_P95]).values_list(
        "subject", flat=True
    )
    assert ranked and "Router Root" not in ranked


@pytest.mark.slow
@pytest.mark.django_db
@override_settings(ROOT_URLCONF="tests.support.urls", PERFTEST=MISCONFIGURED)
def test_lists_whose_every_answer_was_empty_ask_for_a_seeder(run_perftest):
    run, _ = run_perftest("--iterations", "3", "--warmup", "0", exit_code=1)

    rows = {row.name: row for row in run.endpoints.filter(phase="sequential")}
    assert (rows["Empty Page"].body_kind, rows["Empty Page"].empty_answers) == ("page", 3)
    assert (rows["Empty Array"].body_kind, rows["Empty Array"].empty_answers) == ("list", 3)
    empty = {f.subject: f for f in _by_rule(run)[EMPTY_LIST]}
    assert set(empty) == {"Empty Page", "Empty Array"}
    assert "the timings describe an empty page" in empty["Empty Page"].evidence
    assert "SEEDER" in empty["Empty Page"].recommendation


@pytest.mark.slow
@pytest.mark.django_db
def test_a_healthy_seeded_stand_in_run_has_no_configuration_finding(run_perftest):
    run, report = run_perftest("--iterations", "2", "--warmup", "0")

    assert not run.findings.filter(kind="configuration").exists()
    assert "Configuration problems" not in report
    lists = run.endpoints.filter(phase="sequential", body_kind="page")
    assert lists.count() == 5 and all(row.empty_answers == 0 for row in lists)


def test_closest_routes_prefer_the_shared_leading_segments():
    routes = ["/api/auth/login/", "/api/chat/", "/api/materials/", "/api/chat/<pk>/", "/admin/"]
    assert closest_routes("/api/chat/conversations/", routes)[0] == "/api/chat/"
    assert closest_routes("/nothing/like/it/", routes) == ()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_over_http_a_router_root_is_recognised_from_its_answer(standin_server):  # noqa: F811
    """The plan cannot see the server's URLconf; the answer's links give the router root away."""
    endpoint = Endpoint("Router Root", "GET", "/test/router/", 200, auth=False)
    row = EndpointResult.empty(endpoint)
    with HttpTransport(standin_server.base_url) as transport:
        sample = transport.send(RequestSpec("Router Root", "GET", "/test/router/", (), None, None))
    row.record(sample, Redactor())

    assert sample.status == 200 and row.body_kind == "links"
    assert row.configuration["problem"] == "router root"
    assert row.configuration["suggestions"] == [
        "/test/router/nothing/",
        "/test/router/more-nothing/",
    ]


@override_settings(ROOT_URLCONF="tests.support.urls", PERFTEST=MISCONFIGURED)
def test_load_levels_leave_out_a_path_with_no_route_and_a_missing_login_skips_only_auth():
    from perftest.conf import get_config
    from perftest.plan.build import build_plan
    from perftest.plan.routes import check_routes

    plan = check_routes(build_plan(get_config(), concurrency="2"))
    assert "Get Threads" not in plan.load.mix.names and "Get Profile" in plan.load.mix.names

    login_gone = {**MISCONFIGURED, "LOGIN": {**THEBOT["LOGIN"], "PATH": "/api/auth/signin/"}}
    with override_settings(PERFTEST=login_gone):
        plan = check_routes(build_plan(get_config()))
    problems = {e.name: e.problem for e in plan.endpoints}
    assert problems["Empty Array"] is None  # needs no token: still measured
    assert problems["Get Profile"].problem == "no login route"
    assert problems["Get Profile"].suggestions[0] == "/api/auth/login/"
