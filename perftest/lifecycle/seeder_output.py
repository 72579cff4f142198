"""What a seeder returns: the instances it created, and named values for path parameters.

Two shapes are accepted. The first contract: an iterable of the created instances, which are
recorded and removed after the run. The extended one: ``{"objects": [...], "values":
{"room_id": 12}}``, whose values fill ``{placeholders}`` of endpoint paths that name them
(``params = {room_id = {seed = "room_id"}}``). A value is the same for every identity, or a
dict ``{user_pk: value}`` that gives each identity its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models

from perftest.conf import ConfigError


def seeded(returned: Any) -> tuple[Iterable[models.Model], dict[str, Any]]:
    """A seeder's return value as (instances to record, named values).

    A seeder returns its instances (the first contract), or ``{"objects": [...], "values":
    {"room_id": ...}}``: named values that fill path parameters (``{"seed": "room_id"}``).
    """
    if not isinstance(returned, Mapping):
        return returned or (), {}
    unknown = set(returned) - {"objects", "values"}
    values = returned.get("values") or {}
    if unknown or not isinstance(values, Mapping):
        raise ConfigError(
            "PERFTEST['SEEDER'] returned a dict that is not {'objects': [...], 'values': "
            f"{{name: value}}}} (keys: {', '.join(map(str, returned))}); return the created "
            "instances, or that dict."
        )
    return returned.get("objects") or (), dict(values)


def values_for(values: Mapping[str, Any], user_pk: Any) -> dict[str, Any]:
    """One identity's named values: a scalar is everyone's, a dict holds one per user
    (keyed by the user's pk, or its text); a dict without this user leaves the name out."""
    own: dict[str, Any] = {}
    for name, value in values.items():
        if not isinstance(value, Mapping):
            own[name] = value
        elif user_pk in value or str(user_pk) in value:
            own[name] = value[user_pk] if user_pk in value else value[str(user_pk)]
    return own
