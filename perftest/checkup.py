"""``perftest --check``: the plan as it will run, checked end to end, with nothing measured.

Every pre-flight check runs (the command did them while building the plan), then one identity
is seeded and logs in through the platform's login on the planned transport, so a wrong login
path, body or token path shows here rather than after a long run; the identity is removed
again. The result says, per endpoint, the view it resolves to and whether it is a list, the
configuration problems found, and which of the target's routes no endpoint measures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.urls import resolve

from perftest.conf import ConfigError
from perftest.measure.auth import log_in
from perftest.measure.result import LoginAttempt
from perftest.measure.session import transport_factory
from perftest.measure.transport.base import SessionKeys
from perftest.plan.inventory import Route, inventory, is_list, view_name
from perftest.plan.model import Endpoint, RunPlan
from perftest.plan.routes import probe_path
from perftest.redact import Redactor
from perftest.runner import target_of
from perftest.seeding import Seeding
from perftest.store import read


@dataclass(frozen=True)
class EndpointCheck:
    """One endpoint of the plan as it will run: its view, or its configuration problem."""

    endpoint: Endpoint
    view: str
    is_list: bool
    problem: dict[str, Any] | None


@dataclass(frozen=True)
class PlanCheck:
    endpoints: tuple[EndpointCheck, ...]
    login: LoginAttempt | None
    #: The target's routes that no endpoint of the plan (nor the login) sends requests to.
    uncovered: tuple[Route, ...]
    #: How many routes the target has (Django's admin site left out).
    routes: int
    #: What the check's own seeded identity left behind, if its removal failed.
    leftovers: tuple[str, ...] = ()
    #: With ``--baseline``: the target's routes that run did not have (None: no comparison),
    #: and a sentence naming the run, or why no comparison was made.
    new_routes: tuple[Route, ...] | None = None
    since: str = ""

    @property
    def clean(self) -> bool:
        login_ok = self.login is None or self.login.ok
        return login_ok and not any(check.problem for check in self.endpoints)


def _resolved(path: str) -> Callable | None:
    try:
        return resolve(probe_path(path.split("?", 1)[0])).func
    except Exception:  # noqa: BLE001 - a path with no route is reported as a problem already
        return None


def _endpoint_check(endpoint: Endpoint) -> EndpointCheck:
    problem = endpoint.problem.as_dict() if endpoint.problem is not None else None
    callback = None if endpoint.problem and endpoint.problem.skip else _resolved(endpoint.path)
    if callback is None:
        return EndpointCheck(endpoint, "", False, problem)
    listed = is_list(callback, endpoint.path) if endpoint.is_list is None else endpoint.is_list
    return EndpointCheck(endpoint, view_name(callback), listed, problem)


def _login(plan: RunPlan) -> tuple[LoginAttempt | None, list[str]]:
    """One seeded identity logged in on the planned transport (None when no endpoint needs
    it), and what could not be removed afterwards."""
    if not any(e.auth for e in plan.endpoints if not (e.problem and e.problem.skip)):
        return None, []
    seeding = Seeding(plan.identity, None, None)
    sessions = SessionKeys(settings.SESSION_COOKIE_NAME, keeper=seeding.record_sessions)
    try:
        (identity,) = seeding.create_identities(1)
        factory = transport_factory(plan, plan.http is not None, sessions)
        with factory() as transport:
            attempt, _ = log_in(transport, plan.login, identity, Redactor())
    finally:
        sessions.keep()
        leftovers = seeding.cleanup()
    return attempt, leftovers


def check(plan: RunPlan) -> PlanCheck:
    """The plan checked as it will run; ``plan`` has been through ``preflight``."""
    endpoints = tuple(_endpoint_check(e) for e in plan.endpoints)
    sent = {_resolved(e.path) for e in plan.endpoints} | {_resolved(plan.login.path)}
    routes, _ = inventory()
    uncovered = tuple(route for route in routes if route.callback not in sent)
    new_routes, since = _since_baseline(plan, routes)
    attempt, leftovers = _login(plan)
    return PlanCheck(
        endpoints, attempt, uncovered, len(routes), tuple(leftovers), new_routes, since
    )


def _since_baseline(plan: RunPlan, routes: list[Route]) -> tuple[tuple[Route, ...] | None, str]:
    """With ``--baseline``: the routes the target has now that the baseline run's target did
    not have, and which run that is (or why there is nothing to compare with)."""
    if not plan.baseline:
        return None, ""
    try:
        found = read.routes_of(plan.baseline, target_of(plan))
    except read.BaselineRefused as exc:
        raise ConfigError(str(exc)) from None
    if found is None:
        return None, "no completed run of this target to compare routes with (--baseline latest)"
    pk, before = found
    if before is None:
        return None, f"run #{pk} was stored before runs kept the target's routes"
    known = set(before)
    return tuple(route for route in routes if route.path not in known), f"run #{pk}"
