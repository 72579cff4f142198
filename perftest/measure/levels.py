"""The load levels: each level of the plan in turn on the plan's engine.

The per-identity set-up (``setup.Setup``) is built once and handed to the engine the plan
names (``--engine``): threads of this process, or Locust's processes. Each level is appended
to the result as it ends, with the database connections it used. With ``--capacity`` the
levels are the steps of a search (``measure.capacity`` proposes each rate,
``measure.capacity_steps`` sizes its pool and judges it), run here like any open level. An
in-process soak's level is traced (``measure.allocations``) from its start to its end.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from perftest.plan.capacity import CapacityPlan
from perftest.plan.expressions import parse
from perftest.plan.model import Mix
from perftest.text import number

from .allocations import AllocationTrace, project_roots
from .capacity import Search
from .capacity_steps import judge, pool_size, start_p95_ms, start_rate
from .database import ConnectionUse, ConnectionWatch
from .load.engine import Engine, LevelInterrupted, schedule_for
from .load.locust_engine.driver import LocustEngine, handover
from .load.schedule import Schedule
from .load.threads import ThreadEngine, WorkerKit
from .result import LevelResult
from .setup import Setup
from .soak import Checkpoints, describe
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
            if load.capacity is not None:
                self._search(engine, load.capacity)
                return
            for position, workers in enumerate(load.concurrency, start=1):
                prefix = f"level {position}/{len(load.concurrency)} "
                level = self._run_level(engine, schedule_for(load, workers), prefix)
                if level.aborted:
                    return  # an abort rule stopped this level: the heavier ones would not be kinder

    def _run_level(self, engine: Engine, schedule: Schedule, prefix: str) -> LevelResult:
        """One level on ``engine``, appended to the result as it ends (interrupted too); a
        soak's level is also handed to the session's checkpoint every interval as it runs."""
        session = self.session
        session.calibration.sample()
        watch = ConnectionWatch()
        watch.start()
        checkpoints = self._checkpoints(schedule.workers, watch)
        trace = checkpoints.allocations if checkpoints is not None else None
        if trace is not None:
            trace.start()
        try:
            try:
                level = engine.run_level(
                    schedule, lambda text: session.tick(prefix + text), checkpoints
                )
            except LevelInterrupted as interrupted:
                self._append(interrupted.result, schedule.workers, watch, checkpoints)
                raise
            self._append(level, schedule.workers, watch, checkpoints)
        finally:
            if trace is not None:
                trace.stop()  # after an error too; once finished, it does nothing
        return level

    def _checkpoints(self, workers: int, watch: ConnectionWatch) -> Checkpoints | None:
        """A soak's checkpoints: each partial level completed as ``_append`` completes a
        whole one, then stored by the session's callback (None: not a soak)."""
        soak, store = self.session.plan.load.soak, self.session.checkpoint
        if soak is None or store is None:
            return None

        def complete(level: LevelResult) -> None:
            self._complete(level, workers, watch.so_far())
            store(level)

        # In-process only: over HTTP the server's memory is another process's.
        traced = soak.trace_allocations and self.session.plan.http is None
        return Checkpoints(soak, complete, AllocationTrace(project_roots()) if traced else None)

    def _search(self, engine: Engine, plan: CapacityPlan) -> None:
        """``--capacity``: each step an open level at the rate the search proposes, its pool
        sized to the rate; the search's record goes to the result however it ends."""
        result, load, mix = self.session.result, self.session.plan.load, self.setup.mix
        bounds = [parse(text) for text in plan.bounds]
        rows = result.http_endpoints or result.endpoints
        search = Search(plan, start_rate(rows, mix))
        first_p95 = start_p95_ms(rows, mix)
        try:
            while (rate := search.next_rate()) is not None:
                passing = search.passing
                workers = pool_size(rate, bounds, passing.p95_ms if passing else first_p95, plan)
                seconds = plan.step_seconds(rate, narrowing=search.failing is not None)
                step = dataclasses.replace(load, rate=rate, duration_s=seconds)
                prefix = f"capacity step {len(search.steps) + 1} (of at most {plan.max_steps}) "
                index = len(result.levels)
                level = self._run_level(engine, schedule_for(step, workers), prefix)
                outcome = judge(level, bounds, rate, index, plan.max_workers)
                search.record(outcome)
                if outcome.generator:
                    result.notes.append(
                        f"--capacity ended at the step of {number(rate)} req/s, which perftest "
                        f"could not send: {outcome.generator}. More generator processes "
                        "(--engine locust --processes N) can send more."
                    )
        except KeyboardInterrupt:
            search.interrupt()
            raise
        finally:
            result.capacity = search.to_dict()

    def _complete(self, level: LevelResult, workers: int, connections: ConnectionUse) -> None:
        level.database_connections = dataclasses.asdict(connections)
        level.identities = min(len(self.session.identities), workers)
        level.login_mode = self.session.plan.load.login_mode

    def _append(
        self,
        level: LevelResult,
        workers: int,
        watch: ConnectionWatch,
        checkpoints: Checkpoints | None = None,
    ) -> None:
        self._complete(level, workers, watch.stop())
        if checkpoints is not None:
            describe(level, checkpoints.soak, checkpoints.count)
            trace = checkpoints.allocations
            traced = trace.finish(level.started_unix_ns) if trace is not None else None
            if traced is not None:
                level.soak["allocations"] = traced
        self.session.result.levels.append(level)
        self.session.keep_sessions()
