"""``perftest --check``'s report: the plan as it will run, with what each endpoint answered.

The check itself is ``lifecycle.check``'s (seed, log in, send each endpoint once); this module
only words its result: endpoints with their status and view, the login, coverage by path
prefix, the routes added since a baseline, and whether the plan is clean.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from perftest.text import quantity

if TYPE_CHECKING:
    from perftest.lifecycle.check import EndpointCheck, PlanCheck


def _statuses(check: EndpointCheck) -> str:
    """The status each role's request got ("-" when none was sent), as one column."""
    if len(check.answers) == 1:
        (answer,) = check.answers
        return str(answer.status or "-")
    return " ".join(f"{a.role}:{a.status or '-'}" for a in check.answers) or "-"


def _coverage_text(result: PlanCheck, uncovered: bool) -> list[str]:
    """Coverage as a count per path prefix; every uncovered route only when asked."""
    measured = result.routes - len(result.uncovered)
    if not result.uncovered:
        return [f"Coverage: all {quantity(result.routes, 'route')} measured."]
    width = max(len(prefix) for prefix, _, _ in result.coverage)
    lines = [
        f"Coverage: {measured} of {quantity(result.routes, 'route')} measured, by path prefix:"
    ]
    lines.extend(
        f"  {prefix.ljust(width)}  {done} of {total}" for prefix, done, total in result.coverage
    )
    if not uncovered:
        lines.append(
            f"{quantity(len(result.uncovered), 'route')} not measured by any endpoint "
            "(--check --uncovered lists them)."
        )
        return lines
    lines.append("Not measured by any endpoint:")
    lines.extend(
        f"  {','.join(route.methods) or '?'} {route.path}" + (" (list)" if route.is_list else "")
        for route in result.uncovered
    )
    return lines


def text(plan: Any, result: PlanCheck, uncovered: bool = False) -> str:
    """``--check``'s report: endpoints as they will run with the status each answered, the
    login, then coverage by path prefix (``uncovered``: every route no endpoint measures)."""
    where = f"{plan.mode}, {plan.http.base_url}" if plan.http else plan.mode
    if plan.scenario:
        where += f"; scenario {plan.scenario}"
    lines = [f"Plan: {quantity(len(result.endpoints), 'endpoint')} ({where})"]
    name_width = max(len(check.endpoint.name) for check in result.endpoints)
    request_width = max(len(f"{c.endpoint.method} {c.endpoint.path}") for c in result.endpoints)
    status_width = max(len(_statuses(check)) for check in result.endpoints)
    for check in result.endpoints:
        endpoint, problem = check.endpoint, check.problem
        request = f"{endpoint.method} {endpoint.path}".ljust(request_width)
        head = f"  {endpoint.name.ljust(name_width)}  {request}"
        suggestions = ", ".join(problem["suggestions"]) if problem else ""
        if problem and endpoint.problem.skip:
            lines.append(f"{head}  NOT MEASURED: {problem['detail']}")
            if suggestions:
                lines.append(f"    did you mean {suggestions}?")
            continue
        lines.append(
            f"{head}  {_statuses(check).ljust(status_width)}  -> {check.view}"
            + (" (list)" if check.is_list else "")
        )
        lines.extend(f"    {source}" for source in _param_sources(endpoint))
        if problem:
            lines.append(f"    measured, no verdict: {problem['detail']}: {suggestions}")
        lines.extend(
            "    "
            + ("PROBLEM: " if answer.problem else "")
            + (f"{answer.role}: " if answer.role and len(check.answers) > 1 else "")
            + answer.note
            for answer in check.answers
            if answer.note
        )
    login = result.login
    if login is None:
        lines.append("Login: not needed (no endpoint needs authentication).")
    elif login.ok:
        lines.append(
            f"Login: {plan.login.method} {plan.login.path} answered {login.status} in "
            f"{login.elapsed_ns / 1e6:.0f} ms with a token at {plan.login.token_path!r}."
        )
    else:
        lines.append(f"Login FAILED: {plan.login.method} {plan.login.path}: {login.reason}")
    lines.extend(f"Left behind by the check's identity: {note}" for note in result.leftovers)
    lines.extend(_coverage_text(result, uncovered))
    lines.extend(_new_routes_text(result))
    lines.append("Plan clean." if result.clean else "Plan needs fixing.")
    return "\n".join(lines)


def _param_sources(endpoint: Any) -> list[str]:
    """Where each ``{placeholder}`` of an endpoint's path will come from."""
    return [
        f"{{{param.name}}}: the seeder's value {param.seed!r}"
        if param.seed
        else f"{{{param.name}}}: captured from {param.source} at {param.json_path!r}"
        for param in endpoint.params
    ]


def _new_routes_text(result: PlanCheck) -> list[str]:
    """``--check --baseline``: the routes added since the baseline run, or why none are told."""
    if result.new_routes is None:
        return [f"New routes: not compared: {result.since}."] if result.since else []
    if not result.new_routes:
        return [f"New routes since {result.since}: none."]
    return [
        f"New routes since {result.since}: {len(result.new_routes)}",
        *(
            f"  {','.join(route.methods) or '?'} {route.path}"
            + (" (list)" if route.is_list else "")
            for route in result.new_routes
        ),
    ]
