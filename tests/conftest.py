"""Shared fixtures: run the real command against the real test database, and load the runs
stored by older perftest code (``tests.support.old_runs``) into it."""

from __future__ import annotations

import fcntl
import os
import tempfile
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.db import connections
from django.test import override_settings

from perftest.models import Run
from tests.support.commands import in_process
from tests.support.old_runs import FIXTURES
from tests.support.passwords import FAST_HASHERS


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing():
    """Logins in the test process hash with a fast hasher (``tests.support.passwords``)."""
    with override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        yield


@pytest.fixture
def run_perftest(tmp_path):
    """Run ``manage.py perftest`` in-process; return the stored run and its report text.

    ``exit_code`` is the code the command must end with (0: it returns normally).
    """

    def run(*args: str, exit_code: int = 0) -> tuple[Run, str]:
        if exit_code:
            with pytest.raises(CommandError) as ended:
                call_command("perftest", "--output", str(tmp_path), *args)
            assert ended.value.returncode == exit_code, ended.value
        else:
            call_command("perftest", "--output", str(tmp_path), *args)
        stored = Run.objects.latest("pk")
        return stored, (tmp_path / f"run-{stored.pk}.md").read_text()

    return run


@pytest.fixture
def stored_runs(db):
    call_command("loaddata", str(FIXTURES / "runs.json"), verbosity=0)


@pytest.fixture(autouse=True)
def fresh_content_type_cache():
    """Content types created inside a rolled-back test must not linger in Django's cache."""
    ContentType.objects.clear_cache()
    yield
    ContentType.objects.clear_cache()


@pytest.fixture
def manage(db, settings, monkeypatch):
    """``manage(*argv, **perftest)``: ``manage.py *argv`` in this process on the test database,
    as a ``CompletedProcess`` (exit code, stdout, stderr); keyword arguments go over
    ``PERFTEST`` for the call, as a settings module of a real project would set them."""
    # run_from_argv closes every connection when the command ends; the test's transaction
    # lives on the connection, so it must stay open.
    monkeypatch.setattr(connections, "close_all", lambda: None)

    def run(*argv: str, **perftest: object):
        if perftest:
            settings.PERFTEST = {**settings.PERFTEST, **perftest}
        return in_process(*argv)

    return run


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """With several workers (pytest-xdist) the machine is never quiet: another worker's test is
    "another program" to perftest's machine rule. A test marked ``alone`` therefore takes the
    machine for itself: every test holds a shared lock from its set-up to its tear-down (the
    module-scoped servers and seeded data it starts or stops included), an ``alone`` test an
    exclusive one, and a gate lock it holds while waiting keeps new tests from starting first.
    Without workers this does nothing."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if not run:
        yield
        return
    folder = Path(tempfile.gettempdir()) / f"perftest-machine-{run}"
    folder.mkdir(exist_ok=True)
    alone = item.get_closest_marker("alone") is not None
    with (
        open(folder / "gate.lock", "a") as gate,
        open(folder / "share.lock", "a") as share,
    ):
        fcntl.flock(gate, fcntl.LOCK_EX)
        try:
            fcntl.flock(share, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        finally:
            fcntl.flock(gate, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(share, fcntl.LOCK_UN)
