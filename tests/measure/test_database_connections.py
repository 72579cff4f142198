"""Connections to the run's database per load level, and database errors under load named
with the setting to change."""

from __future__ import annotations

import json
import os
import secrets
import subprocess

import dj_database_url
import pytest
from django.db import connection

from perftest.analysis.rules.levels import DATABASE_ERRORS
from tests.support.commands import manage_subprocess

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgres")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_each_level_records_the_connections_open_to_the_database_or_why_not(run_perftest):
    run, report = run_perftest(
        "--iterations", "2", "--warmup", "0", "--endpoints", "Get Profile",
        "--concurrency", "3", "--duration", "0.5", "--ramp-up", "0",
    )  # fmt: skip
    (level,) = run.levels.all()
    use = level.database_connections
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW max_connections")
            max_connections = int(cursor.fetchone()[0])
        assert use["peak"] >= 3  # every in-process worker holds a connection of its own
        assert use["server_limit"] == max_connections and use["unavailable"] == ""
        assert f"| 3 concurrent | {use['peak']} |" in report
        # Also over time, per window on the wall clock: what a soak's trend is fitted on.
        assert use["width_s"] >= 1 and use["series"]
        assert all(mean <= peak <= use["peak"] for _start, mean, peak in use["series"])
    else:
        assert use["peak"] is None and not use["series"]
        assert use["unavailable"] == "SQLite has no count of open connections to read"
        assert "Database connections were not counted: SQLite has no count" in report


@pytest.fixture
def limited_database():
    """A throwaway PostgreSQL database that lets its (non-superuser) owner open 4 connections;
    its DATABASE_URL, migrated."""
    server = dj_database_url.parse(os.environ["DATABASE_URL"])
    admin = f"postgres://{server['USER']}@{server['HOST']}:{server['PORT']}/postgres"
    name = f"perftest_limit_{secrets.token_hex(4)}"
    psql = ["psql", admin, "-qX", "-v", "ON_ERROR_STOP=1", "-c"]
    subprocess.run([*psql, f'CREATE ROLE "{name}" LOGIN'], check=True)
    subprocess.run([*psql, f'CREATE DATABASE "{name}" OWNER "{name}"'], check=True)
    url = f"postgres://{name}@{server['HOST']}:{server['PORT']}/{name}"
    try:
        migrate = manage_subprocess("migrate", "-v0", DATABASE_URL=url)
        assert migrate.returncode == 0, migrate.stderr
        subprocess.run([*psql, f'ALTER DATABASE "{name}" CONNECTION LIMIT 4'], check=True)
        yield url
    finally:
        subprocess.run([*psql, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], check=True)
        subprocess.run([*psql, f'DROP ROLE IF EXISTS "{name}"'], check=True)


@pytest.mark.skipif(not ON_POSTGRES, reason="a connection limit is PostgreSQL's (DATABASE_URL)")
def test_a_level_beyond_the_database_connection_limit_is_named_with_the_setting(
    limited_database, tmp_path
):
    ran = manage_subprocess(
        "perftest", "--iterations", "2", "--endpoints", "Get Profile",
        "--concurrency", "8", "--duration", "0.5", "--ramp-up", "0",
        "--output", str(tmp_path), "--format", "json,md", DATABASE_URL=limited_database,
    )  # fmt: skip
    assert ran.returncode in (0, 1), ran.stderr
    (document,) = [json.loads(path.read_text()) for path in tmp_path.glob("run-*.json")]
    (level,) = document["levels"]
    use = level["database_connections"]
    assert use["database_limit"] == 4 and use["peak"] <= 4
    (finding,) = [f for f in document["findings"] if f["rule"] == DATABASE_ERRORS]
    assert finding["title"].startswith("8 concurrent: database errors (connection limit): ")
    assert "failed at login" in finding["title"]
    assert "too many connections for database" in finding["evidence"]
    assert (
        "CONNECTION LIMIT" in finding["recommendation"]
        or "CONNECTION LIMIT" in (finding["evidence"])
    )
    assert not any(f["rule"] == "bottleneck.worker_failures" for f in document["findings"])
