"""Configuration problems: an endpoint configured in a way that its timings cannot mean what
the user meant. A path with no route (with the routes probably meant), a method the route's
view does not answer, a DRF router root
(links, not data), a list whose every answer was empty (no sample data on the target).

A path parameter that could not be filled (the seeder returned no such value, or the
answer it is captured from did not hold it) is one too, and so is a token the API refuses
although the login gave one: the login's scheme, header or token path is wrong, not the
endpoints' permissions.

These are the user's to fix, not the API's to speed up: findings of their own kind, never
bottlenecks, and the endpoints concerned get no latency verdict (``store.vocabulary.unjudged``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from perftest.store.read import StoredRun
from perftest.text import quantity

from .base import CONFIGURATION, RUN, Finding, endpoint_rule, worded

NO_ROUTE = "configuration.no_route"
ROUTER_ROOT = "configuration.router_root"
EMPTY_LIST = "configuration.empty_list"
METHOD_NOT_ALLOWED = "configuration.method_not_allowed"
PATH_PARAMETER = "configuration.path_parameter"
TOKEN_REFUSED = "configuration.token_refused"

#: The statuses of an API refusing the credentials a request carries (DRF answers 403 instead
#: of 401 when its first authentication class names no ``WWW-Authenticate`` scheme).
_REFUSED = ("401", "403")

#: Body shapes (``EndpointResult.body_kind``) of a list endpoint.
_LIST_SHAPES = ("page", "list")
_NO_ROUTE_PROBLEMS = ("no route", "no login route")


def _with_problem(stored: StoredRun, *problems: str) -> Iterator[tuple[Any, dict[str, Any]]]:
    """The sequential endpoints whose stored configuration problem is one of ``problems``
    (a route's problem is the endpoint's, whatever role measured it: its first row only)."""
    seen = set()
    for endpoint in stored.sequential:
        problem = endpoint.configuration or {}
        if problem.get("problem") in problems and endpoint.name not in seen:
            seen.add(endpoint.name)
            yield endpoint, problem


def _finding(rule_id: str, subject: str, title: str, evidence: str, advice: str) -> Finding:
    return Finding(CONFIGURATION, rule_id, subject, title, evidence, advice)


#: How a rule over one stored problem words an endpoint that has it:
#: ``describe(endpoint, problem)`` -> (title, evidence, advice).
Describe = Callable[[Any, dict[str, Any]], tuple[str, str, str]]


def _per_problem(
    rule_id: str, problems: tuple[str, ...], looks_for: str, recommendation: str
) -> Callable[[Describe], Describe]:
    """Register a rule with one finding per endpoint whose stored configuration problem is one
    of ``problems``; the decorated function words it."""

    def check(describe: Describe, stored: StoredRun) -> list[Finding]:
        return [
            _finding(rule_id, endpoint.name, *describe(endpoint, problem))
            for endpoint, problem in _with_problem(stored, *problems)
        ]

    return worded(endpoint_rule(rule_id, CONFIGURATION, RUN, looks_for, recommendation), check)


@_per_problem(
    NO_ROUTE,
    _NO_ROUTE_PROBLEMS,
    "configured paths with no route",
    "Fix the path in PERFTEST['ENDPOINTS'] (or PERFTEST['LOGIN']).",
)
def _no_route(endpoint: Any, problem: dict[str, Any]) -> tuple[str, str, str]:
    suggestions = problem.get("suggestions") or []
    closest = (
        f"closest existing routes: {', '.join(suggestions)}"
        if suggestions
        else "no existing route is close"
    )
    setting = (
        "PERFTEST['LOGIN']['PATH']"
        if problem["problem"] == "no login route"
        else f"the path of {endpoint.name} in PERFTEST['ENDPOINTS']"
    )
    advice = f"Fix {setting}" + (f"; did you mean {suggestions[0]}?" if suggestions else ".")
    return f"{endpoint.name} was not measured: {problem.get('detail')}", closest, advice


@_per_problem(
    METHOD_NOT_ALLOWED,
    ("method not allowed",),
    "configured methods the route's view does not answer",
    "Fix the method in PERFTEST['ENDPOINTS'], or the path of the route that answers it.",
)
def _method_not_allowed(endpoint: Any, problem: dict[str, Any]) -> tuple[str, str, str]:
    detail = problem.get("detail")
    return (
        f"{endpoint.name} was not measured: {detail}",
        f"every request would have been answered 405 Method Not Allowed; {detail}",
        f"Fix the method of {endpoint.name} in PERFTEST['ENDPOINTS'] ({endpoint.method}), "
        "or point it at the route that answers that method.",
    )


@endpoint_rule(
    PATH_PARAMETER,
    CONFIGURATION,
    RUN,
    "path parameters that could not be filled",
    "Fix the endpoint's params: the seeded value's name, or the source endpoint and JSON path.",
)
def _path_parameter(stored: StoredRun) -> list[Finding]:
    """One finding per row: each role's identity fills the path with its own values."""
    return [
        _finding(
            PATH_PARAMETER,
            endpoint.label,
            f"{endpoint.label} was not measured: its path could not be filled",
            str(problem.get("detail")),
            f"Fix params of {endpoint.name}: name a value the seeder returns "
            "(params.NAME = {seed = ...}), or an earlier endpoint and a JSON path its answer "
            "holds (params.NAME = {from = ..., json = ...}).",
        )
        for endpoint in stored.sequential
        if (problem := endpoint.configuration or {}).get("problem") == "path parameter"
    ]


