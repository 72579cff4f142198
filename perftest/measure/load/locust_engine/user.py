"""The Locust user perftest's workers run, and the worker's side of perftest's messages.

Imported by every Locust process of a run (through ``locustfile``): on a worker, the init
hook registers the level message and adds each report's delta; the master registers its own
side (``master``). A worker also gives up on a silent master sooner than Locust's 60 s, so
the workers of a killed master stop on their own while the command stores the run.
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
from typing import Any

import gevent
import locust.runners
from locust import User, constant, events, task
from locust.exception import StopUser
from locust.runners import WorkerRunner

from . import RECORD_ENV, wire
from .worker import WorkerLevel

#: Seconds without a heartbeat from the master after which a worker quits.
WORKER_GIVES_UP_S = 10
locust.runners.MASTER_HEARTBEAT_TIMEOUT = WORKER_GIVES_UP_S


#: Numbers the deltas written for ``perftest_worker --record`` (``delta-00001.json``, ...).
_shipped = itertools.count(1)


def _record(delta: dict[str, Any]) -> dict[str, Any]:
    folder = os.environ.get(RECORD_ENV)
    if folder:
        path = Path(folder, f"delta-{next(_shipped):05d}.json")
        part = path.with_name(path.name + ".tmp")
        part.write_text(json.dumps(delta))
        os.replace(part, path)
    return delta


class _Current:
    """The level this worker process runs now (None before the first)."""

    level: WorkerLevel | None = None


CURRENT = _Current()


class PerftestUser(User):
    """One virtual user of a level: one identity, one keep-alive connection, no think time.

    Its single task is its whole part of the level (``WorkerLevel.run_user``); then it stops,
    so no request is ever cut short by Locust's stop.
    """

    wait_time = constant(0)

    @task
    def take_part(self) -> None:
        if CURRENT.level is not None:
            CURRENT.level.run_user()
        raise StopUser


def _on_level(environment: Any, msg: Any, **kwargs: Any) -> None:
    runner = environment.runner
    level = CURRENT.level = WorkerLevel(msg.data, runner.client_id)

    def report_done() -> None:
        runner.send_message(wire.DONE_MESSAGE, _record(level.wait_done()))

    gevent.spawn(report_done)


def _on_report(client_id: str, data: dict[str, Any]) -> None:
    level = CURRENT.level
    delta = level.take_delta() if level is not None and not level.finished else None
    if delta is not None:
        data[wire.REPORT_KEY] = _record(delta)


@events.init.add_listener
def _on_init(environment: Any, **kwargs: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        environment.runner.register_message(wire.LEVEL_MESSAGE, _on_level)
        environment.events.report_to_master.add_listener(_on_report)
