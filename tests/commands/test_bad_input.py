"""Every input a user can get wrong ends in one clear line and exit code 2, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.commands import ROOT, assert_usage_error, manage_subprocess
from thebot_settings import embedded


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--endpoints", "Get Lessons,Get Homework"], "unknown endpoint 'Get Homework'"),
        (["--iterations", "0"], "--iterations must be a whole number from 1 to 1,000,000"),
        (["--iterations", "-3"], "--iterations must be a whole number from 1 to 1,000,000"),
        (["--iterations", "many"], "must be a whole number from 1 to 1,000,000, not 'many'"),
        (["--warmup", "-1"], "--warmup must be a whole number from 0 to 10,000"),
        (["--no-such-option"], "unrecognized arguments: --no-such-option"),
    ],
)
def test_bad_options_exit_2_with_one_line(manage, args, expected):
    assert_usage_error(manage("perftest", *args), expected)


def test_unwritable_output_folder_exits_2(manage, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert_usage_error(
        manage("perftest", "--output", str(blocker / "reports")), "cannot be created"
    )


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"ITERATIONS": "many"}, "PERFTEST['ITERATIONS'] must be a whole number from 1 to"),
        ({"ITERATONS": 5}, "unknown key 'ITERATONS'"),
        ({"ENDPOINTS": "Get Lessons"}, "must be a non-empty list"),
        ({"ENDPOINTS": []}, "PERFTEST['ENDPOINTS'] is empty, so there is nothing to measure"),
        ({"ENDPOINTS": [{"name": "X", "method": "GET"}]}, "needs a non-empty string 'path'"),
        ({"ENDPOINTS": [{"name": "X", "method": "GET", "path": "/api/nope/"}]}, "No route"),
        ({"LOGIN": {"PATH": "/api/login-gone/"}}, "No route in the URLconf for: login"),
        ({"THRESHOLDS": {"CPU_PERCENT_AVG": -1}}, "must be a positive number"),
        ({"SEEDER": "no.such.module.seed"}, "cannot be imported"),
    ],
)
def test_malformed_settings_exit_2_with_one_line(manage, overrides, expected, tmp_path):
    assert_usage_error(manage("perftest", "--output", str(tmp_path), **overrides), expected)


@pytest.mark.slow
def test_unmigrated_database_exits_2_naming_the_fix(tmp_path):
    """A subprocess: the database is named by DATABASE_URL, read when the settings load."""
    result = manage_subprocess(
        "perftest", "--output", str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path / 'new.db'}"
    )
    assert_usage_error(result, "run `python manage.py migrate` first")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--base-url", "http://127.0.0.1:{free}"], "connection refused"),
        (["--base-url", "not a url"], "is not a URL"),
        (["--base-url", "ftp://127.0.0.1:21/"], "ftp"),
        (["--mode", "http"], "--mode http needs --base-url"),
        (["--concurrency", "0"], "--concurrency takes whole numbers of at least 1"),
        (["--concurrency", "1,-2"], "--concurrency takes whole numbers of at least 1"),
        (["--rate", "0"], "--rate must be a number of requests per second above 0"),
        (["--rate", "inf"], "--rate: must be a number of requests per second above 0"),
        (["--duration", "0", "--concurrency", "2"], "--duration must be"),
        (["--concurrency", "2", "--mix", "Get Homework=2"], "Get Homework"),
        (
            ["--capacity", "p95 < 300ms", "--concurrency", "1,10"],
            "--concurrency does not apply with --capacity",
        ),
        (["--capacity", "p95 < 300ms", "--rate", "50"], "--rate does not apply with --capacity"),
        (["--capacity", "rss_growth < 1MB"], "a level has no rss_growth"),
    ],
)
def test_bad_load_and_http_options_exit_2_with_one_line(manage, args, expected):
    from tests.support.live_server import free_port

    port = str(free_port())
    args = [arg.replace("{free}", port) for arg in args]
    assert_usage_error(manage("perftest", *args), expected)


def test_a_bad_capacity_expression_exits_2_with_a_caret_under_the_bad_token(manage):
    result = manage("perftest", "--capacity", "p95 < 300 parsecs")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    message, expression, caret = result.stderr.strip().splitlines()
    assert message.startswith("CommandError: --capacity: threshold 'p95 < 300 parsecs'")
    assert caret.index("^") == expression.index("parsecs")


# --- In-process: a usage or configuration error is one line, exit 2, and changes nothing ---


def _rows() -> tuple[int, int, int]:
    """What a run writes: runs, users (perftest's identities) and tokens."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from perftest.models import Run

    return Run.objects.count(), get_user_model().objects.count(), Token.objects.count()


def refused(tmp_path, *args: str) -> str:
    """Run ``perftest *args`` in-process; assert it is a one-line usage error (exit 2) that
    wrote nothing, and return the line."""
    from django.core.management import CommandError, call_command

    before = _rows()
    measures = not {"--list-endpoints", "--write-scenario"} & set(args)
    output = ["--output", str(tmp_path / "reports")] if measures else []
    with pytest.raises(CommandError) as ended:
        call_command("perftest", *output, *args)
    assert ended.value.returncode == 2, ended.value
    line = str(ended.value)
    assert "\n" not in line, line
    assert _rows() == before
    return line


#: Numbers past their documented range (issue 17: each was a traceback or a level that never
#: ended), with the range the error line must name.
OUT_OF_RANGE = [
    (["--iterations", "1e20"], "--iterations: must be a whole number from 1 to 1,000,000"),
    (["--warmup", "1e20"], "--warmup: must be a whole number from 0 to 10,000"),
    (["--iterations", "3000000000"], "--iterations must be a whole number from 1 to 1,000,000"),
    (["--warmup", "100000000000000000000"], "--warmup must be a whole number from 0 to 10,000"),
    (["--rate", "1e10"], "--rate must be a number of requests per second above 0 and at most"),
    (["--rate", "1e19"], "at most 100,000, not 1e+19"),
    (["--rate", "5000", "--duration", "86400"], "plans 432,000,000 requests in one level"),
    (["--rate", "0.5", "--duration", "1"], "plans 0 requests in one level"),
    (["--concurrency", "2", "--duration", "1e9"], "above 0 and at most 86,400"),
    (["--concurrency", "2", "--requests", "99999999999"], "from 1 to 10,000,000"),
    (["--concurrency", "2", "--ramp-up", "1e300"], "--ramp-up must be a number of seconds"),
    (["--concurrency", "2", "--identities", "0"], "--identities must be a whole number from 1"),
    (["--concurrency", "2", "--mix", "Get Profile=1e300"], "at most 1,000,000"),
    (["--base-url", "http://127.0.0.1:9", "--read-timeout", "1e300"], "at most 3,600"),
    (["--base-url", "http://127.0.0.1:9", "--server-pid", "1" + "0" * 20], "4,194,304"),
    (["--profile", "51"], "--profile must be a whole number from 1 to 50"),
    (["--baseline", "9" * 30], "a whole number from 1 to 9,223,372,036,854,775,807"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("args", "expected"), OUT_OF_RANGE)
def test_a_number_past_its_range_is_one_line_naming_the_range(tmp_path, args, expected):
    assert expected in refused(tmp_path, *args)


@pytest.mark.django_db
@pytest.mark.parametrize(("args", "expected"), OUT_OF_RANGE[2:8])
def test_check_refuses_a_number_past_its_range_too(tmp_path, args, expected):
    assert expected in refused(tmp_path, "--check", *args)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("setting", "value", "expected"),
    [
        ("ITERATIONS", 10**20, "PERFTEST['ITERATIONS'] must be a whole number from 1 to"),
        ("WARMUP", 3_000_000_000, "PERFTEST['WARMUP'] must be a whole number from 0 to 10,000"),
        ("DURATION", 1e20, "PERFTEST['DURATION'] must be a number of seconds above 0"),
        ("RAMP_UP", -1, "PERFTEST['RAMP_UP'] must be a number of seconds from 0 to 3,600"),
        ("RESOURCE_INTERVAL", 0.0001, "from 0.01 to 60, not 0.0001"),
        ("MAX_THREAD_WORKERS", 10**9, "PERFTEST['MAX_THREAD_WORKERS'] must be a whole number"),
        ("STALE_RUN_AFTER", 1, "PERFTEST['STALE_RUN_AFTER'] must be a number of seconds from 60"),
        ("STALE_RUN_AFTER", 1e300, "to 2,592,000, not 1e+300"),
        ("CONNECT_TIMEOUT", float("inf"), "PERFTEST['CONNECT_TIMEOUT'] must be"),
        ("READ_TIMEOUT", 0, "PERFTEST['READ_TIMEOUT'] must be a number of seconds above 0"),
    ],
)
def test_a_setting_past_its_range_is_one_line_naming_the_range(
    tmp_path, settings, setting, value, expected
):
    settings.PERFTEST = {**settings.PERFTEST, setting: value}
    assert expected in refused(tmp_path)
    assert expected in refused(tmp_path, "--check")


def test_the_ends_of_each_range_make_a_plan():
    """The bounds themselves are accepted: a range refuses only what lies outside it."""
    from perftest.conf import DEFAULTS, validate
    from perftest.plan.build import build_plan

    config = validate(
        {
            **DEFAULTS,
            "ENDPOINTS": [{"name": "A", "method": "GET", "path": "/a/"}],
            "STALE_RUN_AFTER": 60,
            "RESOURCE_INTERVAL": 0.01,
            "MAX_THREAD_WORKERS": 10_000,
        }
    )
    plan = build_plan(config, iterations=1_000_000, warmup=10_000, rate=100_000, duration=100)
    assert (plan.iterations, plan.warmup, plan.load.rate) == (1_000_000, 10_000, 100_000)
    closed = build_plan(config, concurrency="10000", requests=10_000_000, ramp_up=3600)
    assert closed.load.concurrency == (10_000,) and closed.load.requests == 10_000_000


def test_every_range_is_in_the_manuals_options_tables():
    """Each documented range is written where a user looks for the option or setting."""
    from perftest import limits

    pages = ("options.md", "stored-runs.md", "settings.md")
    manual = "\n".join((ROOT / "docs" / page).read_text(encoding="utf-8") for page in pages)
    for name, allowed in vars(limits).items():
        if isinstance(allowed, limits.Range):
            low, high = limits.figure(allowed.low), limits.figure(allowed.high)
            bounds = f"above {low}, ≤ {high}" if allowed.above_low else f"{low}–{high}"
            assert bounds in manual, (name, bounds)


# Deliver 3: the checks that need the database run before the run is recorded.


@pytest.mark.django_db
def test_an_identity_field_the_user_model_lacks_leaves_no_run_and_no_user(tmp_path, settings):
    identity = {**settings.PERFTEST.get("IDENTITY", {}), "FIELDS": {"no_such_field": 1}}
    settings.PERFTEST = {**settings.PERFTEST, "IDENTITY": identity}
    line = refused(tmp_path, "--endpoints", "Get Profile", "--iterations", "1")
    assert "PERFTEST['IDENTITY']['FIELDS'] does not fit the user model" in line
    assert "no_such_field" in line


@pytest.mark.slow
@pytest.mark.django_db
@pytest.mark.parametrize(
    "patterns",
    [
        {"EMAIL": "taken-{n}@example.com", "USERNAME": "taken-{n}@example.com"},
        {"EMAIL": "taken-{n}@example.com"},  # the username keeps the default's {run}
    ],
)
def test_an_existing_account_with_a_test_identitys_email_leaves_no_run_and_no_user(
    tmp_path, settings, patterns
):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user(
        username="taken-1@example.com", email="taken-1@example.com", password="x", role="student"
    )
    identity = {**settings.PERFTEST.get("IDENTITY", {}), **patterns}
    settings.PERFTEST = {**settings.PERFTEST, "IDENTITY": identity}
    line = refused(tmp_path, "--endpoints", "Get Profile", "--iterations", "1")
    assert "An account 'taken-1@example.com' already exists" in line


# Deliver 5: options that cannot apply, and empty values.


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--mix", "Get Profile"], "--mix shapes the load levels, and there are none: add"),
        (["--duration", "5"], "--duration shapes the load levels"),
        (["--requests", "5"], "--requests shapes the load levels"),
        (["--ramp-up", "1"], "--ramp-up shapes the load levels"),
        (["--identities", "2"], "--identities shapes the load levels"),
        (["--login", "once"], "--login shapes the load levels"),
        (["--rate", "5", "--ramp-up", "1"], "--ramp-up is for closed levels"),
        (["--connect-timeout", "2"], "--connect-timeout is a timeout of HTTP requests: add"),
        (["--read-timeout", "2"], "--read-timeout is a timeout of HTTP requests: add --base-url"),
        (["--force"], "--force lets --write-scenario overwrite an existing file: add"),
        (["--check-writes"], "--check-writes lets --check send the endpoints whose method"),
        (["--uncovered"], "--uncovered lists the routes --check finds no endpoint for: add"),
        (["--write-scenario", "x.toml", "--uncovered"], "--uncovered lists the routes --check"),
        (["--check", "--write-scenario", "x.toml"], "--check and --write-scenario cannot be"),
        (["--check", "--list-endpoints"], "--check and --list-endpoints cannot be combined"),
        (["--list-endpoints", "--write-scenario", "x.toml"], "cannot be combined"),
        (["--check", "--format", "json,pdf"], "Unknown report format 'pdf'"),
        (["--check", "--mix", "Get Profile"], "--mix shapes the load levels"),
        (["--list-endpoints", "--iterations", "3"], "--iterations does not apply with --list"),
        (["--write-scenario", "x.toml", "--scenario", "y.toml"], "--scenario does not apply"),
        (["--format", ""], "--format was given an empty value"),
        (["--output", ""], "--output was given an empty value"),
        (["--endpoints", ""], "--endpoints was given an empty value"),
        (["--endpoints", " "], "--endpoints was given an empty value"),
        (["--concurrency", ""], "--concurrency was given an empty value"),
        (["--mix", ""], "--mix was given an empty value"),
        (["--base-url", ""], "--base-url was given an empty value"),
        (["--scenario", ""], "--scenario was given an empty value"),
        (["--threshold", ""], "--threshold was given an empty value"),
    ],
)
def test_an_option_that_cannot_apply_is_a_usage_error(tmp_path, args, expected):
    assert expected in refused(tmp_path, *args)


