"""The routes a URLconf serves, as paths a user would type, and the ones nearest a wrong path.

Used to suggest what a configured path with no route probably meant (``plan.routes``) and to
list the target's endpoints (``plan.inventory``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern

#: How many close routes a missing path's problem suggests.
SUGGESTIONS = 3
_NAMED_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")
_REGEX_SYNTAX = re.compile(r"[\\()\[\]|?*+{}]")


def _readable(pattern: Any) -> str | None:
    """A URL pattern as a path a user would type (``<pk>`` for a parameter), or None when
    it is a regular expression no plain path spells (format suffixes and the like)."""
    text = str(pattern)
    if not isinstance(pattern, RegexPattern):
        return text
    text = _NAMED_GROUP.sub(r"<\1>", text.removeprefix("^").removesuffix("$"))
    return None if _REGEX_SYNTAX.search(text) else text


def patterns(urlconf: str | None = None) -> Iterator[tuple[str, URLPattern]]:
    """Every route of the URLconf as (path a user would type, its pattern), in URLconf order."""
    return _walk(get_resolver(urlconf).url_patterns, "/")


def _walk(entries: list, prefix: str) -> Iterator[tuple[str, URLPattern]]:
    for entry in entries:
        part = _readable(entry.pattern)
        if part is None:
            continue
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + part)
        elif isinstance(entry, URLPattern):
            yield prefix + part, entry


def known_routes(urlconf: str | None = None) -> list[str]:
    """Every route of the URLconf as a path, in URLconf order, each once."""
    return list(dict.fromkeys(path for path, _ in patterns(urlconf)))


def _segments(path: str) -> list[str]:
    return [part for part in path.split("/") if part]


def closest_routes(path: str, routes: list[str], count: int = SUGGESTIONS) -> tuple[str, ...]:
    """The routes nearest ``path``: sharing the most leading segments, then most alike.

    ``/api/chat/threads/`` gives ``/api/chat/conversations/`` before ``/api/assignments/``.
    """
    wanted = _segments(path)

    def shared(route: str) -> int:
        same = 0
        for mine, theirs in zip(wanted, _segments(route), strict=False):
            if mine != theirs:
                break
            same += 1
        return same

    def likeness(route: str) -> float:
        return difflib.SequenceMatcher(None, path, route).ratio()

    candidates = [r for r in routes if r != path and (shared(r) >= 2 or likeness(r) >= 0.6)]
    ranked = sorted(candidates, key=lambda r: (-shared(r), "<" in r, -likeness(r)))
    return tuple(ranked[:count])
