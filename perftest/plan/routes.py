"""Each configured path checked against the URLconf: missing routes, DRF router roots and
methods the route's view does not answer; and the DRF throttles of the view it reaches, so a
report can name the throttle behind its 429s.

A missing route or a router root is a configuration problem of that endpoint, not of the run:
the endpoint is marked (``Endpoint.problem``) with the routes the user probably meant, and the
rest is measured. Only when nothing is left to measure does the run stop (``ConfigError``).
"""

from __future__ import annotations

import dataclasses
import re

from django.urls import resolve
from django.urls.exceptions import Resolver404

from perftest.conf import ConfigError

from .discover import closest_routes, known_routes
from .inventory import PROBES, allowed_methods, inventory, throttles
from .model import ConfigurationProblem, Endpoint, Mix, RunPlan, Throttle

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def probe_path(path: str, urlconf: str | None = None) -> str:
    """``path`` with each ``{placeholder}`` filled by a probe value its route accepts, so a
    path with parameters resolves to the route it will be sent to (the first probe when no
    probe resolves: the path then has no route whatever the value)."""
    if not _PLACEHOLDER.search(path):
        return path
    for probe in PROBES:
        candidate = _PLACEHOLDER.sub(probe, path)
        try:
            resolve(candidate, urlconf)
        except Resolver404:
            continue
        return candidate
    return _PLACEHOLDER.sub(PROBES[0], path)


def _router_root(path: str, urlconf: str | None) -> ConfigurationProblem | None:
    """A path served by DRF's ``APIRootView`` lists routes; it is no endpoint to time."""
    try:
        from rest_framework.routers import APIRootView
    except ImportError:  # no DRF, no router roots
        return None
    match = resolve(path, urlconf)
    view = getattr(match.func, "cls", None)
    if not (isinstance(view, type) and issubclass(view, APIRootView)):
        return None
    links = getattr(match.func, "initkwargs", {}).get("api_root_dict") or {}
    base = path if path.endswith("/") else path + "/"
    routes = tuple(f"{base}{prefix}/" for prefix in links)
    return ConfigurationProblem.router_root(path, routes)


def _method_not_allowed(
    method: str, path: str, probe: str, urlconf: str | None
) -> ConfigurationProblem | None:
    """A method the route's view does not answer would only ever time a 405."""
    allowed = allowed_methods(resolve(probe, urlconf).func)
    if not allowed or method in allowed:
        return None
    return ConfigurationProblem(
        "method not allowed",
        f"{path} answers {', '.join(allowed)}, not {method}",
        skip=True,
    )


def _problem(
    path: str,
    routes: list[str],
    urlconf: str | None,
    method: str | None = None,
    lists: frozenset[str] = frozenset(),
) -> ConfigurationProblem | None:
    bare = path.split("?", 1)[0]
    probe = probe_path(bare, urlconf)
    try:
        resolve(probe, urlconf)
    except Resolver404:
        return ConfigurationProblem(
            "no route",
            f"no route in the URLconf for {bare}",
            closest_routes(_PLACEHOLDER.sub(r"<\1>", bare), routes, lists=lists),
            skip=True,
        )
    root = _router_root(probe, urlconf)
    if root is not None or method is None:
        return root
    return _method_not_allowed(method, bare, probe, urlconf)


def _throttles(path: str, urlconf: str | None) -> tuple[Throttle, ...]:
    """The DRF throttles of the view ``path`` is sent to; () when it has no route."""
    try:
        match = resolve(probe_path(path.split("?", 1)[0], urlconf), urlconf)
    except Resolver404:
        return ()
    return throttles(match.func)


def _nothing_left(plan: RunPlan, endpoints: list[Endpoint], login: ConfigurationProblem | None):
    missing = [f"{e.name} ({e.path})" for e in endpoints if e.problem and e.problem.skip]
    if login is not None:
        missing.append(f"login ({plan.login.path})")
    return ConfigError(
        "No route in the URLconf for: "
        + ", ".join(missing)
        + "; fix the paths in PERFTEST['ENDPOINTS'] or PERFTEST['LOGIN'], nothing is left to "
        "measure."
    )


def _sendable(endpoint: Endpoint, login: ConfigurationProblem | None) -> bool:
    return not (endpoint.problem and endpoint.problem.skip) and not (endpoint.auth and login)


def _level_mix(plan: RunPlan, endpoints: list[Endpoint]) -> Mix | None:
    """The levels' mix without the endpoints that have no route; None if none is left."""
    mix = plan.load.mix
    if mix is None:
        return None
    sendable = {e.name for e in endpoints if not (e.problem and e.problem.skip)}
    weights = tuple((name, weight) for name, weight in mix.weights if name in sendable)
    if not weights:
        raise ConfigError(
            "No endpoint of the load levels' mix has a route in the URLconf ("
            + ", ".join(mix.names)
            + "); fix their paths or choose others with --mix."
        )
    return dataclasses.replace(mix, weights=weights)


def check_routes(plan: RunPlan, urlconf: str | None = None) -> RunPlan:
    """The plan with each endpoint's route problem marked; ConfigError only when nothing is
    left to measure (every path missing, or the login path missing and every endpoint needs
    authentication)."""
    routes = known_routes(urlconf)
    served = inventory(urlconf)[0]
    lists = frozenset(route.path for route in served if route.is_list and not route.shadowed_by)
    endpoints = [
        dataclasses.replace(
            e,
            problem=_problem(e.path, routes, urlconf, e.method, lists),
            throttles=_throttles(e.path, urlconf),
        )
        for e in plan.endpoints
    ]
    login = None
    if any(e.auth for e in endpoints):
        login = _problem(plan.login.path, routes, urlconf)
        login = login if login is not None and login.skip else None
    if not any(_sendable(e, login) for e in endpoints):
        raise _nothing_left(plan, endpoints, login)
    if login is not None:
        endpoints = [
            dataclasses.replace(
                e,
                problem=ConfigurationProblem(
                    "no login route",
                    f"the login path {plan.login.path} has no route in the URLconf",
                    closest_routes(plan.login.path, routes, lists=lists),
                    skip=True,
                ),
            )
            if e.auth and e.problem is None
            else e
            for e in endpoints
        ]
    load = dataclasses.replace(plan.load, mix=_level_mix(plan, endpoints))
    target_routes = tuple(route.path for route in served)
    return dataclasses.replace(plan, endpoints=tuple(endpoints), load=load, routes=target_routes)
