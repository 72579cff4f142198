"""Closed load levels of the stand-in run for real in this process: worker threads, in-process
transports, each worker logged in with its own identity as a real level logs in."""

from __future__ import annotations

import contextlib
import dataclasses
import threading

from django.db import connection

from perftest.conf import get_config
from perftest.measure.auth import log_in, request_for
from perftest.measure.load.closed import Closed
from perftest.measure.load.engine import Prepare, WorkerSetup
from perftest.measure.load.threads import WorkerKit, run_level
from perftest.measure.result import LevelResult
from perftest.measure.transport.base import Transport
from perftest.measure.transport.inprocess import InProcessTransport
from perftest.plan.build import build_plan
from perftest.plan.model import Mix
from perftest.redact import Redactor

PLAN = build_plan(get_config())
STANDIN = {e.name: e for e in PLAN.endpoints}


def logging_in(identities, redactor: Redactor, wrong_password_for: int | None = None) -> Prepare:
    """Each worker logs its own identity in on its own transport, as a real level does.

    pytest-django's SQLite test database is in memory with a shared cache, whose table locks
    the busy timeout does not retry: there, logins (which write the token) take turns.
    """
    turns = threading.Lock() if connection.vendor == "sqlite" else contextlib.nullcontext()

    def prepare(index: int, transport: Transport) -> WorkerSetup:
        identity = identities[index]
        if index == wrong_password_for:
            identity = dataclasses.replace(identity, password="not-the-password")
        with turns:
            attempt, headers = log_in(transport, PLAN.login, identity, redactor)
        if headers is None:
            return WorkerSetup(None, 1, f"worker {index + 1}: login failed ({attempt.reason})")
        return WorkerSetup({name: request_for(e, headers) for name, e in STANDIN.items()}, 1)

    return prepare


def closed(
    mix: str, prepare: Prepare, redactor: Redactor, concurrency: int, tick=None, **knobs
) -> LevelResult:
    kit = WorkerKit(InProcessTransport, prepare, Mix.parse(mix, PLAN.endpoints), STANDIN, redactor)
    return run_level(kit, Closed(concurrency, **knobs), tick)
