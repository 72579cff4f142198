"""Pre-flight checks: everything that can stop a run is found before anything is measured.

Each check raises ``ConfigError`` with a sentence that names the fix; the command turns it
into one line and exit code 2. ``preflight`` runs them all in the order a user would fix them.
"""

from __future__ import annotations

import os
import socket

from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import Resolver404, resolve

from perftest.conf import ConfigError

from .model import RunPlan
from .target import parse_base_url


def check_routes(plan: RunPlan, urlconf: str | None = None) -> None:
    """Raise ConfigError naming every configured path the URLconf does not serve."""
    missing = []
    paths = [(e.name, e.path) for e in plan.endpoints]
    if any(e.auth for e in plan.endpoints):
        paths.append(("login", plan.login.path))
    for name, path in paths:
        try:
            resolve(path.split("?", 1)[0], urlconf)
        except Resolver404:
            missing.append(f"{name} ({path})")
    if missing:
        raise ConfigError(
            "No route in the URLconf for: "
            + ", ".join(missing)
            + "; fix the paths in PERFTEST['ENDPOINTS'] or PERFTEST['LOGIN']."
        )


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


def check_migrated() -> None:
    """The database answers and every migration is applied, perftest's own included."""
    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        raise ConfigError(f"The database cannot be reached: {exc}".strip()) from None
    if pending:
        raise ConfigError(
            f"The database has {len(pending)} unapplied migrations; run "
            "`python manage.py migrate` first."
        )


def preflight(plan: RunPlan) -> None:
    """Every check a plan needs before its run starts."""
    check_routes(plan)
    if plan.http is not None:
        check_reachable(plan.http.base_url)
    check_output_folder(plan.output_dir)
    check_migrated()