@_per_problem(
    ROUTER_ROOT,
    ("router root",),
    "DRF router roots configured as endpoints",
    "Measure the list routes the router root links to instead.",
)
def _router_root(endpoint: Any, problem: dict[str, Any]) -> tuple[str, str, str]:
    links = ", ".join(problem.get("suggestions") or [])
    title = f"{endpoint.name} is a DRF router root, not a list: its timings get no verdict"
    advice = (
        f"Configure one of the list routes {endpoint.path} links to instead of the router root."
    )
    return title, f"{problem.get('detail')}: {links}", advice


@endpoint_rule(
    EMPTY_LIST,
    CONFIGURATION,
    RUN,
    "list endpoints whose every answer was empty",
    "Configure a SEEDER (PERFTEST['SEEDER']) that gives the test users data to list.",
)
def _empty_list(stored: StoredRun) -> list[Finding]:
    found = []
    for endpoint in stored.sequential:
        shape = endpoint.body_kind
        if shape not in _LIST_SHAPES or not endpoint.ok or endpoint.empty_answers < endpoint.ok:
            continue
        found.append(
            _finding(
                EMPTY_LIST,
                endpoint.label,
                f"{endpoint.label}: every expected answer was an empty {shape}",
                f"all {endpoint.ok} expected answers of {endpoint.method} {endpoint.path} were "
                f"an empty {shape}: the timings describe an empty {shape}, not a {shape} of data",
                "Configure a SEEDER (PERFTEST['SEEDER']) that creates data for the test users, "
                "so the list has something to return.",
            )
        )
    return found


@dataclass(frozen=True)
class RefusedToken:
    """Every endpoint sending the token answered ``status`` to all its requests, though the
    login gave a token: what was sent, described without the token."""

    status: str
    endpoints: tuple[str, ...]
    logins_ok: int
    logins: int
    sent: str
    token_path: str
    #: What the API said, as the first refused answer's stored (redacted) excerpt.
    said: str = ""

    def advice(self) -> str:
        """Which settings to check, with what they were: the same for the run's finding and
        for each refused endpoint's own error finding."""
        return (
            f"The login worked but its token was refused: check PERFTEST['LOGIN']['SCHEME'], "
            f"PERFTEST['LOGIN']['HEADER'] and PERFTEST['LOGIN']['TOKEN_PATH'] against the "
            f"authentication the API's views use (sent: {self.sent}; token read at "
            f"{self.token_path!r}). DRF's TokenAuthentication expects 'Authorization: Token "
            "<key>', JWT libraries 'Authorization: Bearer <token>'; the value at TOKEN_PATH must "
            "be the access token (not a refresh token or an id)."
            + (
                " A 403 to every endpoint can also be a role that none of them allows: the "
                "API's own words in the evidence tell which."
                if self.status == "403"
                else ""
            )
        )


def refused_token(stored: StoredRun) -> RefusedToken | None:
    """The refused token of the run, when the login succeeded and every measured endpoint
    that sends the token got one and the same 401 or 403 to all its requests (an endpoint
    answered as expected even once means the token works)."""
    logins = stored.row.logins or []
    succeeded = [attempt for attempt in logins if attempt.get("ok")]
    if not succeeded:
        return None
    planned = stored.plan.endpoints
    needs_token = {e.name for e in planned if e.auth and not e.is_login}
    rows = [row for row in stored.sequential if row.name in needs_token and row.requests]
    statuses = {tuple(row.status_counts) for row in rows}
    if not rows or any(row.ok for row in rows) or len(statuses) != 1:
        return None
    (answered,) = statuses
    if len(answered) != 1 or answered[0] not in _REFUSED:
        return None
    login = stored.plan.login
    header, scheme = login.header or "Authorization", login.scheme or ""
    chars = max((attempt.get("token_chars") or 0 for attempt in succeeded), default=0)
    token = f"<token {chars} chars>" if chars else "<token>"
    return RefusedToken(
        status=answered[0],
        endpoints=tuple(dict.fromkeys(row.name for row in rows)),
        logins_ok=len(succeeded),
        logins=len(logins),
        sent=f"{header}: {scheme} {token}" if scheme else f"{header}: {token}",
        token_path=str(login.token_path or ""),
        said=next((e.get("example") for row in rows for e in row.errors if e.get("example")), ""),
    )


@endpoint_rule(
    TOKEN_REFUSED,
    CONFIGURATION,
    RUN,
    "a token the API refuses although the login succeeded (every endpoint sending it "
    "answered the same 401 or 403)",
    "Check PERFTEST['LOGIN']['SCHEME'], ['HEADER'] and ['TOKEN_PATH'] against the "
    "authentication the API's views use.",
)
def _token_refused(stored: StoredRun) -> list[Finding]:
    refused = refused_token(stored)
    if refused is None:
        return []
    names = ", ".join(refused.endpoints)
    return [
        _finding(
            TOKEN_REFUSED,
            "login",
            f"The API refused the login's token: every endpoint that sends it answered HTTP "
            f"{refused.status} ({quantity(len(refused.endpoints), 'endpoint')})",
            f"The login succeeded ({refused.logins_ok} of {refused.logins} attempts) and "
            f"returned a token at {refused.token_path!r}; each request then sent "
            f"{refused.sent}, and every request of {names} was answered HTTP "
            f"{refused.status}" + (f". The API said: {refused.said}" if refused.said else ""),
            refused.advice(),
        )
    ]
