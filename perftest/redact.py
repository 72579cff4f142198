"""Keeps secrets out of everything perftest stores, prints or renders.

Two nets: every secret perftest itself handles (passwords, tokens) is registered and replaced
wherever it appears, and values under sensitive-looking keys are masked in JSON bodies and
configuration snapshots whatever they hold.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

MASK = "[redacted]"
_SENSITIVE_KEY = re.compile(
    r"pass(word)?|token|secret|authori[sz]ation|cookie|session|api[_-]?key|credential|access|refresh",
    re.IGNORECASE,
)
_SENSITIVE_JSON_VALUE = re.compile(
    r'("(?:[^"\\]*(?:pass|token|secret|authori[sz]ation|cookie|session|key|access|refresh)'
    r'[^"\\]*)"\s*:\s*)"(?:[^"\\]|\\.)*"',
    re.IGNORECASE,
)
_HEADER_VALUE = re.compile(r"\b(Token|Bearer|Basic|JWT)\s+[A-Za-z0-9._~+/=-]+")


#: A key whose last word is one of these says *where* a secret is (``TOKEN_PATH``,
#: ``token_path``, ``password_field``), not what it is, so its value is kept.
_LOCATION_WORD = re.compile(r"(?:^|[_-])(path|field|header|scheme|name)$", re.IGNORECASE)


def is_sensitive_key(key: str) -> bool:
    """True for keys that may hold a secret; keys naming where a secret lives are kept."""
    return bool(_SENSITIVE_KEY.search(key)) and not _LOCATION_WORD.search(key)


class Redactor:
    """Masks registered secrets and sensitive-looking values in text and mappings."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= 4:
            self._secrets.add(secret)

    def text(self, value: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in value:
                value = value.replace(secret, MASK)
        value = _SENSITIVE_JSON_VALUE.sub(lambda m: f'{m.group(1)}"{MASK}"', value)
        return _HEADER_VALUE.sub(lambda m: f"{m.group(1)} {MASK}", value)

    def excerpt(self, body: bytes, limit: int = 300) -> str:
        """A short, redacted, single-line excerpt of a response body."""
        text = body.decode("utf-8", errors="replace")
        try:
            text = json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            text = " ".join(text.split())
        text = self.text(text)
        return text if len(text) <= limit else text[: limit - 1] + "…"

    def mapping(self, value: Any) -> Any:
        """A deep copy of settings-like data with sensitive keys masked."""
        if isinstance(value, Mapping):
            return {
                str(k): MASK
                if is_sensitive_key(str(k)) and isinstance(v, str) and "{" not in v
                else self.mapping(v)
                for k, v in value.items()
            }
        if isinstance(value, (list, tuple)):
            return [self.mapping(v) for v in value]
        if isinstance(value, str):
            return self.text(value)
        return value
