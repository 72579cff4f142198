"""What perftest's client and the target's ``ServerTimingMiddleware`` agree on: the run's
signed request header, and the ``Server-Timing`` answer it earns.

Only a request carrying a valid signature is timed, so no one else ever learns how long the
server spent in Python or SQL. Each run draws a fresh nonce; the run's key is an HMAC of the
project's secret (``SECRET_KEY``, or ``PERFTEST["TIMING_KEY"]`` when the measuring process and
the server do not share one) and that nonce, and the header carries the nonce, an expiry and
the HMAC of both under the run's key. A header seen in one run's traffic is worthless after
its expiry and says nothing about the secret. The token is a credential: it is registered with
the run's ``Redactor`` and never stored.

Pure standard library (no Django): the Locust engine's processes import it too.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from typing import NamedTuple

#: The request header that asks for timing, and how Django's ``request.META`` names it.
HEADER = "X-Perftest-Timing"
META_KEY = "HTTP_X_PERFTEST_TIMING"
#: The answer's header (W3C Server Timing).
ANSWER = "Server-Timing"
#: A run's token is valid this long after it was made (a soak run of hours stays covered).
LIFETIME_S = 24 * 3600
#: The longest repeated statement an answer names (the rest is cut, marked with "…").
REPEATED_SQL_CHARS = 400

_SALT = b"perftest.server-timing:"


class ServerTiming(NamedTuple):
    """One answer's own account: time inside Django, time in SQL, queries, and the statement
    that ran most often within the request (with its count) when one ran at least twice."""

    app_ns: int
    sql_ns: int
    queries: int
    repeated_sql: str = ""
    repeated: int = 0


def run_key(secret: str, nonce: str) -> bytes:
    """The run's key: the project's secret and the run's nonce, through HMAC-SHA256."""
    return hmac.new(secret.encode(), _SALT + nonce.encode(), hashlib.sha256).digest()


def _signature(secret: str, nonce: str, expires: int) -> str:
    message = f"{nonce}.{expires}".encode()
    return hmac.new(run_key(secret, nonce), message, hashlib.sha256).hexdigest()


def new_token(secret: str, now: float | None = None, lifetime_s: int = LIFETIME_S) -> str:
    """A fresh run's header value: ``nonce.expires.signature``."""
    nonce = secrets.token_hex(12)
    expires = int((time.time() if now is None else now) + lifetime_s)
    return f"{nonce}.{expires}.{_signature(secret, nonce, expires)}"


def verify(secret: str, token: str, now: float | None = None) -> bool:
    """Whether ``token`` was signed with ``secret`` and has not expired (constant-time)."""
    nonce, _, rest = token.partition(".")
    expires, _, signature = rest.partition(".")
    if not nonce or not signature or not expires.isdigit():
        return False
    if int(expires) < (time.time() if now is None else now):
        return False
    return hmac.compare_digest(signature, _signature(secret, nonce, int(expires)))


def _quoted(text: str) -> str:
    """A Server-Timing ``desc`` value: quoted, escaped, ASCII (header values are latin-1)."""
    if len(text) > REPEATED_SQL_CHARS:
        text = text[: REPEATED_SQL_CHARS - 1] + "…"
    text = text.encode("ascii", "backslashreplace").decode("ascii")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_server_timing(
    app_ns: int, sql_ns: int, queries: int, repeated: tuple[str, int] | None = None
) -> str:
    """``app;dur=12.345, db;dur=3.210;desc="7 queries"[, repeat;desc="5 SELECT …"]``
    (durations in milliseconds, as the standard has them)."""
    value = f'app;dur={app_ns / 1e6:.3f}, db;dur={sql_ns / 1e6:.3f};desc="{queries} queries"'
    if repeated is not None:
        sql, times = repeated
        value += f", repeat;desc={_quoted(f'{times} {sql}')}"
    return value


_METRIC = re.compile(
    r'\s*([A-Za-z0-9_-]+)((?:\s*;\s*[A-Za-z]+\s*=\s*(?:"(?:[^"\\]|\\.)*"|[^,;"\s]*))*)\s*(?:,|$)'
)
_PARAM = re.compile(r'\s*;\s*([A-Za-z]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,;"\s]*)')


def _unquote(value: str) -> str:
    if value.startswith('"') and value.endswith('"'):
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def parse_server_timing(value: str) -> ServerTiming | None:
    """The answer's own account, or None when ``value`` holds no ``app`` metric (not timed
    by perftest's middleware: another server's Server-Timing)."""
    metrics: dict[str, dict[str, str]] = {}
    for match in _METRIC.finditer(value):
        if match.group(1):
            params = dict(_PARAM.findall(match.group(2)))
            metrics[match.group(1)] = {name: _unquote(v) for name, v in params.items()}
    try:
        app_ns = round(float(metrics["app"]["dur"]) * 1e6)
    except (KeyError, ValueError):
        return None
    db = metrics.get("db", {})
    try:
        sql_ns = round(float(db.get("dur", "0")) * 1e6)
    except ValueError:
        sql_ns = 0
    count = re.match(r"(\d+)", db.get("desc", ""))
    repeated = re.match(r"(\d+) (.+)", metrics.get("repeat", {}).get("desc", ""), re.DOTALL)
    return ServerTiming(
        app_ns,
        sql_ns,
        int(count.group(1)) if count else 0,
        repeated.group(2) if repeated else "",
        int(repeated.group(1)) if repeated else 0,
    )
