"""The load levels: each level of the plan in turn on the plan's engine.

The per-identity set-up (``setup.Setup``) is built once and handed to the engine the plan
names (``--engine``): threads of this process, or Locust's processes. Each level is appended
to the result as it ends, with the database connections it used.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from perftest.plan.model import Mix

from .database import ConnectionWatch
from .load.engine import Engine, LevelInterrupted, schedule_for
from .load.locust_engine.driver import LocustEngine, handover
from .load.threads import ThreadEngine, WorkerKit
from .result import LevelResult
from .setup import Setup
from .transport.factory import transport_factory

if TYPE_CHECKING:
    from .session import Session


class Levels:
    """Every load level of the plan in turn on the plan's engine, each appended to the result
    as it ends."""

    def __init__(self, session: Session, mix: Mix):
        self.session = session
        plan = session.plan
        factory = transport_factory(
            plan, plan.http is not None, session.sessions, session.timing_token
        )
        self.setup = Setup(plan, session.identities, mix, session.redactor, session.result, factory)

    def _engine(self) -> Engine:
        """Who sends the levels: threads of this process, or Locust's processes."""
        session, setup = self.session, self.setup
        plan = session.plan
        if plan.load.engine.name == "threads":
            kit = WorkerKit(
                factory=setup.factory,
                prepare=setup.worker,
                mix=setup.mix,
                endpoints=setup.endpoints,
                redactor=session.redactor,
                target_pid=session.target_pid,
                aborts=plan.aborts,
                roles=setup.roles,
                logs_in=setup.worker_logs_in,
            )
            return ThreadEngine(kit)
        specs, secrets = setup.prepare_all()
        workers = handover(plan, setup.mix, specs, setup.endpoints, secrets, session.timing_token)
        return LocustEngine(
            plan, workers, session.result.notes, session.redactor, session.target_pid
        )

    def run_all(self) -> None:
        session = self.session
        load = session.plan.load
        if load.login_mode == "once":
            self.setup.log_in_once(session.tick)
        with self._engine() as engine:
            for position, workers in enumerate(load.concurrency, start=1):
                prefix = f"level {position}/{len(load.concurrency)} "
                session.calibration.sample()
                watch = ConnectionWatch()
                watch.start()
                try:
                    level = engine.run_level(
                        schedule_for(load, workers),
                        lambda text, prefix=prefix: session.tick(prefix + text),
                    )
                except LevelInterrupted as interrupted:
                    self._append(interrupted.result, workers, watch)
                    raise
                self._append(level, workers, watch)
                if level.aborted:
                    return  # an abort rule stopped this level: the heavier ones would not be kinder

    def _append(self, level: LevelResult, workers: int, watch: ConnectionWatch) -> None:
        level.database_connections = dataclasses.asdict(watch.stop())
        level.identities = min(len(self.session.identities), workers)
        level.login_mode = self.session.plan.load.login_mode
        self.session.result.levels.append(level)
        self.session.keep_sessions()
