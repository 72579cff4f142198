"""Per-identity set-up of the load levels, built once here and handed to either engine.

A worker of a level sends as one identity. Before it measures it needs that identity's token
(a login through the platform's login endpoint: per worker by default, since THE_BOT rotates
tokens, or once per identity with ``--login once``), the path values captured from answers to
that identity (one request to each endpoint a value is captured from), and then its requests
for the mix. ``Setup.prepare`` does all three for one identity on a given transport, for both
engines: the thread engine calls it in each worker's own thread, on that worker's transport
(``Setup.worker``: in-process, the worker's own database connection); the Locust engine gets
every identity's requests at once, prepared here before its processes start
(``Setup.prepare_all``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from perftest.plan.model import Mix, RunPlan
from perftest.redact import Redactor

from .auth import Headers, Identity, endpoint_request, log_in
from .load.engine import Tick, WorkerSetup
from .params import FirstAnswers, PathProblem, capture_sources
from .result import RunResult
from .roles import role_names, row_role, worker_order
from .transport.base import RequestSpec, Transport


@dataclass
class Prepared:
    """One identity's set-up: its requests for the mix, or why it has none."""

    specs: dict[str, RequestSpec] | None
    headers: Headers | None
    logins: int = 0
    captures: int = 0
    #: Why it has no requests: the login's reason, or the path that could not be filled.
    failure: str = ""


class Setup:
    """The levels' per-identity set-up: who logs in how, and each identity's requests."""

    def __init__(
        self,
        plan: RunPlan,
        identities: Sequence[Identity],
        mix: Mix,
        redactor: Redactor,
        result: RunResult,
        factory: Callable[[], Transport],
    ):
        self.plan, self.identities, self.mix = plan, identities, mix
        self.redactor, self.result, self.factory = redactor, result, factory
        self.endpoints = {e.name: e for e in plan.endpoints}
        #: A mix of public endpoints (and public capture sources) needs no token: its workers
        #: do not log in, so a login path the target lacks cannot empty the level.
        sources = capture_sources(plan.endpoints)
        self.logs_in = any(
            e.auth for e in plan.endpoints if e.name in mix.names or e.name in sources
        )
        #: Worker k takes the k-th identity: the roles interleaved in proportion.
        self.order = worker_order(identities)
        self.roles = role_names(identities)
        #: With ``--login once``: per identity number, its headers (None when its login
        #: failed) and why it failed; None while every worker logs in for itself.
        self.shared: dict[int, tuple[Headers | None, str]] | None = None

    @property
    def worker_logs_in(self) -> bool:
        """Whether each thread worker logs in for itself (the progress line says so)."""
        return self.logs_in and self.plan.load.login_mode != "once"

    def log_in_once(self, tick: Tick) -> None:
        """``--login once``: each identity logs in one time; its workers share the token."""
        self.shared = {}
        if not self.logs_in:
            self.shared = {identity.number: ((), "") for identity in self.identities}
            return
        with self.factory() as transport:
            for done, identity in enumerate(self.identities, start=1):
                attempt, headers = log_in(transport, self.plan.login, identity, self.redactor)
                self.result.logins.append(attempt)
                self.shared[identity.number] = (headers, attempt.reason)
                tick(f"--login once: logged in {done}/{len(self.identities)}")

    def prepare(self, identity: Identity, transport: Transport) -> Prepared:
        """``identity``'s requests for the mix, sent through ``transport``: its login (unless
        shared), then its captures, then the requests."""
        logins, headers, reason = 0, (), ""
        if self.shared is not None:
            headers, reason = self.shared[identity.number]
        elif self.logs_in:
            attempt, headers = log_in(transport, self.plan.login, identity, self.redactor)
            logins, reason = 1, attempt.reason
        if headers is None:
            return Prepared(None, None, logins, failure=reason)
        answers, captures = self._capture(transport, identity, headers)
        try:
            specs = {
                name: endpoint_request(self.plan, self.endpoints[name], identity, headers, answers)
                for name in self.mix.names
            }
        except PathProblem as wrong:
            return Prepared(None, headers, logins, captures, wrong.problem.detail)
        return Prepared(specs, headers, logins, captures)

    def _capture(
        self, transport: Transport, identity: Identity, headers: Headers
    ) -> tuple[dict, int]:
        """Path values from answers to ``identity``'s own requests: one request to each
        endpoint a value is captured from, in plan order. Returns the answers and how many
        capture requests were sent (not counted in any table, but in the totals of what was
        sent)."""
        plan = self.plan
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

    def worker(self, index: int, transport: Transport) -> WorkerSetup:
        """The thread engine's worker ``index``: the identity its number picks, prepared in the
        worker's own thread on its own transport."""
        identity = self.order[index % len(self.order)]
        role = row_role(identity, self.roles)
        prepared = self.prepare(identity, transport)
        failure = ""
        if prepared.specs is None:
            why = prepared.failure
            failure = f"worker {index + 1}: " + (
                f"login failed ({why})" if prepared.headers is None else why
            )
        return WorkerSetup(prepared.specs, prepared.logins, failure, role, prepared.captures)

    def prepare_all(self) -> tuple[list[dict[str, RequestSpec]], list[str]]:
        """For the Locust engine (after ``log_in_once``): each identity that logged in with its
        requests, in worker order, and the secrets its workers must mask.

        Path values are captured here, once per identity (as a thread worker does at set-up;
        these capture requests are counted on the run, sent once for every level); an identity
        whose path cannot be filled is left out, like one whose login failed.
        """
        assert self.shared is not None, "Locust's users share each identity's one login"
        specs: list[dict[str, RequestSpec]] = []
        secrets: list[str] = []
        failures: list[str] = []
        # A password leaves this process only in the body of a login the mix sends.
        sends_login = any(self.endpoints[name].is_login for name in self.mix.names)
        with self.factory() as transport:
            for identity in self.order:
                prepared = self.prepare(identity, transport)
                self.result.capture_requests += prepared.captures
                if prepared.specs is None or prepared.headers is None:
                    failures.append(prepared.failure)
                    continue
                specs.append(prepared.specs)
                headers = prepared.headers
                secrets += [value for _, value in headers] + [v.split()[-1] for _, v in headers]
                secrets += [identity.password] if sends_login else []
        if not specs:
            raise RuntimeError(
                f"no identity could log in ({failures[0]}), so Locust's users have no token"
            )
        return specs, secrets
