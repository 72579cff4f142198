"""A load level whose open database connections came near the limit the server allows:
one more worker or server thread would have been refused ("too many clients"). The errors
that follow once it is refused are ``levels.DATABASE_ERRORS``'s.
"""

from __future__ import annotations

from typing import Any

from perftest.text import level_label

from ..database import ADVICE, NEAR_LIMIT_SHARE, connections_text, limit
from .base import BOTTLENECK, LEVEL, Finding, bottleneck, rule

CONNECTIONS_NEAR_LIMIT = "bottleneck.database_connections_near_limit"


@rule(
    CONNECTIONS_NEAR_LIMIT,
    BOTTLENECK,
    LEVEL,
    f"a level whose open database connections reached {NEAR_LIMIT_SHARE:.0%} of the limit",
    ADVICE["connection limit"],
    family="levels",
)
def _near_limit(level: Any) -> list[Finding]:
    use = level.database_connections or {}
    allowed = limit(use)
    if use.get("peak") is None or allowed is None or use["peak"] < NEAR_LIMIT_SHARE * allowed:
        return []
    return [
        bottleneck(
            CONNECTIONS_NEAR_LIMIT,
            level_label(level),
            f"{level_label(level)}: {use['peak']} of the {allowed} database connections "
            "allowed were open",
            f"The run's database had {connections_text(level)} during the level; one more "
            "worker or server thread would have been refused a connection.",
        )
    ]
