"""A token the API refuses although the login gave one: the finding names the login's scheme,
header and token path with what was sent, never the token, and not permissions.

Real runs against the stand-in, whose views use DRF's TokenAuthentication
(``Authorization: Token <key>``): in-process once with ``LOGIN['SCHEME'] = 'Bearer'`` and once
with the token in a header DRF does not read, and over HTTP against gunicorn with both.
"""

from __future__ import annotations

import json

import pytest
from django.test import override_settings
from rest_framework.authtoken.models import Token

from perftest.analysis.rules import configuration
from perftest.measure import auth
from perftest.models import Run
from tests.support.live_server import shared_database_url, standin_server  # noqa: F401
from tests.support.stored_rows import add_endpoint, analyzed, make_run, of_rule
from thebot_settings.thebot import THEBOT_PERFTEST

#: DRF's token keys are this long, so the finding can say how long a token was sent.
KEY_CHARS = Token._meta.get_field("key").max_length


@pytest.fixture
def tokens(monkeypatch) -> list[str]:
    """Every token a login of the run returned, to prove none was stored or reported."""
    seen: list[str] = []
    read = auth._token_at

    def recording(payload, path):
        token = read(payload, path)
        if token:
            seen.append(token)
        return token

    monkeypatch.setattr(auth, "_token_at", recording)
    return seen


def with_login(**changed: str) -> dict:
    return {**THEBOT_PERFTEST, "LOGIN": {**THEBOT_PERFTEST["LOGIN"], **changed}, "SEEDER": None}


WRONG = pytest.mark.parametrize(
    ("login", "sent"),
    [
        ({"SCHEME": "Bearer"}, f"Authorization: Bearer <token {KEY_CHARS} chars>"),
        ({"HEADER": "X-Auth-Token"}, f"X-Auth-Token: Token <token {KEY_CHARS} chars>"),
    ],
    ids=["wrong scheme", "wrong header"],
)


@pytest.mark.slow
@pytest.mark.django_db
@WRONG
def test_a_refused_token_names_the_login_settings_and_what_was_sent(
    login, sent, tokens, run_perftest
):
    with override_settings(PERFTEST=with_login(**login)):
        run, report = run_perftest("--iterations", "2", "--warmup", "0", exit_code=1)
    assert_refused(run, report, sent, tokens)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@WRONG
def test_over_http_a_refused_token_names_the_login_settings_and_what_was_sent(
    login,
    sent,
    tokens,
    run_perftest,
    standin_server,  # noqa: F811
):
    with override_settings(PERFTEST=with_login(**login)):
        run, report = run_perftest(
            "--base-url", standin_server.base_url, "--iterations", "2", "--warmup", "0",
            exit_code=1,
        )  # fmt: skip
    assert run.logins and all(attempt["transport"] == "http" for attempt in run.logins)
    assert_refused(run, report, sent, tokens)


def assert_refused(run: Run, report: str, sent: str, tokens: list[str]) -> None:
    """The run is red, with one finding naming the login settings and what was sent, and no
    token anywhere in the stored run or its report."""

    assert run.status == Run.Status.COMPLETED
    assert all(attempt["ok"] for attempt in run.logins)
    [refused] = run.findings.filter(rule=configuration.TOKEN_REFUSED)
    assert "every endpoint that sends it answered HTTP 401 (6 endpoints)" in refused.title
    assert f"each request then sent {sent}" in refused.evidence
    assert "'data.token'" in refused.evidence
    assert "The API said: " in refused.evidence and "credentials" in refused.evidence
    for setting in ("['SCHEME']", "['HEADER']", "['TOKEN_PATH']"):
        assert f"PERFTEST['LOGIN']{setting}" in refused.recommendation
        assert f"PERFTEST['LOGIN']{setting}" in report
    assert sent in report
    # Each endpoint's own 401 points at the same settings, not at statuses and permissions.
    refusals = run.findings.filter(subject="Get Profile", title__contains="HTTP 401")
    assert refusals.exists()
    for finding in refusals:
        assert "permission" not in finding.recommendation
        assert "expected status" not in finding.recommendation
        assert "PERFTEST['LOGIN']['SCHEME']" in finding.recommendation
    # No token reached the stored run or the report.
    assert tokens and all(len(token) == KEY_CHARS for token in tokens)
    stored = json.dumps(
        [
            run.config,
            run.logins,
            run.notes,
            list(run.findings.values()),
            list(run.endpoints.values("errors", "status_counts")),
        ],
        default=str,
    )
    for token in tokens:
        assert token not in stored and token not in report


@pytest.mark.slow
@pytest.mark.django_db
@override_settings(PERFTEST={**THEBOT_PERFTEST, "SEEDER": None})
def test_a_token_that_works_gives_no_refused_token_finding(run_perftest):
    run, _ = run_perftest("--iterations", "2", "--warmup", "0", "--exit-zero")

    assert not run.findings.filter(rule=configuration.TOKEN_REFUSED).exists()


def stored_run(answers: dict[str, str], login_ok: bool = True) -> Run:
    """A stored run whose endpoints (all sending the token) answered ``answers`` (name: status)
    to every one of 20 requests, after a login that did or did not give a token."""
    login = {"path": "/api/auth/login/", "header": "Authorization", "scheme": "Bearer"}
    planned = [{"name": name, "auth": True, "is_login": False} for name in answers]
    attempt = {"identity": "perftest-1", "status": 200 if login_ok else 400, "ok": login_ok}
    run = make_run(
        config={"thresholds": {}, "login": {**login, "token_path": "access"}, "endpoints": planned},
        logins=[{**attempt, "elapsed_ns": 10**6, "reason": "", "token_chars": 200}],
    )
    for name, status in answers.items():
        ok = 20 if status == "200" else 0
        errors = [] if ok else [{"reason": f"HTTP {status}", "count": 20, "example": "no"}]
        add_endpoint(run, name, ok=ok, status_counts={status: 20}, errors=errors)
    return run


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("answers", "login_ok", "fires"),
    [
        ({"Profile": "403", "Lessons": "403"}, True, True),
        ({"Profile": "401", "Lessons": "200"}, True, False),  # the token works for Lessons
        ({"Profile": "401", "Lessons": "403"}, True, False),  # not the same way
        ({"Profile": "404", "Lessons": "404"}, True, False),
        ({"Profile": "401", "Lessons": "401"}, False, False),  # the login failed: its finding
    ],
)
def test_the_refused_token_finding_needs_one_401_or_403_everywhere_after_a_login(
    answers, login_ok, fires
):
    found = of_rule(analyzed(stored_run(answers, login_ok)), configuration.TOKEN_REFUSED)

    assert bool(found) is fires
    if fires:
        [refused] = found
        assert "Authorization: Bearer <token 200 chars>" in refused.evidence
        assert "'access'" in refused.evidence
        assert "can also be a role" in refused.recommendation
