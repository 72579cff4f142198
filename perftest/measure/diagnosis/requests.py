"""The diagnosis pass: ``--profile`` and ``--explain`` requests, after the measured ones.

Extra in-process requests to each endpoint that answered as expected, never counted in its
figures, on a transport of their own and logged in afresh.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from perftest.measure.endpoint_result import EndpointResult

from ..auth import Headers, Identity, endpoint_request, log_in
from ..roles import first_of_each_role, role_names, row_role
from ..transport.base import Transport
from ..transport.inprocess import InProcessTransport
from .explain import explain, unavailable
from .profile import profile

if TYPE_CHECKING:
    from ..session import Session


def run_diagnosis(session: Session) -> None:
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
            _requests_as(session, transport, identity, mine, explaining)


def _requests_as(
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
