"""perftest's settings: one ``PERFTEST`` dict in the host's settings, every key defaulted here.

``get_config()`` merges the host's dict over ``DEFAULTS`` and validates it, so every other
module reads settings that are known to be well formed. A malformed setting raises
``ConfigError`` naming the key and the fix; the command turns it into exit code 2.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # What to measure. Each endpoint: name, method, path, expected_status; optional "auth"
    # (default True; the login endpoint never sends a token), "body" (a JSON value), "query"
    # and "headers" (dicts), "weight" (its share of a load level's mix, default 1), "list"
    # (whether it answers a list; default: what the route says) and "params", which fill the
    # path's {placeholders}: {"room_id": {"seed": "room_id"}} takes a named value the seeder
    # returns, {"room_id": {"from": "Get Rooms", "json": "results.0.id"}} a value captured
    # from an earlier endpoint's answer. No default: the host project names its own endpoints.
    "ENDPOINTS": [],
    # How a client logs in. BODY values may use {email}, {username} and {password}. The
    # defaults are DRF's token login (rest_framework.authtoken.views.obtain_auth_token, mounted
    # where DRF's documentation mounts it): {"username", "password"} in, {"token"} out.
    "LOGIN": {
        "PATH": "/api-token-auth/",
        "METHOD": "POST",
        "BODY": {"username": "{username}", "password": "{password}"},
        "TOKEN_PATH": "token",
        "HEADER": "Authorization",
        "SCHEME": "Token",
    },
    # perftest's own test users. {n} is the identity's number and {run} the run's, so runs at
    # the same time never share an account; the domain is reserved (RFC 2606), so no real
    # account can collide by accident.
    "IDENTITY": {
        "EMAIL": "perftest-{run}-{n}@perftest.invalid",
        "USERNAME": "perftest-{run}-{n}",
        "FIELDS": {},
        "HOOK": None,
        # Several roles in one run: [{"name": "student", "count": 5, "fields": {...}}, ...];
        # each role's fields go over FIELDS. Empty: one role, identities as many as needed.
        "ROLES": [],
    },
    # Dotted path of seeder(users) -> iterable of created model instances, or None.
    "SEEDER": None,
    "ITERATIONS": 20,
    "WARMUP": 2,
    "RESOURCE_INTERVAL": 0.5,
    "OUTPUT_DIR": "perftest-reports",
    # Threshold expressions (README, "Thresholds"): a list is global; a dict holds lists under
    # endpoint names. These are the original report's checks: at 10 concurrent every request
    # succeeds, at 30 concurrent at least 90 % do.
    "THRESHOLDS": [
        "p95 < 2000ms",
        "rss_growth < 100MB",
        "cpu_avg < 80%",
        "success@10 >= 100%",
        "success@30 >= 90%",
    ],
    # Load levels (closed model, each level in turn) and their length.
    "DURATION": 10,
    "RAMP_UP": 1.0,
    # Most workers one level may start as threads of this process; more load needs the open
    # model (--rate) or several processes.
    "MAX_THREAD_WORKERS": 500,
    # A run still "running" this many seconds after it began is taken as dead (its process
    # may be on another host), marked abandoned and its seeded data removed by the next run.
    "STALE_RUN_AFTER": 6 * 3600,
    # HTTP transport timeouts in seconds.
    "CONNECT_TIMEOUT": 5.0,
    "READ_TIMEOUT": 30.0,
}

_HTTP_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}

#: The keys an endpoint dict may have (PERFTEST['ENDPOINTS'] and a scenario's [[endpoints]]).
ENDPOINT_KEYS = {
    "name",
    "method",
    "path",
    "expected_status",
    "auth",
    "body",
    "query",
    "headers",
    "weight",
    "list",
    "params",
}
#: The keys a role dict may have (PERFTEST['IDENTITY']['ROLES']).
ROLE_KEYS = {"name", "count", "fields"}


#: Dict settings that are one value (a request body, model field values), replaced whole.
_VALUE_DICTS = {"BODY", "FIELDS"}


class ConfigError(ValueError):
    """A setting or option a user can fix; its message names the key and the fix."""


def _merge(defaults: Mapping[str, Any], overrides: Mapping[str, Any], where: str) -> dict:
    """Overlay ``overrides`` on ``defaults`` one level of dicts deep, rejecting unknown keys."""
    merged = copy.deepcopy(dict(defaults))
    for key, value in overrides.items():
        if key not in defaults:
            known = ", ".join(sorted(defaults))
            raise ConfigError(f"{where} has an unknown key {key!r}; known keys: {known}.")
        if isinstance(defaults[key], dict) and key not in _VALUE_DICTS:
            if not isinstance(value, Mapping):
                raise ConfigError(f"{where}[{key!r}] must be a dict, not {type(value).__name__}.")
            merged[key] = _merge(defaults[key], value, f"{where}[{key!r}]")
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _positive_number(config: dict, key: str, *, integer: bool, allow_zero: bool = False) -> None:
    value = config[key]
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or value < 0:
        raise ConfigError(f"PERFTEST[{key!r}] must be a non-negative number, not {value!r}.")
    if value == 0 and not allow_zero:
        raise ConfigError(f"PERFTEST[{key!r}] must be greater than 0.")


def _validate_endpoints(endpoints: Any) -> None:
    if not isinstance(endpoints, list):
        raise ConfigError("PERFTEST['ENDPOINTS'] must be a non-empty list of endpoint dicts.")
    seen: set[str] = set()
    for index, endpoint in enumerate(endpoints):
        where = f"PERFTEST['ENDPOINTS'][{index}]"
        if not isinstance(endpoint, Mapping):
            raise ConfigError(f"{where} must be a dict with name, method and path.")
        unknown = set(endpoint) - ENDPOINT_KEYS
        if unknown:
            raise ConfigError(f"{where} has unknown keys {sorted(unknown)}.")
        for key in ("name", "method", "path"):
            if not isinstance(endpoint.get(key), str) or not endpoint[key].strip():
                raise ConfigError(f"{where} needs a non-empty string {key!r}.")
        if endpoint["method"].upper() not in _HTTP_METHODS:
            raise ConfigError(f"{where} has an unknown HTTP method {endpoint['method']!r}.")
        if not endpoint["path"].startswith("/"):
            raise ConfigError(f"{where} path {endpoint['path']!r} must start with '/'.")
        status = endpoint.get("expected_status", 200)
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            raise ConfigError(f"{where} expected_status must be an HTTP status code.")
        if endpoint["name"] in seen:
            raise ConfigError(f"{where} repeats the endpoint name {endpoint['name']!r}.")
        seen.add(endpoint["name"])


def _validate_roles(roles: Any) -> None:
    where = "PERFTEST['IDENTITY']['ROLES']"
    if not isinstance(roles, list):
        raise ConfigError(f"{where} must be a list of role dicts (name, count, fields).")
    seen: set[str] = set()
    for index, role in enumerate(roles):
        here = f"{where}[{index}]"
        if not isinstance(role, Mapping):
            raise ConfigError(f"{here} must be a dict with name, count and fields.")
        unknown = set(role) - ROLE_KEYS
        if unknown:
            raise ConfigError(f"{here} has unknown keys {sorted(unknown)}.")
        name = role.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{here} needs a non-empty string 'name'.")
        count = role.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ConfigError(f"{here} count must be a whole number of at least 1.")
        if not isinstance(role.get("fields", {}), Mapping):
            raise ConfigError(f"{here} fields must be a dict of user field values.")
        if name in seen:
            raise ConfigError(f"{here} repeats the role name {name!r}.")
        seen.add(name)


def validate(config: dict) -> dict:
    """Check a merged configuration; return it unchanged or raise ``ConfigError``."""
    _validate_endpoints(config["ENDPOINTS"])
    _positive_number(config, "ITERATIONS", integer=True)
    _positive_number(config, "WARMUP", integer=True, allow_zero=True)
    _positive_number(config, "RESOURCE_INTERVAL", integer=False)
    _positive_number(config, "DURATION", integer=False)
    _positive_number(config, "RAMP_UP", integer=False, allow_zero=True)
    _positive_number(config, "MAX_THREAD_WORKERS", integer=True)
    _positive_number(config, "STALE_RUN_AFTER", integer=False)
    _positive_number(config, "CONNECT_TIMEOUT", integer=False)
    _positive_number(config, "READ_TIMEOUT", integer=False)
    login = config["LOGIN"]
    for key in ("PATH", "METHOD", "HEADER"):
        if not isinstance(login[key], str) or not login[key]:
            raise ConfigError(f"PERFTEST['LOGIN'][{key!r}] must be a non-empty string.")
    if not isinstance(login["TOKEN_PATH"], str) or not login["TOKEN_PATH"]:
        raise ConfigError(
            "PERFTEST['LOGIN']['TOKEN_PATH'] must be a dotted path like 'data.token'."
        )
    if not isinstance(login["SCHEME"], str):
        raise ConfigError("PERFTEST['LOGIN']['SCHEME'] must be a string ('' for a bare token).")
    identity = config["IDENTITY"]
    if not isinstance(identity["EMAIL"], str) or "{n}" not in identity["EMAIL"]:
        raise ConfigError("PERFTEST['IDENTITY']['EMAIL'] must be a string containing '{n}'.")
    if not isinstance(identity["FIELDS"], Mapping):
        raise ConfigError("PERFTEST['IDENTITY']['FIELDS'] must be a dict of user field values.")
    _validate_roles(identity["ROLES"])
    if not isinstance(config["OUTPUT_DIR"], str) or not config["OUTPUT_DIR"]:
        raise ConfigError("PERFTEST['OUTPUT_DIR'] must be a folder path.")
    return config


def get_config() -> dict[str, Any]:
    """The host's ``PERFTEST`` settings merged over ``DEFAULTS``, validated."""
    overrides = getattr(settings, "PERFTEST", {}) or {}
    if not isinstance(overrides, Mapping):
        raise ConfigError(f"settings.PERFTEST must be a dict, not {type(overrides).__name__}.")
    return validate(_merge(DEFAULTS, overrides, "PERFTEST"))
