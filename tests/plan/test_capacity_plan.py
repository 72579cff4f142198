"""``--capacity`` planned: its bounds, the options it replaces or refuses, and the stored plan."""

from __future__ import annotations

import dataclasses
import json

import pytest

from perftest import limits
from perftest.conf import ConfigError, get_config
from perftest.plan.build import build_plan
from perftest.plan.capacity import STEP_MAX_S, STEP_MIN_S, CapacityPlan
from perftest.plan.fingerprint import fingerprint
from perftest.plan.model import RunPlan

pytestmark = pytest.mark.django_db


def planned(**options) -> RunPlan:
    return build_plan(get_config(), **options)


def test_the_expression_is_judged_with_the_default_error_rate_and_drop_bounds():
    plan = planned(capacity="p95 < 300ms")
    search = plan.load.capacity

    assert search is not None and search.expression == "p95 < 300ms"
    assert search.bounds == ("p95 < 300ms", "error_rate < 1%", "dropped < 10%")
    assert plan.load.model == "open" and plan.load.active and not plan.load.concurrency
    assert plan.load.login_mode == "once" and plan.load.mix is not None
    assert search.max_workers == get_config()["MAX_THREAD_WORKERS"]


def test_the_runs_own_error_rate_and_drop_thresholds_replace_the_defaults(settings):
    settings.PERFTEST = {
        **settings.PERFTEST,
        "THRESHOLDS": ["p95 < 2s", "error_rate{Get Lessons} < 9%", "dropped@* < 2%"],
    }
    plan = planned(capacity="p99 <= 1s", thresholds=["error_rate < 5%"])
    assert plan.load.capacity.bounds == ("p99 <= 1s", "error_rate < 5%", "dropped < 2%")


def test_an_expression_on_the_error_rate_is_the_error_rate_bound():
    plan = planned(capacity="error_rate < 0.5%")
    assert plan.load.capacity.bounds == ("error_rate < 0.5%", "dropped < 10%")


def test_each_step_is_long_enough_to_judge_unless_duration_sets_it():
    automatic = planned(capacity="p95 < 300ms").load.capacity
    assert automatic.step_seconds(1000) == STEP_MIN_S
    assert automatic.step_seconds(20) == 10  # 200 requests
    assert automatic.step_seconds(1) == STEP_MAX_S
    # Once a rate has failed, the steps near the capacity take twice as long (up to the most).
    assert automatic.step_seconds(1000, narrowing=True) == 2 * STEP_MIN_S
    assert automatic.step_seconds(1, narrowing=True) == STEP_MAX_S
    assert planned(capacity="p95 < 300ms", duration=2.5).load.capacity.step_seconds(1) == 2.5


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"capacity": "p59 < 1s"}, "--capacity: threshold 'p59 < 1s': unknown metric 'p59'"),
        ({"capacity": "p95 < 300"}, "p95 is a time and needs a unit"),
        ({"capacity": "rss_growth < 10MB"}, "a level has no rss_growth"),
        ({"capacity": "queries_mean < 3"}, "a level has no queries_mean"),
        ({"capacity": "p95{Get Lessons} < 1s"}, "write the expression without an {endpoint}"),
        ({"capacity": "p95@* < 1s"}, "without an {endpoint}, a role, an @level"),
        ({"capacity": "error_rate < 5% abort"}, "or abort"),
        ({"capacity": "p95 < 1s", "concurrency": "1,10"}, "--concurrency does not apply with"),
        ({"capacity": "p95 < 1s", "rate": 50.0}, "--rate does not apply with --capacity"),
        ({"capacity": "p95 < 1s", "requests": 100}, "--requests does not apply"),
        ({"capacity": "p95 < 1s", "ramp_up": 1.0}, "--ramp-up does not apply"),
        ({"capacity": "p95 < 1s", "login": "per-worker"}, "drop --login per-worker"),
        ({"capacity": "p95 < 1s", "duration": 0}, "--duration must be"),
    ],
)
def test_what_a_search_cannot_do_is_refused_before_anything_runs(options, expected):
    with pytest.raises(ConfigError) as refused:
        planned(**options)
    assert expected in str(refused.value)


def test_a_bad_expression_points_at_the_bad_token():
    with pytest.raises(ConfigError) as refused:
        planned(capacity="p95 < 300 parsecs")
    message = str(refused.value)
    assert message.splitlines()[-1].strip() == "^"
    assert message.splitlines()[-1].index("^") == message.splitlines()[-2].index("parsecs")


def test_the_steps_share_each_identitys_login():
    assert planned(capacity="p95 < 1s").identity_count == 10
    assert planned(capacity="p95 < 1s", identities=3).identity_count == 3


def test_the_search_reads_back_from_the_stored_plan_and_older_plans_have_none():
    plan = planned(capacity="p95 < 300ms", duration=3.0)
    stored = json.loads(json.dumps(plan.to_dict()))
    # The default mix is stored as None (the endpoints' weights), as for any level.
    assert RunPlan.from_dict(stored) == dataclasses.replace(
        plan, load=dataclasses.replace(plan.load, mix=None)
    )

    del stored["load"]["capacity"]
    assert RunPlan.from_dict(stored).load.capacity is None


def test_a_search_is_not_comparable_with_the_same_plan_without_one():
    plain = planned(rate=20.0, duration=3.0)
    without = dataclasses.replace(plain.load, rate=None, concurrency=())
    searching = dataclasses.replace(
        plain, load=dataclasses.replace(without, capacity=CapacityPlan("p95 < 1s", ()))
    )
    assert fingerprint(searching) != fingerprint(dataclasses.replace(plain, load=without))


def test_a_search_on_locust_sizes_its_pools_in_locust_users():
    plan = planned(capacity="p95 < 1s", engine="locust", processes=2, base_url="http://127.0.0.1:9")
    assert plan.load.engine.name == "locust" and plan.load.login_mode == "once"
    assert plan.load.capacity.max_workers == limits.LOCUST_USERS.high
