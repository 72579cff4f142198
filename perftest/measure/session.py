"""One call down, one value up: ``measure(session)`` runs every phase of a plan.

The sequential pass (in-process, over HTTP, or both one after the other), then the load
levels, each on the transport the plan names. After the in-process sequential pass,
``--profile`` and ``--explain`` send their extra, uncounted requests (``diagnosis``).
Logins go through the platform's login endpoint on the transport that will use the token; for
the load levels, each identity's login, captured path values and requests are built by
``setup`` and handed to the plan's engine (``load.engine``). Ctrl-C ends measuring with what
was measured so far: the result says ``interrupted`` and names the endpoints never reached.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from perftest.plan.model import Mix, RunPlan
from perftest.redact import Redactor, is_sensitive_key

from .auth import Headers, Identity, endpoint_request, log_in
from .calibration import Calibration
from .database import ConnectionWatch
from .diagnosis.explain import explain, unavailable
from .diagnosis.profile import profile
from .load.engine import Engine, LevelInterrupted, schedule_for
from .load.locust_engine.driver import LocustEngine, handover
from .load.sequential import Sequential
from .load.threads import ThreadEngine, WorkerKit, run_inline
from .params import PATH_PARAMETER, FirstAnswers, PathProblem, capture_sources
from .result import COMPLETED, INTERRUPTED, EndpointResult, LevelResult, RunResult
from .roles import first_of_each_role, role_names, row_role
from .setup import Setup
from .transport.base import SessionKeys, Transport
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
    #: Per identity number, the first expected answer of each endpoint a later one captures a
    #: path value from, as the in-process (or only) sequential pass saw it: ``--profile`` and
    #: ``--explain`` reuse it.
    answers: dict[int, dict] = dataclasses.field(default_factory=dict)
    #: The machine's yardstick, sampled between endpoints and before each level.
    calibration: Calibration = dataclasses.field(default_factory=Calibration)
    #: Where every transport puts the session keys the target's answers set, for clean-up.
    sessions: SessionKeys | None = None


def transport_factory(
    plan: RunPlan, over_http: bool, sessions: SessionKeys | None = None
) -> Callable[[], Transport]:
    """Transports for the plan's target: over HTTP when asked and a server is planned; each
    puts the session keys the answers set into ``sessions``."""
    http = plan.http
    if not over_http or http is None:
        return functools.partial(InProcessTransport, sessions)
    return lambda: HttpTransport(http.base_url, http.connect_timeout, http.read_timeout, sessions)


def _sequential(session: Session, over_http: bool, into: list[EndpointResult]) -> None:
    """Every endpoint in turn, one request at a time, on one transport; with several roles,
    each endpoint once per role (that role's first identity), endpoint by endpoint."""
    plan, result, redactor = session.plan, session.result, session.redactor
    measuring = first_of_each_role(session.identities)
    names = role_names(session.identities)
    total = len(plan.endpoints)
    with transport_factory(plan, over_http, session.sessions)() as plain:
        #: Per identity measuring: its own first answers to capture path values from.
        keepers = {
            identity.number: FirstAnswers(plain, capture_sources(plan.endpoints))
            for identity in measuring
        }
        #: Per identity number: its headers (None when its login failed) and why it failed.
        logged: dict[int, tuple[Headers | None, str]] = {}

        def login(identity: Identity) -> None:
            attempt, headers = log_in(plain, plan.login, identity, redactor)
            result.logins.append(attempt)
            logged[identity.number] = (headers, attempt.reason)

        # A plan of public endpoints sends no login (nor fails on a login path it never needs).
        needs_token = any(endpoint.auth for endpoint in plan.endpoints)
        for identity in measuring:
            if needs_token:
                login(identity)
            else:
                logged[identity.number] = ((), "")
        for index, endpoint in enumerate(plan.endpoints, start=1):
            for identity in measuring:
                role = row_role(identity, names)
                row = EndpointResult.empty(endpoint, role)
                row.planned = plan.iterations  # planned, whether or not it can be measured
                into.append(row)
                headers, reason = logged[identity.number]
                if endpoint.problem is not None and endpoint.problem.skip:
                    row.not_measured = f"{endpoint.problem.detail} (a configuration problem)"
                    continue
                if endpoint.auth and headers is None:
                    row.not_measured = f"login failed ({reason})"
                    continue
                label = f"[{index}/{total}]" + (f" {role}:" if role else "")
                schedule = Sequential(
                    plan.iterations,
                    plan.warmup,
                    lambda text, label=label: session.tick(f"{label} {text}"),
                )
                transport = keepers[identity.number]
                try:
                    spec = endpoint_request(plan, endpoint, identity, headers, transport.answers)
                except PathProblem as wrong:
                    row.configuration = wrong.problem.as_dict()
                    row.not_measured = f"{wrong.problem.detail} (a configuration problem)"
                    continue
                run_inline(schedule, transport, (spec, row), redactor)
                if endpoint.is_login and any(e.auth for e in plan.endpoints[index:]):
                    # Every login rotates the token: log in once more for the endpoints after it.
                    login(identity)
            session.calibration.sample()
    if not session.answers:
        session.answers = {number: keeper.answers for number, keeper in keepers.items()}


def _diagnosis(session: Session) -> None:
    """``--profile`` and ``--explain``: extra in-process requests to each endpoint that
    answered as expected, after its measured ones and never counted in its figures; with
    several roles, to each role's row, as that role's first identity.

    They run on a transport of their own, logged in afresh (its login is recorded with the
    others), and log in again after the login endpoint, whose requests rotate the token.
    """
    plan = session.plan
    explaining = plan.explain and not unavailable()
    if not (plan.profile or explaining):
        return
    names = role_names(session.identities)
    rows = {(row.name, row.role): row for row in session.result.endpoints}
    with InProcessTransport(session.sessions) as transport:
        for identity in first_of_each_role(session.identities):
            role = row_role(identity, names)
            mine = {e.name: rows[e.name, role] for e in plan.endpoints}
            _diagnosis_as(session, transport, identity, mine, explaining)


def _diagnosis_as(
    session: Session,
    transport: Transport,
    identity: Identity,
    rows: dict[str, EndpointResult],
    explaining: bool,
) -> None:
    """The diagnostic requests of one identity, into its rows (by endpoint name)."""
    plan, result = session.plan, session.result
    headers: Headers | None = None
    if any(endpoint.auth for endpoint in plan.endpoints):
        attempt, headers = log_in(transport, plan.login, identity, session.redactor)
        result.logins.append(attempt)
    for endpoint in plan.endpoints:
        row = rows[endpoint.name]
        if not row.ok or (endpoint.auth and headers is None):
            continue
        session.tick(f"why it is slow: {endpoint.name}" + (f" ({row.role})" if row.role else ""))
        answers = session.answers.get(identity.number, {})
        spec = endpoint_request(plan, endpoint, identity, headers, answers)
        if plan.profile:
            row.profile = profile(transport, spec, plan.profile, endpoint.expected_status)
        if explaining:
            row.explain = explain(transport, spec, endpoint.expected_status)
        if endpoint.is_login and headers is not None:
            attempt, headers = log_in(transport, plan.login, identity, session.redactor)
            result.logins.append(attempt)


class _Levels:
    """Every load level of the plan in turn on the plan's engine, each appended to the result
    as it ends."""

    def __init__(self, session: Session, mix: Mix):
        self.session = session
        plan = session.plan
        factory = transport_factory(plan, plan.http is not None, session.sessions)
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
        workers = handover(plan, setup.mix, specs, setup.endpoints, secrets)
        return LocustEngine(plan, workers, session.result.notes, session.redactor)

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
        _keep_sessions(self.session)


def _keep_sessions(session: Session) -> None:
    """Between phases, outside any measured window: the session keys gathered so far go to
    the clean-up's records."""
    if session.sessions is not None:
        session.sessions.keep()


def _register_secrets(plan: RunPlan, redactor: Redactor) -> None:
    """Values of sensitive-looking headers and query parameters an endpoint configures
    (Authorization, Cookie, X-Api-Key, token=…) are masked wherever an answer repeats them."""
    for endpoint in plan.endpoints:
        for name, value in (*endpoint.headers, *endpoint.query):
            if is_sensitive_key(name):
                redactor.add(value)


def _level_mix(session: Session) -> Mix | None:
    """The levels' mix without the endpoints whose path could not be filled in the
    sequential pass (their configuration finding says why); None when no level runs."""
    mix, result = session.plan.load.mix, session.result
    if not session.plan.load.active or mix is None:
        return None
    broken = {
        row.name for row in result.endpoints if row.configuration.get("problem") == PATH_PARAMETER
    }
    weights = tuple((name, weight) for name, weight in mix.weights if name not in broken)
    if not weights:
        result.notes.append(
            "no load level ran: the path of every endpoint of the mix could not be filled "
            "(see the configuration findings)"
        )
        return None
    return dataclasses.replace(mix, weights=weights)


def mark_unreached(plan: RunPlan, result: RunResult) -> None:
    """List the endpoints (per role) an interruption kept from running, so the report names
    them."""
    roles = [role.name for role in plan.roles] if len(plan.roles) > 1 else [""]
    planned = [(endpoint, role) for endpoint in plan.endpoints for role in roles]
    for endpoint, role in planned[len(result.endpoints) :]:
        unreached = EndpointResult.empty(endpoint, role)
        unreached.planned = plan.iterations
        unreached.not_measured = "the run was interrupted before this endpoint"
        result.endpoints.append(unreached)


def measure(session: Session) -> RunResult:
    """Every phase of the plan; the result's status says whether it completed or was stopped.

    Ctrl-C is absorbed here (status ``interrupted``, what was measured kept); any other error
    propagates to the lifecycle, which stores it as the reason the run failed.
    """
    plan, result = session.plan, session.result
    _register_secrets(plan, session.redactor)
    calibration = session.calibration
    try:
        session.tick("sequential pass")
        calibration.sample()
        with calibration.phase("sequential", session.target_pid):
            _sequential(session, over_http=plan.mode == "http", into=result.endpoints)
        if plan.mode != "http":
            _diagnosis(session)
        _keep_sessions(session)
        if plan.mode == "both":
            session.tick("sequential pass over HTTP")
            with calibration.phase("sequential-http", session.target_pid):
                _sequential(session, over_http=True, into=result.http_endpoints)
            _keep_sessions(session)
        mix = _level_mix(session)
        if mix is not None:
            _Levels(session, mix).run_all()
        result.status = COMPLETED
    except KeyboardInterrupt:
        result.status = INTERRUPTED
        mark_unreached(plan, result)
    finally:
        result.calibration = calibration.to_dict()
    return result
