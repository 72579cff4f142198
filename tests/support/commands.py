"""``manage.py`` as the tests run it: in this process through the path manage.py takes, or, where
only a real process shows it (settings read at start-up, a signal, a new database), as a
subprocess; and the one-line, exit-2 usage error both must end in.

In-process is the default: a subprocess costs seconds of Django start-up, and what most tests
read (the exit code and the one stderr line) comes from ``BaseCommand.run_from_argv`` either way.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

from django.core.management import ManagementUtility

ROOT = Path(__file__).resolve().parents[2]


def in_process(*argv: str) -> subprocess.CompletedProcess:
    """``manage.py *argv`` in this process: the command ``execute_from_command_line`` would
    fetch, run from the same argv, with its stdout, stderr and exit code captured.

    The caller provides the database (pytest-django's ``db``) and keeps the command's
    closing of connections from ending the test's transaction (the ``manage`` fixture)."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        argv = ("manage.py", *argv)
        try:
            ManagementUtility(list(argv)).fetch_command(argv[1]).run_from_argv(list(argv))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())


#: The settings a test's ``manage.py`` subprocess runs with unless its ``env`` names others.
SUBPROCESS_SETTINGS = "tests.support.fast_settings"


def manage_subprocess(*args: str, **env: str) -> subprocess.CompletedProcess:
    """``manage.py *args`` in a new process, with ``env`` over this process's environment
    (the settings: ``SUBPROCESS_SETTINGS``)."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": SUBPROCESS_SETTINGS, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def migrated_sqlite(folder: Path) -> str:
    """The DATABASE_URL of a new, migrated SQLite file in ``folder``."""
    database = f"sqlite:///{folder / 'db.sqlite3'}"
    migrate = manage_subprocess("migrate", "-v0", DATABASE_URL=database)
    assert migrate.returncode == 0, migrate.stderr
    return database


def assert_usage_error(result: subprocess.CompletedProcess, expected: str) -> None:
    """Exit 2 and one stderr line holding ``expected``, never a traceback."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr and expected in lines[0], lines[0]
