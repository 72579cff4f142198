"""Normalized SQL: the same statement with other values reads the same, so repeats are found.

The ORM already passes placeholders (``%s``); raw SQL may carry literals, and ``IN`` lists
vary in length. Results are cached per distinct statement text, so the per-request cost of
normalizing is a dictionary look-up once a statement has been seen.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

_STRING = re.compile(r"'(?:[^']|'')*'")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?\b")
_PLACEHOLDER = re.compile(r"%s|\?|\$\d+|:\w+")
_IN_LIST = re.compile(r"\bIN\s*\((?:\s*\?\s*,)*\s*\?\s*\)", re.IGNORECASE)
_SPACE = re.compile(r"\s+")

#: A statement run this many times in one request is an N+1 suspect.
DUPLICATE_THRESHOLD = 3


@lru_cache(maxsize=4096)
def normalize(sql: str) -> str:
    text = _STRING.sub("?", sql)
    text = _PLACEHOLDER.sub("?", text)
    text = _NUMBER.sub("?", text)
    text = _IN_LIST.sub("IN (...)", text)
    return _SPACE.sub(" ", text).strip()


def repeated(queries: Sequence[str]) -> dict[str, int]:
    """Normalized statements run at least ``DUPLICATE_THRESHOLD`` times in one request."""
    if len(queries) < DUPLICATE_THRESHOLD:
        return {}
    counts = Counter(map(normalize, queries))
    return {sql: n for sql, n in counts.items() if n >= DUPLICATE_THRESHOLD}
