"""perftest layered over a host project through ``THEBOT_BACKEND``, as next to THE_BOT.

The host project is written into a temporary folder (``tests/support/host_project.py``) and every
step runs as a user would: this repository's ``manage.py`` in a fresh process with
``THEBOT_BACKEND`` and ``THEBOT_SETTINGS`` set. On PostgreSQL (``DATABASE_URL`` set) the host
gets a database of its own on the same server, dropped at the end.
"""

from __future__ import annotations

import functools
import json
import os
import secrets
import subprocess
from collections.abc import Iterator

import dj_database_url
import pytest

from tests.support import host_project
from tests.support.commands import manage_subprocess


@pytest.fixture
def host_database() -> Iterator[str | None]:
    """A fresh database for the host on the PostgreSQL server under test; None on SQLite."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield None
        return
    import psycopg

    server = dj_database_url.parse(url)
    name = f"perftest_host_{secrets.token_hex(4)}"
    admin = {"host": server["HOST"], "port": server["PORT"], "user": server["USER"]}
    with psycopg.connect(dbname="postgres", autocommit=True, **admin) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **admin) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def layered(tmp_path, host_database):
    """``manage(*args)`` runs this repository's manage.py layered over the host project."""
    backend = host_project.write(tmp_path / "backend")
    env = {
        "THEBOT_BACKEND": str(backend),
        "THEBOT_SETTINGS": "config.settings",
        "DJANGO_SETTINGS_MODULE": "thebot_settings.settings",
    }
    if host_database:  # the host reads its own variable, as a platform would
        env["HOST_DATABASE_URL"] = host_database

    def manage(*args: str, **more_env: str) -> subprocess.CompletedProcess:
        return manage_subprocess(*args, **env, **more_env)

    return manage


def test_layered_settings_measure_the_host_project_not_the_stand_in(layered, tmp_path):
    made = layered("makemigrations", "accounts", "lessons")
    assert made.returncode == 0, made.stderr
    migrated = layered("migrate", "-v0")
    assert migrated.returncode == 0, migrated.stderr

    shown = layered(
        "shell",
        "-c",
        "from django.apps import apps; from django.conf import settings; "
        "from django.contrib.auth import get_user_model; "
        "print(settings.ROOT_URLCONF, get_user_model()._meta.label, "
        "apps.is_installed('perftest'), apps.is_installed('thebot_settings.standin'), "
        "settings.MIDDLEWARE[0], len(settings.MIDDLEWARE))",
    )
    assert shown.returncode == 0, shown.stderr
    urls, user, perftest, standin, first, middleware = shown.stdout.split()[-6:]
    assert [urls, user, perftest, standin] == ["config.urls", "accounts.User", "True", "False"]
    # perftest's timing middleware goes first, before the host's own three.
    assert (first, middleware) == ("perftest.middleware.ServerTimingMiddleware", "4")

    routes = layered("perftest", "--list-endpoints")
    assert routes.returncode == 0, routes.stderr
    rows = [line.split()[:6] for line in routes.stdout.splitlines()]
    assert ["GET", "/api/lessons/", "lesson-list", "yes", "yes", "-"] in rows
    assert ["POST", "/api/auth/login/", "-", "no", "no", "-"] in rows

    reports = tmp_path / "reports"
    run = layered("perftest", "--iterations", "4", "--output", str(reports), "--format", "json")
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(next(reports.glob("run-*.json")).read_text())
    by_name = {row["name"]: row for row in report["endpoints"]["sequential"]}
    assert set(by_name) == {"Login", "Get Lessons"}
    lessons = by_name["Get Lessons"]
    assert lessons["requests"] == lessons["ok"] == 4
    assert lessons["body_kind"] == "page"
    assert lessons["empty_answers"] == 0  # the host's seeder gave the identity its lessons
    assert by_name["Login"]["ok"] == 4


def test_roles_seed_the_hosts_email_login_users_and_report_per_role(layered, tmp_path):
    """The host's user model logs in by email (USERNAME_FIELD = "email", no username): each
    role's identities are created through it with the role's fields and measured apart."""
    assert layered("makemigrations", "accounts", "lessons").returncode == 0
    assert layered("migrate", "-v0").returncode == 0
    roles = [
        {"name": "student", "count": 2},
        {"name": "teacher", "count": 1, "fields": {"role": "teacher"}},
    ]
    manage = functools.partial(layered, HOST_PERFTEST_ROLES=json.dumps(roles))

    reports = tmp_path / "reports"
    run = manage(
        "perftest", "--iterations", "2", "--output", str(reports), "--format", "json", "--keep-data"
    )
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(next(reports.glob("run-*.json")).read_text())
    rows = [(r["name"], r["role"], r["ok"]) for r in report["endpoints"]["sequential"]]
    assert rows == [
        ("Login", "student", 2),
        ("Login", "teacher", 2),
        ("Get Lessons", "student", 2),
        ("Get Lessons", "teacher", 2),
    ]
    kept = manage(
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model; "
        "print(sorted((u.email.split('@')[0].rsplit('-', 1)[1], u.role) "
        "for u in get_user_model().objects.all()))",
    )
    assert kept.returncode == 0, kept.stderr
    # Numbered on across roles; the student role's fields are IDENTITY FIELDS, the teacher's
    # its own over them.
    assert kept.stdout.strip().splitlines()[-1] == str(
        [("1", "student"), ("2", "student"), ("3", "teacher")]
    )


def test_a_backend_folder_that_does_not_exist_is_one_line_and_exit_2(tmp_path):
    ended = manage_subprocess("perftest", THEBOT_BACKEND=str(tmp_path / "missing"))
    assert ended.returncode == 2
    assert ended.stderr.strip().splitlines() == [
        f"manage.py: THEBOT_BACKEND={str(tmp_path / 'missing')!r} is not a folder; point it at "
        "the folder that holds THE_BOT's manage.py."
    ]
