"""Where a run happened: interpreter, framework, database and machine, for the methodology;
and what one password hash costs here, since every login pays it."""

from __future__ import annotations

import os
import platform
import secrets
import socket
import time
from typing import Any

import django
import psutil
from django.contrib.auth.hashers import get_hasher
from django.db import DatabaseError, connection


def _database_version() -> str:
    try:
        if connection.vendor == "sqlite":
            import sqlite3

            return sqlite3.sqlite_version
        if connection.vendor in ("postgresql", "mysql"):
            with connection.cursor() as cursor:
                cursor.execute("SELECT version()")
                return str(cursor.fetchone()[0]).split(" on ")[0]
    except DatabaseError as exc:
        return f"unknown ({type(exc).__name__})"
    return "unknown"


def password_hash() -> dict[str, Any]:
    """Time one hash of a throwaway password with the platform's default hasher.

    A login checks the password with this hasher, so its cost is a floor under the login's
    latency; the report compares the two. The hasher names itself; its work factor is its
    ``iterations`` (PBKDF2), None for hashers without one.
    """
    hasher = get_hasher()
    salt = hasher.salt()
    started = time.perf_counter_ns()
    hasher.encode(secrets.token_hex(8), salt)
    elapsed_ms = (time.perf_counter_ns() - started) / 1e6
    iterations = getattr(hasher, "iterations", None)
    return {"algorithm": hasher.algorithm, "iterations": iterations, "ms": round(elapsed_ms, 3)}


def describe() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "django": django.get_version(),
        "database_vendor": connection.vendor,
        "database_version": _database_version(),
        "cpu_count": psutil.cpu_count() or 1,
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "host": socket.gethostname(),
        "platform": platform.platform(terse=True),
        "pid": os.getpid(),
        "password_hash": password_hash(),
    }
