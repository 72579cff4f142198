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

from perftest.plan.model import Mix, RunPlan
from perftest.redact import Redactor, is_sensitive_key

from .auth import Headers, Identity, endpoint_request, log_in
from .calibration import Calibration
from .database import ConnectionWatch
from .diagnose.explain import explain, unavailable
from .diagnose.profile import profile
from .endpoint_result import EndpointResult
from .load import schedule_for
from .load.distributed import LocustEngine, handover
from .load.harness import LevelInterrupted, WorkerKit, WorkerSetup, run_inline, run_level
from .load.schedule import Schedule
from .load.sequential import Sequential
from .params import PATH_PARAMETER, FirstAnswers, PathProblem, capture_sources
from .result import COMPLETED, INTERRUPTED, LevelResult, RunResult
from .roles import first_of_each_role, role_names, row_role, worker_order
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


def _diagnose(session: Session) -> None:
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
            _diagnose_as(session, transport, identity, mine, explaining)


def _diagnose_as(
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
    """Every load level of the plan in turn, each appended to the result as it ends."""

    def __init__(self, session: Session, mix: Mix):
        self.session = session
        plan = session.plan
        self.endpoints = {e.name: e for e in plan.endpoints}
        self.shared: dict[int, tuple[Headers | None, str]] | None = None
        #: A mix of public endpoints (and public capture sources) needs no token: its workers
        #: do not log in, so a login path the target lacks cannot empty the level.
        sources = capture_sources(plan.endpoints)
        self.logs_in = any(
            e.auth for e in plan.endpoints if e.name in mix.names or e.name in sources
        )
        #: Worker k takes the k-th identity: the roles interleaved in proportion.
        self.order = worker_order(session.identities)
        self.kit = WorkerKit(
            factory=transport_factory(plan, plan.http is not None, session.sessions),
            prepare=self.prepare,
            mix=mix,
            endpoints=self.endpoints,
            redactor=session.redactor,
            target_pid=session.target_pid,
            aborts=plan.aborts,
            roles=role_names(session.identities),
            logs_in=self.logs_in and plan.load.login_mode != "once",
        )

    def _log_in_once(self) -> None:
        """--login once: each identity logs in one time; its workers share the token."""
        session = self.session
        self.shared = {}
        if not self.logs_in:
            self.shared = {identity.number: ((), "") for identity in session.identities}
            return
        with self.kit.factory() as transport:
            for done, identity in enumerate(session.identities, start=1):
                attempt, headers = log_in(transport, session.plan.login, identity, session.redactor)
                session.result.logins.append(attempt)
                self.shared[identity.number] = (headers, attempt.reason)
                session.tick(f"--login once: logged in {done}/{len(session.identities)}")

    def prepare(self, index: int, transport: Transport) -> WorkerSetup:
        session = self.session
        identity = self.order[index % len(self.order)]
        role = row_role(identity, self.kit.roles)
        logins = 0
        headers: Headers | None = ()
        reason = ""
        if self.shared is not None:
            headers, reason = self.shared[identity.number]
        elif self.logs_in:
            attempt, headers = log_in(transport, session.plan.login, identity, session.redactor)
            logins, reason = 1, attempt.reason
        if headers is None:
            failure = f"worker {index + 1}: login failed ({reason})"
            return WorkerSetup(None, logins, failure, role)
        answers, captures = self._capture(transport, identity, headers)
        try:
            specs = {
                name: endpoint_request(
                    session.plan, self.endpoints[name], identity, headers, answers
                )
                for name in self.kit.mix.names
            }
        except PathProblem as wrong:
            failure = f"worker {index + 1}: {wrong.problem.detail}"
            return WorkerSetup(None, logins, failure, role, captures)
        return WorkerSetup(specs, logins, role=role, captures=captures)

    def _capture(
        self, transport: Transport, identity: Identity, headers: Headers
    ) -> tuple[dict, int]:
        """Each worker captures path values from answers to its own identity: one request to
        each endpoint a value is captured from, at setup, in plan order. Returns the answers
        and how many capture requests were sent (not counted in any table, but in the totals
        of what was sent)."""
        plan = self.session.plan
        keeper = FirstAnswers(transport, capture_sources(plan.endpoints))
        sent = 0
        for endpoint in plan.endpoints:
            if endpoint.name not in keeper.expected or endpoint.problem is not None:
                continue
            try:
                spec = endpoint_request(plan, endpoint, identity, headers, keeper.answers)
            except PathProblem:
                continue  # its own value is missing: what needs it says so
            keeper.send(spec)
            sent += 1
        return keeper.answers, sent

    def _engine(self) -> AbstractContextManager[Callable[[Schedule, Tick], LevelResult]]:
        """What runs a level: the thread engine in this process, or Locust's processes."""
        if self.session.plan.load.engine.name == "threads":
            return contextlib.nullcontext(functools.partial(run_level, self.kit))
        session = self.session
        return LocustEngine(session.plan, self._handover(), session.result.notes, session.redactor)

    def _handover(self) -> dict[str, Any]:
        """Each identity that logged in, with its requests and secrets, for Locust's workers.

        Path values are captured here, once per identity (as a thread worker does at setup;
        these capture requests are counted on the run, sent once for every level); an identity
        whose path cannot be filled is left out, like one whose login failed.
        """
        plan, mix, specs, secrets, failures = self.session.plan, self.kit.mix, [], [], []
        assert self.shared is not None
        # A password leaves this process only in the body of a login the mix sends.
        sends_login = any(self.endpoints[name].is_login for name in mix.names)
        with self.kit.factory() as transport:
            for identity in self.order:
                headers, reason = self.shared[identity.number]
                if headers is None:
                    failures.append(reason)
                    continue
                answers, captures = self._capture(transport, identity, headers)
                self.session.result.capture_requests += captures
                try:
                    specs.append(
                        {
                            name: endpoint_request(
                                plan, self.endpoints[name], identity, headers, answers
                            )
                            for name in mix.names
                        }
                    )
                except PathProblem as wrong:
                    failures.append(wrong.problem.detail)
                    continue
                secrets += [value for _, value in headers] + [v.split()[-1] for _, v in headers]
                secrets += [identity.password] if sends_login else []
        if not specs:
            raise RuntimeError(
                f"no identity could log in ({failures[0]}), so Locust's users have no token"
            )
        return handover(plan, mix, specs, self.endpoints, secrets)

    def run_all(self) -> None:
        session = self.session
        load = session.plan.load
        if load.login_mode == "once":
            self._log_in_once()
        with self._engine() as run_one:
            for position, workers in enumerate(load.concurrency, start=1):
                prefix = f"level {position}/{len(load.concurrency)} "
                session.calibration.sample()
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
            _diagnose(session)
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
