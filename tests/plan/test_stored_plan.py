"""The stored plan is the plan's own ``to_dict``; ``from_dict`` reads it back, older shapes too."""

from __future__ import annotations

import json

from perftest.plan.fingerprint import fingerprint
from perftest.plan.model import (
    Endpoint,
    Engine,
    HttpTarget,
    LoadPlan,
    LoginSpec,
    Mix,
    ParamSource,
    Role,
    RunPlan,
    Throttle,
)

LESSONS = Endpoint(
    "Get Lessons",
    "GET",
    "/api/lessons/{id}/",
    200,
    auth=True,
    query=(("page", "2"),),
    headers=(("X-Trace", "1"),),
    params=(ParamSource("id", seed="lesson"),),
    throttles=(Throttle("tests.views.TenPerMinute", True, "lessons", "10/min", 60),),
)
LOGIN = Endpoint("Login", "POST", "/api/auth/login/", 200, auth=False, is_login=True)
PLAN = RunPlan(
    endpoints=(LOGIN, LESSONS),
    login=LoginSpec("/api/auth/login/", "POST", {"email": "{email}"}, "token", "Authorization", ""),
    identity={"EMAIL": "perftest-{n}@perftest.invalid"},
    seeder=None,
    iterations=20,
    warmup=2,
    resource_interval=0.5,
    thresholds=("p95 < 500ms",),
    output_dir="/tmp/out",
    label="nightly",
    keep_data=False,
    mode="both",
    http=HttpTarget("http://127.0.0.1:8000", 5.0, 30.0, 4242),
    load=LoadPlan(
        concurrency=(1, 10),
        duration_s=5.0,
        mix=Mix.parse("Get Lessons=2", (LOGIN, LESSONS)),
        engine=Engine("locust", processes=2),
    ),
    roles=(Role("student", 3, {"role": "student"}),),
    routes=("/api/lessons/<int:id>/",),
)


def test_a_plan_reads_back_from_its_stored_json_as_it_was():
    stored = json.loads(json.dumps(PLAN.to_dict()))
    assert RunPlan.from_dict(stored) == PLAN
    assert fingerprint(RunPlan.from_dict(stored)) == fingerprint(PLAN)


def test_an_old_flat_snapshot_fills_the_nested_shape_and_lacks_what_it_did_not_keep():
    plan = RunPlan.from_dict(
        {"rate": 5, "duration": 2, "base_url": "http://x", "login": "once", "concurrency": [2]}
    )
    assert (plan.load.rate, plan.load.duration_s, plan.load.concurrency) == (5, 2, (2,))
    assert plan.load.login_mode == "once" and plan.load.ramp_up_s is None
    assert plan.http is not None and plan.http.base_url == "http://x"
    assert plan.login.where == "the login endpoint"
    assert plan.routes is None and plan.iterations is None
