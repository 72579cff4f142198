"""One call down, one value up: ``measure(session)`` runs every phase of a plan.

The sequential pass (in-process, over HTTP, or both one after the other), then the load
levels, each on the transport the plan names. After the in-process sequential pass,
``--profile`` and ``--explain`` send their extra, uncounted requests (``diagnose``).
Logins go through the platform's login endpoint on the transport that will use the token:
per worker by default (one identity each, since THE_BOT rotates tokens), or once per identity
with ``--login once``. Ctrl-C ends measuring with what was measured so far: the result says
``interrupted`` and names the endpoints never reached.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from perftest.plan.model import RunPlan
from perftest.redact import Redactor

from .auth import Headers, Identity, endpoint_request, log_in
from .database import ConnectionWatch
from .diagnose.explain import explain, unavailable
from .diagnose.profile import profile
from .load import schedule_for
from .load.distributed import LocustEngine, handover
from .load.harness import LevelInterrupted, WorkerKit, WorkerSetup, run_inline, run_level
from .load.schedule import Schedule
from .load.sequential import Sequential
from .result import COMPLETED, INTERRUPTED, EndpointResult, LevelResult, RunResult
from .transport.base import Transport
from .transport.http import HttpTransport
from .transport.inprocess import InProcessTransport

Tick = Callable[[str], None]


@dataclass
class Session:
    """What measuring needs: the plan, the seeded identities, and the result to fill."""

    plan: RunPlan
    identities: Sequence[Identity]
    result: RunResult
    redactor: Redactor
    tick: Tick = lambda text: None
    #: The measured server's pid over HTTP, when known; in-process the target is this process.
    target_pid: int | None = None


def transport_factory(plan: RunPlan, over_http: bool) -> Callable[[], Transport]:
    """Transports for the plan's target: over HTTP when asked and a server is planned."""
    http = plan.http
    if not over_http or http is None:
        return InProcessTransport
    return lambda: HttpTransport(http.base_url, http.connect_timeout, http.read_timeout)


def _sequential(session: Session, over_http: bool, into: list[EndpointResult]) -> None:
    """Every endpoint in turn, one request at a time, on one transport."""
    plan, result, redactor = session.plan, session.result, session.redactor
    identity = session.identities[0]
    total = len(plan.endpoints)
    with transport_factory(plan, over_http)() as transport:
        attempt, headers = log_in(transport, plan.login, identity, redactor)
        result.logins.append(attempt)
        for index, endpoint in enumerate(plan.endpoints, start=1):
            row = EndpointResult.empty(endpoint)
            row.planned = plan.iterations  # planned, whether or not it can be measured
            into.append(row)
            if endpoint.problem is not None and endpoint.problem.skip:
                row.not_measured = f"{endpoint.problem.detail} (a configuration problem)"
                continue
            if endpoint.auth and headers is None:
                row.not_measured = f"login failed ({result.logins[-1].reason})"
                continue
            schedule = Sequential(
                plan.iterations,
                plan.warmup,
                lambda text, i=index: session.tick(f"[{i}/{total}] {text}"),
            )
            spec = endpoint_request(plan, endpoint, identity, headers)
            run_inline(schedule, transport, (spec, row), redactor)
            if endpoint.is_login and any(e.auth for e in plan.endpoints[index:]):
                # Every login rotates the token: log in once more for the endpoints after it.
                attempt, headers = log_in(transport, plan.login, identity, redactor)
                result.logins.append(attempt)


def _diagnose(session: Session) -> None:
    """``--profile`` and ``--explain``: extra in-process requests to each endpoint that
    answered as expected, after its measured ones and never counted in its figures.

    They run on a transport of their own, logged in afresh (its login is recorded with the
    others), and log in again after the login endpoint, whose requests rotate the token.
    """
    plan, result = session.plan, session.result
    explaining = plan.explain and not unavailable()
    if not (plan.profile or explaining):
        return
    rows = {row.name: row for row in result.endpoints}
    identity = session.identities[0]
    with InProcessTransport() as transport:
        headers: Headers | None = None
        if any(endpoint.auth for endpoint in plan.endpoints):
            attempt, headers = log_in(transport, plan.login, identity, session.redactor)
            result.logins.append(attempt)
        for endpoint in plan.endpoints:
            row = rows[endpoint.name]
            if not row.ok or (endpoint.auth and headers is None):
                continue
            session.tick(f"why it is slow: {endpoint.name}")
            spec = endpoint_request(plan, endpoint, identity, headers)
            if plan.profile:
                row.profile = profile(transport, spec, plan.profile, endpoint.expected_status)
            if explaining:
                row.explain = explain(transport, spec, endpoint.expected_status)
            if endpoint.is_login and headers is not None:
                attempt, headers = log_in(transport, plan.login, identity, session.redactor)
                result.logins.append(attempt)


