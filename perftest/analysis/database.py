"""What database errors under load mean, and the words for a level's connection count.

A load level that needs more database connections than the server allows fails with
"too many clients" whatever the API's code does; SQLite lets one writer in at a time and
answers "database is locked" to the rest after its timeout. These are settings to change, not
code to speed up, so each finding names the setting with the level's own figures.
"""

from __future__ import annotations

from typing import Any

#: What a database error message says, and the class it falls in (first match wins).
ERROR_KINDS = (
    ("too many clients", "connection limit"),
    ("too many connections", "connection limit"),
    ("remaining connection slots", "connection limit"),
    ("database is locked", "write lock"),
    ("timeout expired", "connection timeout"),
    ("connection timed out", "connection timeout"),
)

#: A level whose peak of open connections reaches this share of the limit is near it: one more
#: worker or server thread could be refused.
NEAR_LIMIT_SHARE = 0.9

#: Per class: what to change, whatever the platform.
ADVICE = {
    "connection limit": (
        "Every in-process worker (or every server thread) holds a database connection of its "
        "own: keep the level's workers below the limit, raise max_connections (or the "
        "database's CONNECTION LIMIT), or pool connections (PgBouncer, or the 'pool' option "
        "of Django's PostgreSQL backend); a high CONN_MAX_AGE keeps idle connections open too."
    ),
    "write lock": (
        "SQLite lets one writer in at a time: raise the 'timeout' in DATABASES OPTIONS, start "
        "write transactions with transaction_mode 'IMMEDIATE', or measure on PostgreSQL."
    ),
    "connection timeout": (
        "Connections to the database took too long: check the database server's load and the "
        "connection or pool timeout ('connect_timeout' in DATABASES OPTIONS)."
    ),
}


def error_kind(example: str) -> str | None:
    """The database error class of an error group's example, or None for any other error."""
    text = example.casefold()
    return next((kind for needle, kind in ERROR_KINDS if needle in text), None)


def limit(use: dict[str, Any]) -> int | None:
    """The limit that binds first: the server's max_connections or the database's own."""
    limits = [n for n in (use.get("server_limit"), use.get("database_limit")) if n is not None]
    return min(limits) if limits else None


def connections_text(level: Any) -> str:
    """``peak 97 (mean 80.5) of 100 allowed`` from a level's stored connection count."""
    use = level.database_connections or {}
    if use.get("peak") is None:
        return ""
    allowed = f" of {limit(use)} allowed" if limit(use) is not None else ""
    return f"peak {use['peak']} (mean {use['mean']:.1f}) connections open{allowed}"
