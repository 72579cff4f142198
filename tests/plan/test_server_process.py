"""The server's slots (workers × threads) read from its command line and its process tree."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from perftest.plan.server_process import (
    GUNICORN_CONNECTIONS,
    combine,
    parse_command_line,
    read_server,
)

VENV = "/srv/app/.venv/bin"


def slots_of(argv: list[str], env: str | None = None, tree: int = 0) -> dict:
    """What a run would record for a server with this command line and process tree."""
    return combine(4242, "python3", parse_command_line(argv, env), tree).to_dict()


@pytest.mark.parametrize(
    ("argv", "workers", "threads"),
    [
        ([f"{VENV}/python", f"{VENV}/gunicorn", "--bind=127.0.0.1:8000", "--workers=2",
          "--threads=1", "app.wsgi:application"], 2, 1),
        (["gunicorn", "-w", "4", "--threads", "3", "app.wsgi"], 4, 3),
        (["gunicorn", "-w3", "app.wsgi"], 3, 1),
        (["python3", "-m", "gunicorn", "--workers", "5", "app.wsgi"], 5, 1),
        # The last of an option given twice wins, as with gunicorn's own parser.
        (["gunicorn", "-w", "2", "--workers", "6", "app.wsgi"], 6, 1),
    ],
)  # fmt: skip
def test_gunicorns_workers_and_threads_are_read_from_its_command_line(argv, workers, threads):
    recorded = slots_of(argv, tree=workers)
    assert (recorded["name"], recorded["workers"], recorded["threads"]) == (
        "gunicorn",
        workers,
        threads,
    )
    assert recorded["slots"] == workers * threads and recorded["pid"] == 4242
    assert f"process tree: {workers} worker processes sharing" in recorded["source"]


def test_more_than_one_gunicorn_thread_says_gthread_serves_one_request_per_thread():
    recorded = slots_of(["gunicorn", "--workers", "1", "--threads", "4", "app.wsgi"], tree=1)
    assert (recorded["workers"], recorded["threads"], recorded["slots"]) == (1, 4, 4)
    assert recorded["source"] == (
        "gunicorn: --workers 1 (command line), --threads 4 (command line), gthread: one request "
        "per thread; process tree: 1 worker process sharing the listening socket"
    )


def test_gunicorn_cmd_args_count_and_the_command_line_overrides_them():
    from_env = slots_of(["gunicorn", "app.wsgi"], env="--workers 3 --threads 2", tree=3)
    assert (from_env["workers"], from_env["threads"]) == (3, 2)
    assert "--workers 3 (GUNICORN_CMD_ARGS)" in from_env["source"]
    overridden = slots_of(["gunicorn", "-w", "2", "app.wsgi"], env="--workers 3", tree=2)
    assert overridden["workers"] == 2 and "--workers 2 (command line)" in overridden["source"]
    unreadable = slots_of(["gunicorn", "app.wsgi"], env="--workers '3", tree=2)
    assert unreadable["workers"] == 2, "an unparsable GUNICORN_CMD_ARGS leaves the tree's count"


def test_without_a_worker_count_gunicorns_workers_are_its_children_on_the_socket():
    # A config file (-c) or a rewritten process title (setproctitle) leaves no count to read.
    for argv in (["gunicorn", "-c", "gunicorn.conf.py", "app.wsgi"], ["gunicorn: master [app]"]):
        recorded = slots_of(argv, tree=3)
        assert (recorded["name"], recorded["workers"], recorded["threads"]) == ("gunicorn", 3, 1)
        assert recorded["source"].endswith(
            "process tree: 3 worker processes sharing the listening socket"
        )
        assert "threads: gunicorn's default 1 (a config file may set more)" in recorded["source"]


def test_a_count_the_tree_disagrees_with_keeps_the_command_lines_and_says_so():
    recorded = slots_of(["gunicorn", "--workers", "4", "app.wsgi"], tree=3)
    assert recorded["workers"] == 4
    assert recorded["source"].endswith(
        "process tree: 3 worker processes sharing the listening socket (the command line's 4 is "
        "used)"
    )


def test_event_loop_workers_serve_up_to_their_connections_each():
    gevent = slots_of(["gunicorn", "-k", "gevent", "-w", "2", "--worker-connections", "50", "a"])
    assert (gevent["workers"], gevent["threads"], gevent["slots"]) == (2, 50, 100)
    default = slots_of(["gunicorn", "--worker-class=eventlet", "a"], tree=1)
    assert default["threads"] == GUNICORN_CONNECTIONS
    uvicorn = slots_of(["gunicorn", "-k", "uvicorn.workers.UvicornWorker", "-w", "2", "a"])
    assert (uvicorn["workers"], uvicorn["threads"]) == (2, 1)
    assert "threads per worker unknown, counted as 1" in uvicorn["source"]


@pytest.mark.parametrize(
    ("argv", "workers", "threads"),
    [
        (["uwsgi", "--http", ":8000", "--processes", "4", "--threads", "2", "--module", "a"], 4, 2),
        (["/usr/bin/uwsgi", "-p", "3", "--module", "a"], 3, 1),
        (["uwsgi", "--workers=2", "--module", "a"], 2, 1),
        (["uwsgi", "--module", "a"], 1, 1),
    ],
)  # fmt: skip
def test_uwsgis_processes_and_threads_are_read_from_its_command_line(argv, workers, threads):
    recorded = slots_of(argv)
    assert (recorded["name"], recorded["workers"], recorded["threads"]) == (
        "uwsgi",
        workers,
        threads,
    )


def test_uwsgis_processes_set_in_a_config_file_are_counted_from_the_tree():
    recorded = slots_of(["uwsgi", "--ini", "uwsgi.ini"], tree=4)
    assert (recorded["workers"], recorded["threads"]) == (4, 1)
    assert recorded["source"] == (
        "uwsgi: threads: uwsgi's default 1 (a config file may set more); process tree: 4 worker "
        "processes sharing the listening socket"
    )


def test_djangos_runserver_is_threaded_without_a_fixed_limit_unless_told_otherwise():
    threaded = slots_of(["python", "manage.py", "runserver", "0.0.0.0:8000"])
    assert (threaded["name"], threaded["workers"], threaded["threads"], threaded["slots"]) == (
        "Django runserver",
        1,
        0,
        0,
    )
    assert "a new thread per request, no fixed limit" in threaded["source"]
    single = slots_of(["django-admin", "runserver", "--nothreading"])
    assert (single["workers"], single["threads"], single["slots"]) == (1, 1, 1)


def test_an_unknown_server_counts_its_workers_from_the_tree_and_says_threads_are_unknown():
    recorded = slots_of(["uvicorn", "app:app", "--port", "8000"], tree=3)
    assert (recorded["name"], recorded["workers"], recorded["threads"]) == ("python3", 3, 1)
    assert recorded["source"] == (
        "process tree: 3 worker processes sharing the listening socket; threads per worker "
        "unknown, counted as 1"
    )
    alone = slots_of(["daphne", "app.asgi:application"])
    assert alone["workers"] == 1 and "(the process serves itself)" in alone["source"]


def test_a_servers_gunicorn_cmd_args_are_read_from_its_own_environment(tmp_path):
    """Only the one variable is read; the process is a stand-in named gunicorn."""
    program = tmp_path / "gunicorn"
    program.write_text(
        f"#!{sys.executable}\nimport sys\nprint('up', flush=True)\nsys.stdin.read()\n"
    )
    program.chmod(0o700)
    env = {**os.environ, "GUNICORN_CMD_ARGS": "--workers 3 --threads 2"}
    process = subprocess.Popen(
        [str(program), "app.wsgi"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
    )
    try:
        assert process.stdout.readline() == b"up\n"  # running, as a server would be
        recorded = read_server(process.pid, None)
    finally:
        process.communicate(timeout=30)
    assert recorded is not None
    assert (recorded.name, recorded.workers, recorded.threads, recorded.slots) == (
        "gunicorn",
        3,
        2,
        6,
    )
    assert "GUNICORN_CMD_ARGS" in recorded.source


def test_a_process_that_is_gone_has_no_slots():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait(timeout=30)
    assert read_server(process.pid, 8000) is None
