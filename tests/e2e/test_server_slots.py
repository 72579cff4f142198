"""A run over HTTP records the server's workers and threads, read from real gunicorn servers."""

from __future__ import annotations

import pytest

from perftest.models import Run
from tests.support.live_server import run_gunicorn, shared_database_url  # noqa: F401
from tests.support.served_runs import served_run

pytestmark = pytest.mark.django_db(transaction=True)

LIGHT = ["--endpoints", "Get Profile", "--warmup", "0", "--iterations", "1"]


@pytest.mark.parametrize(("workers", "threads"), [(2, 1), (1, 4)])
def test_a_run_records_the_gunicorn_servers_workers_threads_and_slots(
    shared_database_url,  # noqa: F811
    tmp_path,
    workers,
    threads,
):
    with run_gunicorn(shared_database_url, workers=workers, threads=threads) as server:
        run = served_run(tmp_path, "--base-url", server.base_url, *LIGHT)

    assert run.status == Run.Status.COMPLETED, run.failure
    recorded = run.environment["server"]
    assert recorded["pid"] == server.pid
    assert (recorded["name"], recorded["workers"], recorded["threads"], recorded["slots"]) == (
        "gunicorn",
        workers,
        threads,
        workers * threads,
    )
    assert f"--workers {workers} (command line)" in recorded["source"]
    assert f"--threads {threads} (command line)" in recorded["source"]


def test_an_in_process_run_records_no_server(tmp_path):
    run = served_run(tmp_path, *LIGHT)
    assert run.status == Run.Status.COMPLETED, run.failure
    assert "server" not in run.environment
