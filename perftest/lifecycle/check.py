"""``perftest --check``: the plan as it will run, checked end to end, with nothing measured.

Every pre-flight check runs (the command did them while building the plan), then the check
seeds as a run would (one identity of each role, the seeder's data), logs in through the
platform's login on the planned transport and sends each GET endpoint one request as that
identity, its path filled as a run fills it; everything seeded is removed again. A method that
writes (POST, PUT, PATCH, DELETE) is sent only when the user asks (``--check-writes``): a check
must not change the target's data by default.

An answer other than the endpoint's expected status is a plan problem, told with its likely
cause (404: a shadowed route or data the identity lacks; 403: the identity's role; 401: how
the token is sent), so a plan is clean only when each endpoint answers as it will be judged.
The result also says, per endpoint, the view it resolves to and whether it is a list, the
configuration problems found, and, per path prefix, how many of the target's routes an
endpoint measures.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.urls import resolve

from perftest.conf import ConfigError
from perftest.lifecycle.runner import target_of
from perftest.lifecycle.seeding import Seeding
from perftest.measure.auth import Headers, Identity, endpoint_request, log_in
from perftest.measure.params import FirstAnswers, PathProblem, capture_sources
from perftest.measure.result import LoginAttempt
from perftest.measure.roles import first_of_each_role
from perftest.measure.transport.base import SessionKeys, Transport
from perftest.measure.transport.factory import transport_factory
from perftest.plan.inventory import ROUTE_PARAMETER, Route, inventory, is_list, view_name
from perftest.plan.model import Endpoint, RunPlan
from perftest.plan.routes import probe_path
from perftest.redact import Redactor
from perftest.store import baselines

#: Methods that only read: ``--check`` sends these; one that writes only with ``writes``.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: How many leading segments of a path make the prefix coverage is counted by (``/api/chat/``).
PREFIX_SEGMENTS = 2


@dataclass(frozen=True)
class Answer:
    """What the check's one request of an endpoint got, as one identity (its role)."""

    role: str
    #: The status it answered; None when no request was sent or no answer came.
    status: int | None
    #: Why it was not sent, or the likely cause of a status other than the expected one.
    note: str = ""
    #: True when this answer means the plan needs fixing.
    problem: bool = False


@dataclass(frozen=True)
class EndpointCheck:
    """One endpoint of the plan as it will run: its view, or its configuration problem, and
    what it answered to the check's request (one answer per role)."""

    endpoint: Endpoint
    view: str
    is_list: bool
    problem: dict[str, Any] | None
    answers: tuple[Answer, ...] = ()


@dataclass(frozen=True)
class PlanCheck:
    endpoints: tuple[EndpointCheck, ...]
    login: LoginAttempt | None
    #: The target's routes that no endpoint of the plan (nor the login) sends requests to.
    uncovered: tuple[Route, ...]
    #: How many routes the target has (Django's admin site left out).
    routes: int
    #: Per path prefix (``/api/chat/``), in URLconf order: (prefix, routes measured, routes).
    coverage: tuple[tuple[str, int, int], ...] = ()
    #: What the check's own seeded identity left behind, if its removal failed.
    leftovers: tuple[str, ...] = ()
    #: With ``--baseline``: the target's routes that run did not have (None: no comparison),
    #: and a sentence naming the run, or why no comparison was made.
    new_routes: tuple[Route, ...] | None = None
    since: str = ""

    @property
    def clean(self) -> bool:
        login_ok = self.login is None or self.login.ok
        return login_ok and not any(
            check.problem or any(answer.problem for answer in check.answers)
            for check in self.endpoints
        )


def _resolved(path: str) -> Callable | None:
    try:
        return resolve(probe_path(path.split("?", 1)[0])).func
    except Exception:  # noqa: BLE001 - a path with no route is reported as a problem already
        return None


def _endpoint_check(endpoint: Endpoint, answers: tuple[Answer, ...]) -> EndpointCheck:
    problem = endpoint.problem.as_dict() if endpoint.problem is not None else None
    callback = None if endpoint.problem and endpoint.problem.skip else _resolved(endpoint.path)
    if callback is None:
        return EndpointCheck(endpoint, "", False, problem, answers)
    listed = is_list(callback, endpoint.path) if endpoint.is_list is None else endpoint.is_list
    return EndpointCheck(endpoint, view_name(callback), listed, problem, answers)


def _who(identity: Identity, plan: RunPlan) -> str:
    """The identity as the plan describes it: its role's name, else its user fields."""
    if identity.role:
        return f"role {identity.role!r}"
    fields = ", ".join(f"{key}={value!r}" for key, value in plan.identity["FIELDS"].items())
    return f"the identity ({fields})" if fields else "the seeded identity"