@pytest.mark.slow
@pytest.mark.django_db
def test_an_empty_label_is_no_label(run_perftest):
    """``--label ''`` is the default (no label), so it is taken as given, not refused."""
    run, _ = run_perftest("--label", "", "--endpoints", "Get Profile", "--iterations", "1")
    assert run.label == "" and run.status == "completed"


# Deliver 4: the embedded settings fail in one line (a subprocess: the settings must fail).


def assert_one_line(result: subprocess.CompletedProcess, *expected: str) -> str:
    """Exit 2 and one stderr line with every one of ``expected``, no traceback; the line."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for words in expected:
        assert words in lines[0], lines[0]
    return lines[0]


EMBEDDED_DATABASE_MISTAKES = [
    ("DATABASE_URL", "nosuchdb://u:secret@h/db", "DATABASE_URL has an unknown scheme"),
    ("DATABASE_URL", "u:secret@h/db", "DATABASE_URL has no scheme; write postgres://"),
    ("DATABASE_URL", "postgres://u:secret@h:port/db", "DATABASE_URL cannot be read"),
    ("DATABASE_CONN_MAX_AGE", "soon", "must be a whole number of seconds"),
]


@pytest.mark.parametrize(("variable", "value", "expected"), EMBEDDED_DATABASE_MISTAKES)
def test_embedded_database_settings_that_cannot_be_used_are_one_line(
    monkeypatch, variable, value, expected
):
    """What the settings module raises as it loads, in one line; ``manage.py`` prints that
    line with exit 2 (the subprocess test below)."""
    monkeypatch.setenv(variable, value)
    with pytest.raises(embedded.ImproperlyConfigured) as refused:
        embedded._database(os.environ.get("DATABASE_URL"))
    assert expected in str(refused.value) and "\n" not in str(refused.value)
    assert "secret" not in str(refused.value)


def test_manage_py_prints_a_settings_error_as_one_line_and_exit_2():
    """A subprocess: the settings load when manage.py starts, before any command runs."""
    variable, value, expected = EMBEDDED_DATABASE_MISTAKES[0]
    line = assert_one_line(manage_subprocess("perftest", "--list-endpoints", **{variable: value}))
    assert expected in line and line.startswith("manage.py: ") and "secret" not in line


def test_a_postgres_url_without_a_driver_names_the_extra_to_install(monkeypatch):
    """The Quick start's install has no PostgreSQL driver: made so here by an import that
    fails (``None`` in ``sys.modules``), as it fails without psycopg installed."""
    monkeypatch.setitem(sys.modules, "psycopg", None)
    monkeypatch.setitem(sys.modules, "psycopg2", None)
    with pytest.raises(embedded.ImproperlyConfigured) as refused:
        embedded._database("postgres://u:secret@127.0.0.1:5432/db")
    line = str(refused.value)
    assert "driver (psycopg or psycopg2) is not installed" in line and "\n" not in line
    assert "pip install 'perftest[postgres]'" in line and "secret" not in line


@pytest.mark.slow
def test_an_unreachable_database_server_is_one_line_without_its_password():
    from tests.support.live_server import free_port

    url = f"postgres://perftest:secret@127.0.0.1:{free_port()}/nowhere"
    result = manage_subprocess("perftest", "--iterations", "1", DATABASE_URL=url)
    line = assert_one_line(result, "The database postgresql://perftest@127.0.0.1:", "nowhere")
    assert "secret" not in line and "cannot be reached" in line
