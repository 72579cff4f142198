"""Load levels log in only when some endpoint of their mix needs a token.

A server whose only measured path was public measured 0 requests in a level until a fake login
endpoint was configured: every worker logged in first, the login failed, and a worker whose
login failed sends nothing. Here the login path does not exist (404) and the mix is public.
"""

from __future__ import annotations

import pytest
from django.test import override_settings

from perftest.models import Run
from thebot_settings.thebot import THEBOT_PERFTEST

pytestmark = pytest.mark.django_db

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


@override_settings(ROOT_URLCONF="tests.urls", PERFTEST=PUBLIC_ONLY)
def test_a_public_only_mix_is_measured_although_the_login_path_answers_404(run_perftest):
    run, report = run_perftest(
        "--iterations", "2", "--warmup", "0", "--concurrency", "2", "--requests", "10"
    )

    [level] = run.levels.all()
    assert level.concurrency == 2
    assert level.requests == 10 and level.ok == 10
    assert level.login_requests == 0 and level.login_failures == 0
    assert level.worker_failures == []
    [row] = run.endpoints.filter(phase="sequential")
    assert row.requests == 2 and row.ok == 2
    assert run.status == Run.Status.COMPLETED and run.logins == []
    assert "login failed" not in report