class _Levels:
    """Every load level of the plan in turn, each appended to the result as it ends."""

    def __init__(self, session: Session):
        self.session = session
        plan = session.plan
        self.endpoints = {e.name: e for e in plan.endpoints}
        self.shared: dict[int, tuple[Headers | None, str]] | None = None
        assert plan.load.mix is not None, "a plan with levels has a mix"
        self.kit = WorkerKit(
            factory=transport_factory(plan, over_http=plan.http is not None),
            prepare=self.prepare,
            mix=plan.load.mix,
            endpoints=self.endpoints,
            redactor=session.redactor,
            target_pid=session.target_pid,
            aborts=plan.aborts,
        )

    def _log_in_once(self) -> None:
        """--login once: each identity logs in one time; its workers share the token."""
        session = self.session
        self.shared = {}
        with self.kit.factory() as transport:
            for identity in session.identities:
                attempt, headers = log_in(transport, session.plan.login, identity, session.redactor)
                session.result.logins.append(attempt)
                self.shared[identity.number] = (headers, attempt.reason)

    def prepare(self, index: int, transport: Transport) -> WorkerSetup:
        session = self.session
        identity = session.identities[index % len(session.identities)]
        logins = 0
        if self.shared is not None:
            headers, reason = self.shared[identity.number]
        else:
            attempt, headers = log_in(transport, session.plan.login, identity, session.redactor)
            logins, reason = 1, attempt.reason
        if headers is None:
            return WorkerSetup(None, logins, f"worker {index + 1}: login failed ({reason})")
        specs = {
            name: endpoint_request(session.plan, endpoint, identity, headers)
            for name, endpoint in self.endpoints.items()
        }
        return WorkerSetup(specs, logins)

    def _engine(self) -> AbstractContextManager[Callable[[Schedule, Tick], LevelResult]]:
        """What runs a level: the thread engine in this process, or Locust's processes."""
        if self.session.plan.load.engine.name == "threads":
            return contextlib.nullcontext(functools.partial(run_level, self.kit))
        session = self.session
        return LocustEngine(session.plan, self._handover(), session.result.notes, session.redactor)

    def _handover(self) -> dict[str, Any]:
        """Each identity that logged in, with its requests and secrets, for Locust's workers."""
        plan, specs, secrets, failures = self.session.plan, [], [], []
        assert self.shared is not None and plan.load.mix is not None
        # A password leaves this process only in the body of a login the mix sends.
        sends_login = any(self.endpoints[name].is_login for name in plan.load.mix.names)
        for identity in self.session.identities:
            headers, reason = self.shared[identity.number]
            if headers is None:
                failures.append(reason)
                continue
            specs.append(
                {
                    name: endpoint_request(plan, endpoint, identity, headers)
                    for name, endpoint in self.endpoints.items()
                }
            )
            secrets += [value for _, value in headers] + [v.split()[-1] for _, v in headers]
            secrets += [identity.password] if sends_login else []
        if not specs:
            raise RuntimeError(
                f"no identity could log in ({failures[0]}), so Locust's users have no token"
            )
        return handover(plan, specs, self.endpoints, secrets)

    def run_all(self) -> None:
        session = self.session
        load = session.plan.load
        if load.login_mode == "once":
            self._log_in_once()
        with self._engine() as run_one:
            for position, workers in enumerate(load.concurrency, start=1):
                prefix = f"level {position}/{len(load.concurrency)} "
                watch = ConnectionWatch()
                watch.start()
                try:
                    level = run_one(
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


def mark_unreached(plan: RunPlan, result: RunResult) -> None:
    """List the endpoints an interruption kept from running, so the report names them."""
    for endpoint in plan.endpoints[len(result.endpoints) :]:
        unreached = EndpointResult.empty(endpoint)
        unreached.planned = plan.iterations
        unreached.not_measured = "the run was interrupted before this endpoint"
        result.endpoints.append(unreached)


def measure(session: Session) -> RunResult:
    """Every phase of the plan; the result's status says whether it completed or was stopped.

    Ctrl-C is absorbed here (status ``interrupted``, what was measured kept); any other error
    propagates to the lifecycle, which stores it as the reason the run failed.
    """
    plan, result = session.plan, session.result
    try:
        session.tick("sequential pass")
        _sequential(session, over_http=plan.mode == "http", into=result.endpoints)
        if plan.mode != "http":
            _diagnose(session)
        if plan.mode == "both":
            session.tick("sequential pass over HTTP")
            _sequential(session, over_http=True, into=result.http_endpoints)
        if plan.load.active:
            _Levels(session).run_all()
        result.status = COMPLETED
    except KeyboardInterrupt:
        result.status = INTERRUPTED
        mark_unreached(plan, result)
    return result
