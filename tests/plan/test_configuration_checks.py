"""Configuration mistakes stop the run before anything is seeded or measured: one line, exit 2.

Each case once ended in a traceback or exit 1 after the run had begun; now ``plan/`` checks it
up front. Also: setting names that only say where a secret is stay readable in stored runs.
"""

from __future__ import annotations

import datetime

import pytest

from perftest.conf import get_config
from perftest.models import Run, SeededObject
from perftest.plan.build import build_plan
from perftest.redact import MASK, Redactor
from perftest.reports import markdown
from perftest.store import read
from tests.support.commands import assert_usage_error, manage_subprocess
from thebot_settings.thebot import THEBOT_PERFTEST

#: An endpoint body holding a Python value JSON cannot carry (a date).
UNSERIALISABLE_ENDPOINTS = [
    *THEBOT_PERFTEST["ENDPOINTS"],
    {
        "name": "Book Lesson",
        "method": "POST",
        "path": "/api/scheduling/lessons/",
        "expected_status": 201,
        "body": {"date": datetime.date(2026, 1, 5)},
    },
]


def nothing_recorded() -> bool:
    return not Run.objects.exists() and not SeededObject.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {
                "LOGIN": {
                    "PATH": "/api/auth/login/",
                    "BODY": {"email": "{email}", "password": "{pasword}"},
                }
            },
            "unknown placeholder {pasword}",
        ),
        ({"IDENTITY": {"EMAIL": "load-{n}-{id}@perftest.invalid"}}, "unknown placeholder {id}"),
        (
            {"LOGIN": {"PATH": "/api/auth/login/", "BODY": {"email": "{email"}}},
            "not a valid pattern",
        ),
        (
            {"SEEDER": "tests.support.hooks.seeder_without_users"},
            "PERFTEST['SEEDER'] = 'tests.support.hooks.seeder_without_users' must accept one "
            "argument (users)",
        ),
        (
            {"IDENTITY": {"HOOK": "tests.support.hooks.hook_with_two_arguments"}},
            # Quoted as the user writes the setting (it once read PERFTEST["IDENTITY']['HOOK"]).
            "PERFTEST['IDENTITY']['HOOK'] = 'tests.support.hooks.hook_with_two_arguments' must "
            "accept one argument (user)",
        ),
    ],
)
def test_pattern_and_hook_mistakes_exit_2_before_anything_is_recorded(
    manage, overrides, expected, tmp_path
):
    assert_usage_error(manage("perftest", "--output", str(tmp_path), **overrides), expected)
    assert nothing_recorded()


def test_unserialisable_endpoint_body_exits_2_before_anything_is_recorded(manage, tmp_path):
    result = manage("perftest", "--output", str(tmp_path), ENDPOINTS=UNSERIALISABLE_ENDPOINTS)
    assert_usage_error(result, "endpoint 'Book Lesson' body cannot be sent as JSON")
    assert nothing_recorded()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--label", "x" * 201], "--label is 201 characters long; give at most 200"),
        (["--label", "nightly\n# Injected heading"], "--label must be one line of text"),
        (["--server-pid", "1"], "--server-pid names the server measured over HTTP"),
    ],
)
def test_label_and_server_pid_mistakes_exit_2(manage, args, expected):
    assert_usage_error(manage("perftest", *args), expected)


@pytest.mark.slow
def test_report_of_an_unmigrated_database_exits_2_naming_the_fix(tmp_path):
    """A subprocess: the database is named by DATABASE_URL, read when the settings load."""
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    result = manage_subprocess("perftest_report", "1", DATABASE_URL=url)
    assert_usage_error(result, "run `python manage.py migrate` first")


def test_stored_plan_keeps_where_the_token_is_and_masks_the_secrets():
    plan = build_plan(get_config())
    snapshot = Redactor().mapping(
        {**plan.to_dict(), "api_key": "k-123456", "refresh_token": "r-123456"}
    )
    assert snapshot["login"]["token_path"] == "data.token"
    assert snapshot["login"]["header"] == "Authorization"
    assert snapshot["api_key"] == MASK and snapshot["refresh_token"] == MASK
    masked = Redactor().mapping({"PASSWORD": "hunter22", "TOKEN_PATH": "data.token"})
    assert masked == {"PASSWORD": MASK, "TOKEN_PATH": "data.token"}


@pytest.mark.slow
@pytest.mark.django_db
def test_stored_label_cannot_inject_markdown_into_the_title(run_perftest):
    run, _ = run_perftest("--endpoints", "Get Profile", "--iterations", "1", "--warmup", "0")
    Run.objects.filter(pk=run.pk).update(label="nightly\n# Injected *heading*")
    title = markdown.render(read.load(run.pk)).splitlines()[0]
    assert title == f"# Performance report: run #{run.pk}, nightly # Injected \\*heading\\*"
    assert not SeededObject.objects.exists()
