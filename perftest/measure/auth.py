"""Logging in as a real client does, and what each request then carries.

Identities log in through the platform's own login endpoint. The token is read at the
configured JSON path of the login response and sent back in the configured header
("Authorization: Token <key>" for THE_BOT). Passwords and tokens are registered with the run's
Redactor the moment they exist, so they never reach storage.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from perftest.plan.model import Endpoint, LoginSpec, RunPlan
from perftest.redact import Redactor

from .params import filled_path, value_at
from .result import LoginAttempt
from .transport.base import RequestSpec, Transport

Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Credentials:
    email: str
    username: str
    password: str


@dataclass(frozen=True)
class Identity(Credentials):
    """One of perftest's own test users, as seeded for this run."""

    number: int
    user_pk: object
    #: The seeder's named values for this identity (``{"room_id": 12}``), for path parameters.
    values: Mapping[str, Any] = field(default_factory=dict)
    #: The name of its role (``PERFTEST['IDENTITY']['ROLES']``); "" for one unnamed role.
    role: str = ""


def _fill(template: Any, credentials: Credentials) -> Any:
    if isinstance(template, str):
        return template.format(
            email=credentials.email, username=credentials.username, password=credentials.password
        )
    if isinstance(template, dict):
        return {key: _fill(value, credentials) for key, value in template.items()}
    if isinstance(template, list):
        return [_fill(value, credentials) for value in template]
    return template


def login_request(spec: LoginSpec, credentials: Credentials, name: str = "login") -> RequestSpec:
    body = json.dumps(_fill(spec.body, credentials)).encode()
    return RequestSpec(name, spec.method, spec.path, (), body, "application/json")


def _token_at(payload: Any, path: str) -> str | None:
    try:
        token = value_at(payload, path)
    except LookupError:
        return None
    return token if isinstance(token, str) and token else None


def log_in(
    transport: Transport, spec: LoginSpec, credentials: Credentials, redactor: Redactor
) -> tuple[LoginAttempt, Headers | None]:
    """Log one identity in; the attempt says what happened, the headers are None on failure."""
    redactor.add(credentials.password)
    sample = transport.send(login_request(spec, credentials))
    attempt = LoginAttempt(
        credentials.email, sample.status, False, sample.elapsed_ns, transport=transport.kind
    )
    if sample.status is None:
        attempt.reason = f"no response: {sample.error}"
        return attempt, None
    if not 200 <= sample.status < 300:
        # An exception in-process says more than the server's error page.
        said = redactor.text(sample.error) if sample.error else redactor.excerpt(sample.body, 200)
        wait = sample.headers.get("Retry-After")
        attempt.reason = (
            f"HTTP {sample.status}: " + (f"Retry-After: {wait} | " if wait else "") + said
        )
        return attempt, None
    try:
        token = _token_at(json.loads(sample.body), spec.token_path)
    except ValueError:
        token = None
    if token is None:
        attempt.reason = (
            f"HTTP {sample.status} but no token at {spec.token_path!r} in the response: "
            f"{redactor.excerpt(sample.body, 200)}"
        )
        return attempt, None
    redactor.add(token)
    attempt.ok, attempt.token_chars = True, len(token)
    value = f"{spec.scheme} {token}" if spec.scheme else token
    return attempt, ((spec.header, value),)


def _with_auth(extra: Headers, auth: Headers) -> Headers:
    """The endpoint's own headers, then the login's: a header of the same name the login
    sets (its token) wins over one the endpoint configures."""
    taken = {name.casefold() for name, _ in auth}
    return tuple(pair for pair in extra if pair[0].casefold() not in taken) + auth


def request_for(
    endpoint: Endpoint, headers: Headers = (), body: Any = None, path: str | None = None
) -> RequestSpec:
    """The request for ``endpoint``: its query string and headers, the login's ``headers``
    when it needs authentication. ``body`` (JSON) overrides the configured one, ``path`` the
    configured path (its placeholders filled)."""
    payload = endpoint.body if body is None else body
    data = None if payload is None else json.dumps(payload).encode()
    target = endpoint.path if path is None else path
    if endpoint.query:
        target += ("&" if "?" in target else "?") + urlencode(endpoint.query)
    return RequestSpec(
        endpoint.name,
        endpoint.method,
        target,
        _with_auth(endpoint.headers, headers if endpoint.auth else ()),
        data,
        "application/json" if data is not None else None,
    )


def endpoint_request(
    plan: RunPlan,
    endpoint: Endpoint,
    identity: Identity,
    headers: Headers | None,
    answers: Mapping[str, Any] | None = None,
) -> RequestSpec:
    """The login endpoint sends the identity's credentials; the others send the token.

    Both the sequential pass and the load levels build requests here, so a level sends exactly
    what the sequential pass measured. The path's placeholders are filled from the identity's
    seeded values and ``answers`` (first expected answers by endpoint); ``PathProblem`` when
    one cannot be.
    """
    if endpoint.is_login and endpoint.body is None:
        spec = login_request(plan.login, identity)
        return dataclasses.replace(spec, endpoint=endpoint.name)
    path = filled_path(endpoint, identity.values, answers or {})
    return request_for(endpoint, headers or (), path=path)
