"""The login, set apart from the endpoints under test.

Logging in hashes a password, slow on purpose (hundreds of milliseconds): judged as any
endpoint it is always the "slowest", the worst p95 and the top of every chart's scale, and a
run with a real regression can look better than its baseline. Unless the plan puts it under
test (``PERFTEST["LOGIN"]["UNDER_TEST"]``), every "slowest", "worst" and chart scale reads
``under_test`` rows, and the login gets a line of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from perftest.store.read import StoredRun

from .metrics import P50, Metric

_Row = TypeVar("_Row")


def is_login(endpoint: Any, stored: StoredRun) -> bool:
    """Whether ``endpoint`` (a stored row, by name) is the configured login endpoint, as the
    plan snapshot marks it."""
    return any(e.is_login and e.name == endpoint.name for e in stored.plan.endpoints)


def set_apart(stored: StoredRun) -> bool:
    """Whether the login is left out of the endpoints under test (the default)."""
    return not stored.plan.login.under_test


def password_hash(stored: StoredRun) -> dict | None:
    """One password hash with the platform's hasher as the run measured it (``ms``,
    ``algorithm``, ``iterations``), or None when it was not measured."""
    hashed = stored.row.environment.get("password_hash")
    return hashed if isinstance(hashed, dict) and hashed.get("ms") else None


def hash_share(endpoint: Any, stored: StoredRun, of: Metric = P50) -> float | None:
    """How much of the login's time (its median, or the metric ``of``) one password hash
    takes (1.33 for 133 %), or None when either figure is missing."""
    hashed = password_hash(stored)
    return hashed["ms"] / of.of(endpoint) if hashed and of.of(endpoint) else None


def under_test(rows: Iterable[_Row], stored: StoredRun) -> list[_Row]:
    """``rows`` without the login's, unless the plan puts the login under test."""
    apart = stored.plan.set_apart
    return [row for row in rows if row.name not in apart]
