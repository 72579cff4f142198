"""What an expected answer's body is: a page, a list, an object, a router root's links.

Timings of an empty page or of a router root's links describe no real data, so the shape is
read, outside the timed window, from the first expected answer of an endpoint, and then only
as long as every answer so far was empty, to confirm it (a tiny body, parsed cheaply).
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple
from urllib.parse import urlsplit

PAGE, LIST, OBJECT, LINKS, OTHER = "page", "list", "object", "links", "other"
#: Shapes whose emptiness means the timings describe no data.
COLLECTIONS = (PAGE, LIST)
#: A body longer than this is no empty page (``{"count": 0, ..., "results": []}`` is ~60 bytes).
EMPTY_MAX_BYTES = 256


class Shape(NamedTuple):
    kind: str
    empty: bool = False
    #: A router root's links, as paths.
    links: tuple[str, ...] = ()


def _parse(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _links(payload: dict, path: str) -> tuple[str, ...]:
    """The paths of ``payload``'s values when every one is a URL under ``path``, else ()."""
    base = path.split("?", 1)[0]
    links = []
    for value in payload.values():
        if not isinstance(value, str) or "://" not in value:
            return ()
        linked = urlsplit(value).path
        if not (linked.startswith(base) and linked != base):
            return ()
        links.append(linked)
    return tuple(links)


def classify(body: bytes, path: str) -> Shape:
    """The shape of one answer to ``path``."""
    payload = _parse(body)
    if isinstance(payload, list):
        return Shape(LIST, not payload)
    if not isinstance(payload, dict):
        return Shape(OTHER)
    if "results" in payload and "count" in payload and isinstance(payload["results"], list):
        return Shape(PAGE, not payload["results"])
    links = _links(payload, path) if payload else ()
    return Shape(LINKS, links=links) if links else Shape(OBJECT)


def is_empty(body: bytes) -> bool:
    """True when the answer is an empty list or page; bigger bodies are not even parsed."""
    if len(body) > EMPTY_MAX_BYTES:
        return False
    payload = _parse(body)
    if isinstance(payload, dict):
        payload = payload.get("results")
    return payload == []