def _cause(endpoint: Endpoint, status: int, who: str, shadowed: Mapping[str, str]) -> str:
    """The likely reason an endpoint answered ``status`` rather than its expected status."""
    told = f"answered {status}, expected {endpoint.expected_status}"
    if status == 404:
        if endpoint.path in shadowed:
            return f"{told}: shadowed, its path reaches {shadowed[endpoint.path]}"
        return (
            f"{told}: the view found nothing for {who}; it needs data (a seeder that "
            "creates it, or a captured id this identity may see)"
        )
    if status == 403:
        return (
            f"{told}: refused to {who}; measure it as a role that may see it "
            "(PERFTEST['IDENTITY']['ROLES']) or leave it out"
        )
    if status == 401:
        if not endpoint.auth:
            return f"{told}: the view needs a login, but the endpoint is configured auth = false"
        return (
            f"{told}: the view did not accept the login's token; check PERFTEST['LOGIN'] "
            "'SCHEME', 'HEADER' and 'TOKEN_PATH'"
        )
    if status == 405:
        return f"{told}: the view does not answer {endpoint.method}"
    return told + (": the view failed" if status >= 500 else "")


def _answer(
    transport: FirstAnswers,
    plan: RunPlan,
    endpoint: Endpoint,
    identity: Identity,
    headers: Headers | None,
    writes: bool,
    shadowed: Mapping[str, str],
) -> Answer:
    """The endpoint's one request as ``identity``, or why it is not sent."""
    role = identity.role
    if endpoint.method not in READ_METHODS and not writes:
        return Answer(role, None, f"not sent: {endpoint.method} writes (--check-writes sends it)")
    if endpoint.auth and headers is None:
        return Answer(role, None, "not sent: the login failed")
    try:
        spec = endpoint_request(plan, endpoint, identity, headers, transport.answers)
    except PathProblem as wrong:
        return Answer(role, None, f"not sent: {wrong.problem.detail}", problem=True)
    sample = transport.send(spec)
    if sample.status is None:
        return Answer(role, None, f"no answer: {sample.error}", problem=True)
    if sample.status == endpoint.expected_status:
        return Answer(role, sample.status)
    cause = _cause(endpoint, sample.status, _who(identity, plan), shadowed)
    return Answer(role, sample.status, cause, problem=True)


def _answers_of(
    plain: Transport,
    plan: RunPlan,
    identity: Identity,
    writes: bool,
    shadowed: Mapping[str, str],
) -> tuple[LoginAttempt | None, dict[str, Answer]]:
    """One identity logs in (when an endpoint needs it) and sends each endpoint's request
    in plan order, so a path captures its value from an earlier endpoint's answer."""
    transport = FirstAnswers(plain, capture_sources(plan.endpoints))
    redactor = Redactor()
    sendable = [e for e in plan.endpoints if not (e.problem and e.problem.skip)]
    attempt, headers = None, None
    if any(e.auth for e in sendable):
        attempt, headers = log_in(transport, plan.login, identity, redactor)
    answers = {}
    for endpoint in sendable:
        if endpoint.is_login and endpoint.body is None and attempt is not None:
            # The check's own login is this endpoint's request: not sent twice.
            answers[endpoint.name] = Answer(identity.role, attempt.status, "the check's login")
            continue
        answer = _answer(transport, plan, endpoint, identity, headers, writes, shadowed)
        answers[endpoint.name] = dataclasses.replace(answer, note=redactor.text(answer.note))
        if endpoint.is_login and answer.status is not None and headers is not None:
            _, headers = log_in(transport, plan.login, identity, redactor)  # tokens rotate
    return attempt, answers


def _sent(
    plan: RunPlan, writes: bool, shadowed: Mapping[str, str]
) -> tuple[LoginAttempt | None, dict[str, list[Answer]], list[str]]:
    """Seed as a run does (one identity of each role, the seeder's data), send each
    endpoint's request as each role, and remove what was seeded. Returns the first failed
    login (else the first; None when no endpoint needs one), the answers by endpoint name,
    and what could not be removed."""
    if all(e.problem and e.problem.skip for e in plan.endpoints):
        return None, {}, []
    roles = tuple(dataclasses.replace(role, count=1) for role in plan.roles)
    seeding = Seeding(plan.identity, plan.seeder, None)
    sessions = SessionKeys(settings.SESSION_COOKIE_NAME, keeper=seeding.record_sessions)
    logins: list[LoginAttempt] = []
    answers: dict[str, list[Answer]] = {}
    try:
        identities = seeding.create_identities(1, roles)
        with transport_factory(plan, plan.http is not None, sessions)() as plain:
            for identity in first_of_each_role(identities):
                attempt, mine = _answers_of(plain, plan, identity, writes, shadowed)
                logins.extend([attempt] if attempt is not None else [])
                for name, answer in mine.items():
                    answers.setdefault(name, []).append(answer)
    finally:
        sessions.keep()
        leftovers = seeding.cleanup()
    login = next((a for a in logins if not a.ok), logins[0] if logins else None)
    return login, {name: _roles_that_see(told) for name, told in answers.items()}, leftovers


