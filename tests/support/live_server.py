"""The project's real server (gunicorn) on a free loopback port, sharing the test database.

Fixtures, module-scoped so one server serves a whole test module:

- ``shared_database_url``: a DATABASE_URL another process can open to reach the database
  this test process uses. PostgreSQL (``DATABASE_URL=postgres://...``): pytest-django's test
  database (``test_<name>``) as is. SQLite: pytest-django's test database is in memory, which
  no other process can open, so for the module the default connection is pointed at a file
  copy of it (``sqlite3`` backup, so it is already migrated) and pointed back afterwards; a
  second connection keeps the in-memory database alive meanwhile.
- ``standin_server``: gunicorn with ``tests.support.http_settings`` (the project's settings plus
  ``tests.support.counting`` and the ``/test/`` views) on that database; a ``LiveServer``.

Either way the server sees only committed rows, so a test that writes rows for the server
must be ``@pytest.mark.django_db(transaction=True)``; its teardown flushes the shared database.

    from tests.support.live_server import shared_database_url, standin_server  # noqa: F401

    @pytest.mark.django_db(transaction=True)
    def test_profile(standin_server):
        HttpTransport(standin_server.base_url).send(...)
        assert standin_server.handled() == ...

``run_gunicorn`` starts a server outside pytest too (the benchmarks use it).
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection as default_connection

from tests.support.counting import COUNT_FILE_ENV, count_handled

REPO = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"
READY_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class LiveServer:
    """A running server: where it listens, its pid, and its own count of handled requests."""

    base_url: str
    pid: int
    count_file: Path

    def handled(self) -> int:
        return count_handled(str(self.count_file))


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_listening(process: subprocess.Popen, port: int, log: Path) -> None:
    """Poll a TCP connect until the server accepts, it exits, or READY_TIMEOUT_S passes."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(
        f"the server did not listen within {READY_TIMEOUT_S:g} s:\n{log.read_text()}"
    )


def _stop(process: subprocess.Popen) -> None:
    """Stop the server's whole process group (gunicorn's master and workers) by its pid."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextmanager
def run_gunicorn(
    database_url: str,
    *,
    workers: int = 2,
    threads: int = 1,
    settings: str = "tests.support.http_settings",
    access_log: Path | None = None,
) -> Iterator[LiveServer]:
    """Serve ``thebot_settings.wsgi`` on a free loopback port until the block ends.

    ``--preload`` loads Django in the master before it binds, so once a TCP connect succeeds
    the application is loaded and a broken configuration has already ended the process.
    ``access_log``: gunicorn writes one line per request it served there (complete once the
    block has ended and the server stopped).
    """
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="perftest-server-") as workdir:
        count_file, log = Path(workdir) / "handled", Path(workdir) / "server.log"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": settings,
            "DATABASE_URL": database_url,
            COUNT_FILE_ENV: str(count_file),
        }
        command = [
            str(GUNICORN),
            f"--bind=127.0.0.1:{port}",
            f"--workers={workers}",
            f"--threads={threads}",
            "--preload",
            "--graceful-timeout=5",
            f"--error-logfile={log}",
            *([f"--access-logfile={access_log}"] if access_log else []),
            "thebot_settings.wsgi:application",
        ]
        with log.open("w") as log_file:
            process = subprocess.Popen(
                command,
                cwd=REPO,
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            _wait_until_listening(process, port, log)
            yield LiveServer(f"http://127.0.0.1:{port}", process.pid, count_file)
        finally:
            _stop(process)


def _postgres_url(settings: dict) -> str:
    user = quote(settings.get("USER") or "", safe="")
    password = quote(settings.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = quote(settings.get("HOST") or "127.0.0.1", safe="")  # a socket path is %-encoded
    port = f":{settings['PORT']}" if settings.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{quote(settings['NAME'], safe='')}"


@contextmanager
def _sqlite_file_copy(path: Path, django_db_blocker) -> Iterator[str]:
    """Point the default connection at a file copy of the in-memory test database."""
    memory_name = default_connection.settings_dict["NAME"]
    keeper = sqlite3.connect(memory_name, uri=True)  # the database lives while one is open
    copy = sqlite3.connect(path)
    keeper.backup(copy)
    copy.close()
    default_connection.settings_dict["NAME"] = str(path)
    default_connection.close()  # really closes now: the name is no longer in-memory
    try:
        yield f"sqlite:///{path}"
    finally:
        default_connection.close()
        default_connection.settings_dict["NAME"] = memory_name
        with django_db_blocker.unblock():
            default_connection.ensure_connection()  # before the keeper lets the database go
        keeper.close()


@pytest.fixture(scope="module")
def shared_database_url(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[str]:
    """A DATABASE_URL that reaches this test process's database from another process."""
    vendor = default_connection.vendor
    if vendor == "postgresql":
        yield _postgres_url(default_connection.settings_dict)
    elif vendor == "sqlite" and not default_connection.is_in_memory_db():
        yield f"sqlite:///{Path(default_connection.settings_dict['NAME']).resolve()}"
    elif vendor == "sqlite":
        path = tmp_path_factory.mktemp("shared-db") / "test.sqlite3"
        with _sqlite_file_copy(path, django_db_blocker) as url:
            yield url
    else:
        pytest.skip(f"live server tests support SQLite and PostgreSQL, not {vendor}")


@pytest.fixture(scope="module")
def standin_server(shared_database_url: str) -> Iterator[LiveServer]:
    """gunicorn (master and two workers) serving the stand-in and /test/ on the test database."""
    with run_gunicorn(shared_database_url) as server:
        yield server
