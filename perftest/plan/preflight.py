"""Pre-flight checks: everything that can stop a run is found before anything is measured.

Each check raises ``ConfigError`` with a sentence that names the fix; the command turns it
into one line and exit code 2. ``preflight`` runs them all in the order a user would fix them.
"""

from __future__ import annotations

import json
import os
import socket
import string
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor

from perftest.conf import ConfigError

from .hooks import IDENTITY_HOOK, SEEDER, load_hook
from .model import RunPlan
from .routes import check_routes
from .target import parse_base_url

#: What a login body may ask for, and what an identity pattern may ask for.
LOGIN_PLACEHOLDERS = ("email", "username", "password")
IDENTITY_PLACEHOLDERS = ("n", "run")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def _check_placeholders(template: Any, allowed: tuple[str, ...], where: str) -> None:
    """Every ``{name}`` in the strings of ``template`` is one perftest fills in."""
    names = ", ".join("{" + name + "}" for name in allowed)
    for text in _strings(template):
        try:
            fields = [
                field for _, field, _, _ in string.Formatter().parse(text) if field is not None
            ]
        except ValueError as exc:
            raise ConfigError(
                f"{where} {text!r} is not a valid pattern ({exc}); write a literal brace as "
                "{{ or }}."
            ) from None
        for field in fields:
            if field not in allowed:
                raise ConfigError(
                    f"{where} has an unknown placeholder {{{field}}} in {text!r}; "
                    f"perftest fills in {names}."
                )


def check_templates(plan: RunPlan) -> None:
    """Login body and identity patterns use only the placeholders perftest fills in."""
    _check_placeholders(plan.login.body, LOGIN_PLACEHOLDERS, "PERFTEST['LOGIN']['BODY']")
    for key in ("EMAIL", "USERNAME"):
        pattern = plan.identity.get(key)
        where = f"PERFTEST['IDENTITY'][{key!r}]"
        _check_placeholders(pattern, IDENTITY_PLACEHOLDERS, where)


def check_bodies(plan: RunPlan) -> None:
    """Every request body can be sent as JSON."""
    bodies = [(f"endpoint {e.name!r} body", e.body) for e in plan.endpoints]
    bodies.append(("PERFTEST['LOGIN']['BODY']", plan.login.body))
    for where, body in bodies:
        try:
            json.dumps(body, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"The {where} cannot be sent as JSON ({exc}); use only dicts, lists, strings, "
                "finite numbers, booleans and None."
            ) from None


def check_hooks(plan: RunPlan) -> None:
    """The seeder and the identity hook import and accept the call seeding makes."""
    load_hook(plan.seeder, SEEDER)
    load_hook(plan.identity.get("HOOK"), IDENTITY_HOOK)


def check_reachable(base_url: str, timeout: float = 2.0) -> None:
    """Raise ``ConfigError`` unless a TCP connection to ``base_url`` opens; sends no request."""
    target = parse_base_url(base_url)
    try:
        socket.create_connection((target.host, target.port), timeout=timeout).close()
    except OSError as exc:
        if isinstance(exc, socket.gaierror):
            reason = f"host {target.host!r} could not be resolved"
        elif isinstance(exc, ConnectionRefusedError):
            reason = "connection refused"
        elif isinstance(exc, TimeoutError):
            reason = f"no answer within {timeout:g} s"
        else:
            reason = exc.strerror or type(exc).__name__
        raise ConfigError(
            f"Cannot reach {base_url}: {reason}; start the server or fix --base-url."
        ) from None


def check_output_folder(path: str) -> None:
    """The report folder exists (created if missing) and is writable."""
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"Report folder {path!r} cannot be created: {exc.strerror}.") from None
    if not os.path.isdir(path) or not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(f"Report folder {path!r} is not a writable folder; pass --output DIR.")


def database_name() -> str:
    """The database as a URL would name it, without its password (for error messages)."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    user = f"{settings['USER']}@" if settings.get("USER") else ""
    port = f":{settings['PORT']}" if settings.get("PORT") else ""
    host = settings.get("HOST") or "localhost"
    return f"{connection.vendor}://{user}{host}{port}/{settings.get('NAME') or ''}"


def check_migrated() -> None:
    """The database answers and every migration is applied, perftest's own included.

    This is each command's first database access, so a server that does not answer (or
    settings Django cannot connect with) is one line naming the database, without its
    password, and the first line of the driver's reason."""
    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except (DatabaseError, ImproperlyConfigured) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0].rstrip(".")
        raise ConfigError(
            f"The database {database_name()} cannot be reached: {reason}; start it or fix "
            "the DATABASES setting (DATABASE_URL)."
        ) from None
    if pending:
        raise ConfigError(
            f"The database has {len(pending)} unapplied migrations; run "
            "`python manage.py migrate` first."
        )


def preflight(plan: RunPlan) -> RunPlan:
    """Every check a plan needs before its run starts; returns the plan with each endpoint's
    configuration problem (a missing route, a router root) marked."""
    check_bodies(plan)
    check_templates(plan)
    check_hooks(plan)
    plan = check_routes(plan)
    if plan.http is not None:
        check_reachable(plan.http.base_url)
    check_output_folder(plan.output_dir)
    check_migrated()
    return plan
