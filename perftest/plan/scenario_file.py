"""``perftest --scenario FILE.toml``: a plan written down in a file, read over the settings.

A scenario uses the ``PERFTEST`` keys in lower case (``iterations = 50``, ``[login]
token_path = "data.token"``, ``[[endpoints]]``, ``[[identity.roles]]``). It goes over
``PERFTEST``, which goes over ``DEFAULTS``: a key it sets wins, a table it sets
(``[login]``, ``[identity]``) overrides key by key, and its ``[[endpoints]]``, when it has
any, replace the settings' list whole. The result goes through the one validation the
settings go through (``conf.validate``), so every message names the file and the key.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from perftest.conf import DEFAULTS, VALUE_DICTS, ConfigError, Where, merge, validate

from .expressions import ExpressionError, parse_all, sources

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the floor of requires-python
    import tomli as tomllib

#: Tables whose keys are settings (upper case in ``PERFTEST``), not values such as a body.
_SETTING_TABLES = {k for k, v in DEFAULTS.items() if isinstance(v, dict)} - VALUE_DICTS


def read(path: str) -> dict[str, Any]:
    """The file's TOML as a dict; a missing, unreadable or malformed file is a ConfigError."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such scenario file.") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"{path}: cannot read the scenario file: {reason}.") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}.") from None


def as_settings(scenario: Mapping[str, Any]) -> dict[str, Any]:
    """The scenario's keys spelled as ``PERFTEST`` spells them (``[login] path`` is
    ``LOGIN['PATH']``); the values (endpoints, bodies, fields, thresholds) stay as written."""
    settings: dict[str, Any] = {}
    for key, value in scenario.items():
        upper = key.upper()
        if upper in _SETTING_TABLES and isinstance(value, Mapping):
            value = {inner.upper(): item for inner, item in value.items()}
        settings[upper] = value
    return settings


def apply(path: str, config: dict[str, Any]) -> dict[str, Any]:
    """``config`` (the validated settings) with the scenario at ``path`` over it, validated
    with messages that name the file: ``scenario.toml: endpoints[2].method: …``."""
    where = Where(path)
    scenario = as_settings(read(path))
    if "TIMING_KEY" in scenario:  # a secret, and the server reads it from its settings only
        raise (where / "TIMING_KEY").error(
            "is a secret the server reads from its settings: set PERFTEST['TIMING_KEY'] there."
        )
    merged = validate(merge(config, scenario, where), where)
    if "THRESHOLDS" in scenario:
        try:
            parse_all(sources(merged["THRESHOLDS"]), [e["name"] for e in merged["ENDPOINTS"]])
        except ExpressionError as exc:
            # The first line: the expression and the problem (the caret line needs a terminal).
            raise (where / "THRESHOLDS").error(str(exc).splitlines()[0]) from None
    return merged
