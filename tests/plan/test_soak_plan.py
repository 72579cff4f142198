"""``--soak DURATION``: its durations read as written, its warm-up defaults, and every way to
get it wrong is one line and exit 2 before anything runs."""

from __future__ import annotations

import pytest

from perftest.conf import ConfigError, get_config
from perftest.models import Run
from perftest.plan.build import build_plan
from perftest.plan.model import RunPlan
from perftest.plan.soak import parse_duration
from tests.support.commands import assert_usage_error


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("45", 45), ("90s", 90), ("10m", 600), ("2h", 7200), ("1h30m", 5400), ("1.5h", 5400)],
)
def test_durations_read_as_written(text, seconds):
    assert parse_duration(text, "--soak") == seconds


@pytest.mark.parametrize("text", ["2x", "h", "10m5", "-3m", ""])
def test_a_duration_that_is_none_names_the_option_and_the_forms(text):
    with pytest.raises(ConfigError, match=r"^--soak takes a duration like 90s, 10m, 2h or 1h30m"):
        parse_duration(text, "--soak")


@pytest.mark.parametrize(
    ("soak", "warmup", "expected_warmup_s"),
    [("2h", None, 300.0), ("10m", None, 60.0), ("10m", "2m", 120.0), ("10m", "0", 0.0)],
)
def test_the_soak_is_one_open_level_of_warm_up_then_steady_part(soak, warmup, expected_warmup_s):
    options = {"soak": soak, "rate": 5.0, "soak_warmup": warmup}
    plan = build_plan(get_config(), **options)
    load = plan.load
    assert load.model == "open" and load.concurrency == (10,) and load.rate == 5.0
    assert load.soak.warmup_s == expected_warmup_s
    assert load.duration_s == load.soak.warmup_s + load.soak.steady_s
    assert load.soak.checkpoint_s == 60.0  # the SOAK setting's default
    assert load.soak.trace_allocations  # on by default (in-process soaks only trace)
    # The stored plan keeps the soak, and a stored plan without one ran none.
    assert RunPlan.from_dict(plan.to_dict()).load.soak == load.soak
    assert RunPlan.from_dict({"load": {"rate": 5.0}}).load.soak is None
    # A soak stored before allocations were traced did not trace them.
    stored = {"steady_s": 60, "warmup_s": 6, "checkpoint_s": 60}
    assert not RunPlan.from_dict({"load": {"soak": stored}}).load.soak.trace_allocations


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--soak", "2x", "--rate", "5"], "--soak takes a duration like 90s, 10m, 2h or 1h30m"),
        (["--soak", "10m"], "--soak holds one open-model rate for hours: add --rate N"),
        (["--soak-warmup", "1m"], "--soak-warmup is the warm-up of a soak: add --soak"),
        (["--soak", "10m", "--rate", "5", "--duration", "5"], "drop --duration"),
        (["--soak", "10m", "--rate", "5", "--engine", "locust"], "drop --engine locust"),
        (["--soak", "25h", "--rate", "5"], "--soak must be a number of seconds above 0"),
        (["--soak", "10m", "--rate", "5", "--soak-warmup", "2h"], "--soak-warmup must be"),
        (
            ["--soak", "24h", "--rate", "1000"],
            "86700 s (warm-up included) plans 86,700,000 requests",
        ),
        (["--soak", "10m", "--capacity", "p95 < 300ms"], "give one of them"),
    ],
)
def test_soak_usage_errors_exit_2_with_one_line_and_store_nothing(manage, args, expected):
    assert_usage_error(manage("perftest", *args), expected)
    assert not Run.objects.exists()


def test_a_checkpoint_interval_out_of_range_is_a_settings_error(manage):
    result = manage("perftest", "--soak", "1m", "--rate", "1", SOAK={"CHECKPOINT_S": 0})
    assert_usage_error(result, "PERFTEST['SOAK']['CHECKPOINT_S'] must be a number of seconds")


def test_allocation_tracing_is_a_yes_or_no_setting(manage):
    result = manage("perftest", "--soak", "1m", "--rate", "1", SOAK={"TRACE_ALLOCATIONS": "no"})
    assert_usage_error(result, "PERFTEST['SOAK']['TRACE_ALLOCATIONS'] must be True or False.")
