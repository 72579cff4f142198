"""Load levels log in only when some endpoint of their mix needs a token.

A server whose only measured path was public measured 0 requests in a level until a fake login
endpoint was configured: every worker logged in first, the login failed, and a worker whose
login failed sends nothing. Here the login path does not exist (404) and the mix is public:
in-process, and over HTTP against gunicorn, whose access log shows that no login was sent.
"""

from __future__ import annotations

import pytest
from django.test import override_settings

from perftest.models import Run
from perftest.redact import Redactor
from tests.support.live_server import shared_database_url, standin_server  # noqa: F401
from tests.support.load_levels import closed, logging_in
from thebot_settings.thebot import THEBOT_PERFTEST

PUBLIC_ONLY = {
    **THEBOT_PERFTEST,
    "ENDPOINTS": [
        {
            "name": "Slow",
            "method": "GET",
            "path": "/test/slow/",
            "expected_status": 200,
            "auth": False,
        }
    ],
    "LOGIN": {**THEBOT_PERFTEST["LOGIN"], "PATH": "/test/no-such-login/"},
    "SEEDER": None,
}


LEVEL = ["--iterations", "2", "--warmup", "0", "--concurrency", "2", "--requests", "10"]


@pytest.mark.slow
@pytest.mark.django_db
@override_settings(ROOT_URLCONF="tests.support.urls", PERFTEST=PUBLIC_ONLY)
def test_a_public_only_mix_is_measured_although_the_login_path_answers_404(run_perftest):
    run, report = run_perftest(*LEVEL)

    [level] = run.levels.all()
    assert level.concurrency == 2
    assert level.requests == 10 and level.ok == 10
    assert level.login_requests == 0 and level.login_failures == 0
    assert level.worker_failures == []
    [row] = run.endpoints.filter(phase="sequential")
    assert row.requests == 2 and row.ok == 2
    assert run.status == Run.Status.COMPLETED and run.logins == []
    assert "login failed" not in report


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@override_settings(ROOT_URLCONF="tests.support.urls", PERFTEST=PUBLIC_ONLY)
def test_over_http_a_public_only_mix_sends_no_login_to_the_server(
    run_perftest,
    standin_server,  # noqa: F811
):
    handled_before = standin_server.handled()
    run, _ = run_perftest("--base-url", standin_server.base_url, *LEVEL)

    [level] = run.levels.all()
    assert level.transport == "http" and level.requests == 10 and level.ok == 10
    assert level.login_requests == 0 and run.logins == []
    # The server saw the measured, ramp-up and warm-up requests, and not one login.
    assert standin_server.handled() - handled_before == level.sent_total + 2


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_set_up_progress_counts_logins_and_failed_ones_apart(identities):
    """A level's set-up line counts the workers logged in and those whose login failed, from
    0 to every worker, before the level's own lines."""
    ticks: list[str] = []
    prepare = logging_in(identities, Redactor(), wrong_password_for=1)
    closed("Get Profile", prepare, Redactor(), 2, tick=ticks.append, requests=4, ramp_up_s=0)

    set_up = [t for t in ticks if t.startswith("2 concurrent, set-up: ")]
    assert set_up[0] == "2 concurrent, set-up: logged in 0/2"
    assert set_up[-1] == "2 concurrent, set-up: logged in 1/2, 1 failed"
    assert ticks.index(set_up[-1]) < ticks.index(next(t for t in ticks if "counted" in t))
