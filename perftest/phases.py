"""The phases of a run: the sequential pass and the load levels, with their logins.

Both phases build requests the same way (``endpoint_request``), so a level sends exactly what
the sequential pass measured. Logins go through the platform's login endpoint on the
transport that will use the token: per worker by default (one identity each, since THE_BOT
rotates tokens), or once per identity with ``--login once``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from .auth import Headers, log_in, login_request
from .load.base import LevelInterrupted, Mix, WorkerSetup
from .load.closed import run_closed
from .load.open import run_open
from .load.sequential import measure
from .redact import Redactor
from .result import EndpointResult, LevelResult, RunResult
from .scenario import Endpoint, RunPlan
from .seeding import Identity
from .transport.base import RequestSpec, Transport

Tick = Callable[[str], None]


def endpoint_request(
    plan: RunPlan, endpoint: Endpoint, identity: Identity, headers: Headers | None
) -> RequestSpec:
    """The login endpoint sends the identity's credentials; the others send the token."""
    if endpoint.is_login and endpoint.body is None:
        spec = login_request(plan.login, identity)
        return dataclasses.replace(spec, endpoint=endpoint.name)
    return endpoint.request(headers or ())


def measure_sequential(
    plan: RunPlan,
    factory: Callable[[], Transport],
    identity: Identity,
    result: RunResult,
    into: list[EndpointResult],
    redactor: Redactor,
    tick: Tick,
) -> None:
    """Every endpoint in turn, one request at a time, on one transport."""
    transport = factory()
    try:
        attempt, headers = log_in(transport, plan.login, identity, redactor)
        result.logins.append(attempt)
        total = len(plan.endpoints)
        for index, endpoint in enumerate(plan.endpoints, start=1):
            row = EndpointResult(
                endpoint.name, endpoint.method, endpoint.path, endpoint.expected_status
            )
            into.append(row)
            if endpoint.auth and headers is None:
                row.not_measured = f"login failed ({result.logins[-1].reason})"
                continue
            measure(
                transport,
                endpoint_request(plan, endpoint, identity, headers),
                row,
                iterations=plan.iterations,
                warmup=plan.warmup,
                redactor=redactor,
                tick=lambda text, i=index: tick(f"[{i}/{total}] {text}"),
            )
            if endpoint.is_login and any(e.auth for e in plan.endpoints[index:]):
                # Every login rotates the token: log in once more for the endpoints after it.
                attempt, headers = log_in(transport, plan.login, identity, redactor)
                result.logins.append(attempt)
    finally:
        transport.close()


class LevelRunner:
    """Runs every load level of the plan in turn and appends its LevelResult."""

    def __init__(
        self,
        plan: RunPlan,
        factory: Callable[[], Transport],
        identities: Sequence[Identity],
        mix: Mix | None,
        redactor: Redactor,
        tick: Tick,
    ):
        self.plan, self.factory, self.identities = plan, factory, identities
        self.mix = mix or Mix.default(plan.endpoints)
        self.endpoints = {e.name: e for e in plan.endpoints}
        self.redactor, self.tick = redactor, tick
        self.shared: dict[int, tuple[Headers | None, str]] | None = None

    def _log_in_once(self, result: RunResult) -> None:
        """--login once: each identity logs in one time; its workers share the token."""
        transport = self.factory()
        try:
            self.shared = {}
            for identity in self.identities:
                attempt, headers = log_in(transport, self.plan.login, identity, self.redactor)
                result.logins.append(attempt)
                self.shared[identity.number] = (headers, attempt.reason)
        finally:
            transport.close()

    def prepare(self, index: int, transport: Transport) -> WorkerSetup:
        identity = self.identities[index % len(self.identities)]
        logins = 0
        if self.shared is not None:
            headers, reason = self.shared[identity.number]
        else:
            attempt, headers = log_in(transport, self.plan.login, identity, self.redactor)
            logins, reason = 1, attempt.reason
        if headers is None:
            return WorkerSetup(None, logins, f"worker {index + 1}: login failed ({reason})")
        specs = {
            name: endpoint_request(self.plan, endpoint, identity, headers)
            for name, endpoint in self.endpoints.items()
        }
        return WorkerSetup(specs, logins, "")

    def _run_level(self, workers: int, position: int) -> LevelResult:
        load = self.plan.load
        common = dict(
            factory=self.factory,
            prepare=self.prepare,
            mix=self.mix,
            endpoints=self.endpoints,
            redactor=self.redactor,
            tick=lambda text: self.tick(
                f"level {position}/{len(self.plan.load.concurrency)} {text}"
            ),
        )
        if load.rate is not None:
            level = run_open(rate=load.rate, duration_s=load.duration_s, workers=workers, **common)
        else:
            level = run_closed(
                concurrency=workers,
                duration_s=load.duration_s,
                requests=load.requests,
                ramp_up_s=load.ramp_up_s,
                **common,
            )
        return level

    def _describe(self, level: LevelResult, workers: int) -> LevelResult:
        load = self.plan.load
        level.duration_s = load.duration_s
        if load.rate is None:
            level.planned_requests = load.requests
        level.identities = min(len(self.identities), workers)
        level.login_mode = load.login_mode
        return level

    def run_all(self, result: RunResult) -> None:
        if self.plan.load.login_mode == "once":
            self._log_in_once(result)
        for position, workers in enumerate(self.plan.load.concurrency, start=1):
            try:
                level = self._run_level(workers, position)
            except LevelInterrupted as interrupted:
                result.levels.append(self._describe(interrupted.result, workers))
                raise
            result.levels.append(self._describe(level, workers))
