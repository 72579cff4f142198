"""The routes a URLconf serves, as paths a user would type, and the ones nearest a wrong path.

Used to suggest what a configured path with no route probably meant (``plan.routes``) and to
list the target's endpoints (``plan.inventory``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterator
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern

#: How many close routes a missing path's problem suggests.
SUGGESTIONS = 3
_NAMED_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")
_REGEX_SYNTAX = re.compile(r"[\\()\[\]|?*+{}]")
#: An optional trailing slash (``/?``), as an "optional slash" DRF router writes every route.
_OPTIONAL_SLASH = re.compile(r"/\?(?=$|/)")


def _readable(pattern: Any) -> str | None:
    """A URL pattern as a path a user would type (``<pk>`` for a parameter), or None when
    it is a regular expression no plain path spells (format suffixes and the like)."""
    text = str(pattern)
    if not isinstance(pattern, RegexPattern):
        return text
    text = _NAMED_GROUP.sub(r"<\1>", text.removeprefix("^").removesuffix("$"))
    text = _OPTIONAL_SLASH.sub("/", text)
    return None if _REGEX_SYNTAX.search(text) else text


def patterns(urlconf: str | None = None) -> Iterator[tuple[str, URLPattern, str]]:
    """Every route of the URLconf as (path a user would type, its pattern, its route as
    Django's ``resolve()`` names it in ``ResolverMatch.route``), in URLconf order."""
    return _walk(get_resolver(urlconf).url_patterns, "/", "")


def _joined(route: str, part: str) -> str:
    """Routes joined as Django's resolver joins them (``URLResolver._join_route``)."""
    return part if not route else route + part.removeprefix("^")


def _walk(entries: list, prefix: str, route: str) -> Iterator[tuple[str, URLPattern, str]]:
    for entry in entries:
        part = _readable(entry.pattern)
        if part is None:
            continue
        here = _joined(route, str(entry.pattern))
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + part, here)
        elif isinstance(entry, URLPattern):
            yield prefix + part, entry, here


def known_routes(urlconf: str | None = None) -> list[str]:
    """Every route of the URLconf as a path, in URLconf order, each once."""
    return list(dict.fromkeys(path for path, _, _ in patterns(urlconf)))


def _segments(path: str) -> list[str]:
    return [part for part in path.split("/") if part]


def closest_routes(
    path: str, routes: list[str], count: int = SUGGESTIONS, lists: Collection[str] = ()
) -> tuple[str, ...]:
    """The routes nearest ``path``: sharing the most leading segments; among those, first a
    collection that encloses ``path``, then the list routes (``lists``), then the most alike.

    ``/api/chat/conversations/`` gives ``/api/chat/`` (the collection above it) before
    ``/api/chat/contacts/``, and ``/api/chat/threads/`` gives ``/api/chat/conversations/``
    before ``/api/assignments/``.
    """
    wanted = _segments(path)

    def shared(route: str) -> int:
        same = 0
        for mine, theirs in zip(wanted, _segments(route), strict=False):
            if mine != theirs:
                break
            same += 1
        return same

    def encloses(route: str) -> bool:
        return "<" not in route and route.endswith("/") and path.startswith(route)

    def likeness(route: str) -> float:
        return difflib.SequenceMatcher(None, path, route).ratio()

    candidates = [r for r in routes if r != path and (shared(r) >= 2 or likeness(r) >= 0.6)]
    ranked = sorted(
        candidates,
        key=lambda r: (-shared(r), not encloses(r), r not in lists, "<" in r, -likeness(r)),
    )
    return tuple(ranked[:count])