def _roles_that_see(told: list[Answer]) -> list[Answer]:
    """A refusal (403) names the roles the endpoint answered as expected, if any: the role,
    not the endpoint, is what to change."""
    seeing = [repr(answer.role) for answer in told if answer.status and not answer.problem]
    if not seeing:
        return told
    also = f"; it answers role {', '.join(seeing)} as expected"
    return [
        dataclasses.replace(answer, note=answer.note + also) if answer.status == 403 else answer
        for answer in told
    ]


def path_prefix(path: str) -> str:
    """The first ``PREFIX_SEGMENTS`` segments of a route's path before any parameter
    (``/api/chat/``): what coverage is counted by."""
    kept = []
    for segment in [part for part in path.split("/") if part][:PREFIX_SEGMENTS]:
        if ROUTE_PARAMETER.search(segment):
            break
        kept.append(segment)
    return "/" + "".join(f"{segment}/" for segment in kept)


def _coverage(
    routes: list[Route], uncovered: tuple[Route, ...]
) -> tuple[tuple[str, int, int], ...]:
    total = Counter(path_prefix(route.path) for route in routes)
    missing = Counter(path_prefix(route.path) for route in uncovered)
    return tuple((prefix, count - missing[prefix], count) for prefix, count in total.items())


def _shadowed(routes: list[Route]) -> dict[str, str]:
    """Shadowed routes by their path as an endpoint spells it (``{pk}``): what they reach."""
    return {
        ROUTE_PARAMETER.sub(r"{\1}", route.path): route.shadowed_by
        for route in routes
        if route.shadowed_by
    }


def refusals(plan: RunPlan) -> tuple[dict[str, str], str, list[str]]:
    """``--write-scenario``'s check of its draft (``plan``, through the route check): each
    endpoint that did not answer its expected status to its one GET request, with why; why
    nothing could be told ("" when the draft was sent); what seeding left behind."""
    login, answers, leftovers = _sent(plan, False, _shadowed(inventory()[0]))
    if login is not None and not login.ok:
        return {}, f"the login failed ({login.reason})", leftovers
    refused = {}
    for name, told in answers.items():
        problems = [answer.note for answer in told if answer.problem]
        if problems:
            refused[name] = problems[0]
    return refused, "", leftovers


def check(plan: RunPlan, writes: bool = False) -> PlanCheck:
    """The plan checked as it will run; ``plan`` has been through ``preflight``. ``writes``
    (``--check-writes``): send the endpoints whose method writes too."""
    routes, _ = inventory()
    shadowed = _shadowed(routes)
    sent = {_resolved(e.path) for e in plan.endpoints} | {_resolved(plan.login.path)}
    uncovered = tuple(route for route in routes if route.callback not in sent)
    new_routes, since = _since_baseline(plan, routes)
    login, answers, leftovers = _sent(plan, writes, shadowed)
    endpoints = tuple(_endpoint_check(e, tuple(answers.get(e.name, ()))) for e in plan.endpoints)
    return PlanCheck(
        endpoints,
        login,
        uncovered,
        len(routes),
        _coverage(routes, uncovered),
        tuple(leftovers),
        new_routes,
        since,
    )


def _since_baseline(plan: RunPlan, routes: list[Route]) -> tuple[tuple[Route, ...] | None, str]:
    """With ``--baseline``: the routes the target has now that the baseline run's target did
    not have, and which run that is (or why there is nothing to compare with)."""
    if not plan.baseline:
        return None, ""
    try:
        found = baselines.routes_of(plan.baseline, target_of(plan))
    except baselines.BaselineRefused as exc:
        raise ConfigError(str(exc)) from None
    if found is None:
        return None, "no completed run of this target to compare routes with (--baseline latest)"
    pk, before = found
    if before is None:
        return None, f"run #{pk} was stored before runs kept the target's routes"
    known = set(before)
    return tuple(route for route in routes if route.path not in known), f"run #{pk}"
