"""Where a run happened: interpreter, framework, database and machine, for the methodology."""

from __future__ import annotations

import os
import platform
import socket
from typing import Any

import django
import psutil
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
    }
