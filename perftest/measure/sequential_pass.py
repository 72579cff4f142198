"""The sequential pass: every endpoint in turn, one request at a time, on one transport.

It measures each endpoint alone (no load), as each role's first identity, and keeps that
identity's first answers so later endpoints can capture path values from them (``--profile``
and ``--explain`` reuse them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from perftest.measure.endpoint_result import EndpointResult

from .auth import Headers, Identity, endpoint_request, log_in
from .load.sequential import Sequential
from .load.threads import run_inline
from .params import FirstAnswers, PathProblem, capture_sources
from .roles import first_of_each_role, role_names, row_role
from .transport.factory import transport_factory

if TYPE_CHECKING:
    from .session import Session


def run_sequential(session: Session, over_http: bool, into: list[EndpointResult]) -> None:
    """Every endpoint in turn, one request at a time, on one transport; with several roles,
    each endpoint once per role (that role's first identity), endpoint by endpoint."""
    plan, result, redactor = session.plan, session.result, session.redactor
    measuring = first_of_each_role(session.identities)
    names = role_names(session.identities)
    total = len(plan.endpoints)
    factory = transport_factory(plan, over_http, session.sessions, session.timing_token)
    with factory() as plain:
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
