"""Every input a user can get wrong ends in one clear line and exit code 2, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def perftest(*args: str, settings: dict | None = None, database_url: str | None = None):
    env = dict(os.environ)
    if settings is not None:
        env["DJANGO_SETTINGS_MODULE"] = "tests.malformed_settings"
        env["PERFTEST_TEST_JSON"] = json.dumps(settings)
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "manage.py", "perftest", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    """``manage.py *args`` in a subprocess, with ``env`` over this process's environment."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def migrated_sqlite(folder: Path) -> str:
    """The DATABASE_URL of a new, migrated SQLite file in ``folder``."""
    database = f"sqlite:///{folder / 'db.sqlite3'}"
    migrate = manage("migrate", "-v0", DATABASE_URL=database)
    assert migrate.returncode == 0, migrate.stderr
    return database


def assert_usage_error(result: subprocess.CompletedProcess, expected: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr and expected in lines[0], lines[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--endpoints", "Get Lessons,Get Homework"], "unknown endpoint 'Get Homework'"),
        (["--iterations", "0"], "--iterations must be at least 1"),
        (["--iterations", "-3"], "--iterations must be at least 1"),
        (["--iterations", "many"], "expected a whole number, got 'many'"),
        (["--warmup", "-1"], "--warmup must be 0 or more"),
        (["--no-such-option"], "unrecognized arguments: --no-such-option"),
    ],
)
def test_bad_options_exit_2_with_one_line(args, expected):
    assert_usage_error(perftest(*args), expected)


def test_unwritable_output_folder_exits_2(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert_usage_error(perftest("--output", str(blocker / "reports")), "cannot be created")


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"ITERATIONS": "many"}, "PERFTEST['ITERATIONS'] must be a non-negative number"),
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
def test_malformed_settings_exit_2_with_one_line(settings, expected, tmp_path):
    database = migrated_sqlite(tmp_path)
    result = perftest("--output", str(tmp_path), settings=settings, database_url=database)
    assert_usage_error(result, expected)


def test_unmigrated_database_exits_2_naming_the_fix(tmp_path):
    result = perftest("--output", str(tmp_path), database_url=f"sqlite:///{tmp_path / 'new.db'}")
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
        (["--rate", "inf"], "expected a finite number"),
        (["--duration", "0", "--concurrency", "2"], "--duration must be"),
        (["--concurrency", "2", "--mix", "Get Homework=2"], "Get Homework"),
    ],
)
def test_bad_load_and_http_options_exit_2_with_one_line(args, expected):
    from tests.live_server import free_port

    port = str(free_port())
    args = [arg.replace("{free}", port) for arg in args]
    assert_usage_error(perftest(*args), expected)
