"""perftest's settings: one ``PERFTEST`` dict in the host's settings, every key defaulted here.

``get_config()`` merges the host's dict over ``DEFAULTS`` and validates it, so every other
module reads settings that are known to be well formed. A malformed setting raises
``ConfigError`` naming the key and the fix; the command turns it into exit code 2.

``merge`` and ``validate`` are also what a scenario file goes through (``plan.scenario_file``):
one schema and one validation, with ``Where`` naming a key as the user wrote it, in the
settings (``PERFTEST['ENDPOINTS'][2]['method']``) or in the file (``endpoints[2].method``).
Validation is plain code rather than a JSON Schema so that each message can name the fix.
Every number's range is ``perftest.limits``', shared with the command's options.
"""

from __future__ import annotations

import copy
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from perftest import limits

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
        # False: the login has its own line in every report and is left out of "slowest",
        # "worst p95", latency thresholds naming no endpoint and the charts' scale; True: it
        # is judged as any endpoint under test.
        "UNDER_TEST": False,
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
    # Threshold expressions (README, "Thresholds", where a table says what each default judges
    # and why): a list is global; a dict holds lists under endpoint names. The original
    # report's checks (at 10 concurrent every request succeeds, at 30 at least 90 % do), each
    # endpoint's error rate, and every other load level, closed or open: ``@*`` reads each
    # level no ``@N`` of its metric names, so @10 and @30 keep their own rule.
    "THRESHOLDS": [
        "p95 < 2000ms",
        "error_rate < 1%",
        "rss_growth < 100MB",
        "cpu_avg < 80%",
        "success@10 >= 100%",
        "success@30 >= 90%",
        "success@* >= 90%",
        "failed_workers@* < 100%",
        "dropped@* < 10%",
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
    # --soak: seconds between two checkpoints, each storing the run so far (a crash loses at
    # most one interval); whether an in-process soak traces its allocations (tracemalloc) to
    # name the lines where memory grew.
    "SOAK": {"CHECKPOINT_S": 60, "TRACE_ALLOCATIONS": True},
    # HTTP transport timeouts in seconds.
    "CONNECT_TIMEOUT": 5.0,
    "READ_TIMEOUT": 30.0,
    # The secret the run's timing header is signed with (perftest.timing_header), when the
    # measuring process and the server's ServerTimingMiddleware do not share SECRET_KEY. Both
    # read it from the settings (timing_secret), never from a scenario file; None: SECRET_KEY.
    "TIMING_KEY": None,
}

_HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")

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
#: The two ways a path parameter is filled: a seeded value, or a value captured from an answer.
PARAM_SOURCES = ({"seed"}, {"from", "json"})


#: Dict settings that are one value (a request body, model field values, thresholds by
#: endpoint), replaced whole.
VALUE_DICTS = {"BODY", "FIELDS", "THRESHOLDS"}


class ConfigError(ValueError):
    """A setting or option a user can fix; its message names the key and the fix."""


@dataclass(frozen=True)
class Where:
    """A key as the user wrote it, for error messages: ``PERFTEST['ENDPOINTS'][2]['method']``
    in the settings, ``endpoints[2].method`` in a scenario file (``file`` names it).

    ``parts`` are the keys as ``DEFAULTS`` spells them; a scenario writes them in lower case.
    """

    file: str = ""
    parts: tuple[str | int, ...] = ()

    def __truediv__(self, part: str | int) -> Where:
        return Where(self.file, (*self.parts, part))

    def __str__(self) -> str:
        if not self.file:
            return "PERFTEST" + "".join(f"[{part!r}]" for part in self.parts)
        text = ""
        for part in self.parts:
            text += f"[{part}]" if isinstance(part, int) else f".{part.lower()}"
        return text.lstrip(".") or "(top level)"

    def error(self, problem: str) -> ConfigError:
        """``PERFTEST['ITERATIONS'] must be …`` or ``scenario.toml: iterations: must be …``."""
        if self.file:
            return ConfigError(f"{self.file}: {self}: {problem}")
        return ConfigError(f"{self} {problem}")


SETTINGS = Where()


def in_range(option: str, value: Any, allowed: limits.Range) -> None:
    """A given option's value (None: not given) is in its documented range; else a
    ``ConfigError`` naming the option and the range."""
    problem = "" if value is None else allowed.problem(value)
    if problem:
        raise ConfigError(f"{option} {problem}")


def merge(defaults: Mapping[str, Any], overrides: Mapping[str, Any], where: Where) -> dict:
    """Overlay ``overrides`` on ``defaults`` one level of dicts deep, rejecting unknown keys."""
    merged = copy.deepcopy(dict(defaults))
    for key, value in overrides.items():
        if key not in defaults:
            known = ", ".join(sorted(k.lower() if where.file else k for k in defaults))
            if where.file:
                raise (where / key).error(f"unknown key; known keys here: {known}.")
            raise where.error(f"has an unknown key {key!r}; known keys: {known}.")
        if isinstance(defaults[key], dict) and key not in VALUE_DICTS:
            if not isinstance(value, Mapping):
                raise (where / key).error(f"must be a dict, not {type(value).__name__}.")
            merged[key] = merge(defaults[key], value, where / key)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool))


def _scalar_dict(value: Any, where: Where, what: str) -> None:
    if not isinstance(value, Mapping) or not all(_is_scalar(v) for v in value.values()):
        raise where.error(f"must be a table of {what} (names to strings or numbers).")


def _placeholders(path: str, where: Where) -> list[str]:
    try:
        fields = [field for _, field, _, _ in string.Formatter().parse(path) if field is not None]
    except ValueError as exc:
        raise where.error(f"{path!r} is not a valid path pattern ({exc}).") from None
    for field in fields:
        if not field.isidentifier():
            raise where.error(f"has a placeholder {{{field}}}; name it like {{room_id}}.")
    return fields


def _validate_params(endpoint: Mapping, earlier: list[str], where: Where) -> None:
    """Every ``{placeholder}`` of the path has a source, every source a placeholder, and a
    captured value comes from an endpoint measured before this one."""
    in_path = _placeholders(endpoint["path"], where / "path")
    params = endpoint.get("params", {})
    if not isinstance(params, Mapping):
        raise (where / "params").error("must be a table of placeholder names to sources.")
    for name in in_path:
        if name not in params:
            raise (where / "path").error(
                f"has the placeholder {{{name}}} but no params entry fills it; add "
                f'params.{name} = {{seed = "…"}} or {{from = "<earlier endpoint>", json = "…"}}.'
            )
    for name, source in params.items():
        here = where / "params" / name
        if name not in in_path:
            raise here.error(f"fills no {{{name}}} in the path {endpoint['path']!r}.")
        if not isinstance(source, Mapping) or set(source) not in PARAM_SOURCES:
            raise here.error(
                'must be {seed = "<seeded value name>"} or '
                '{from = "<earlier endpoint>", json = "<dotted path, e.g. results.0.id>"}.'
            )
        for key, value in source.items():
            if not isinstance(value, str) or not value.strip():
                raise (here / key).error("must be a non-empty string.")
        if "from" in source and source["from"] not in earlier:
            raise (here / "from").error(
                f"names {source['from']!r}, which is not an endpoint listed before this one"
                + (f" ({', '.join(earlier)})" if earlier else "")
                + "; a value is captured from an answer measured earlier."
            )


def _validate_endpoint(endpoint: Any, earlier: list[str], where: Where) -> None:
    if not isinstance(endpoint, Mapping):
        raise where.error("must be a dict with name, method and path.")
    unknown = set(endpoint) - ENDPOINT_KEYS
    if unknown:
        raise where.error(
            f"has unknown keys {sorted(unknown)}; known keys: {', '.join(sorted(ENDPOINT_KEYS))}."
        )
    for key in ("name", "method", "path"):
        if not isinstance(endpoint.get(key), str) or not endpoint[key].strip():
            raise (where / key).error(
                f"is missing or empty; every endpoint needs a non-empty string {key!r}."
            )
    if endpoint["method"].upper() not in _HTTP_METHODS:
        raise (where / "method").error(
            f"unknown HTTP method {endpoint['method']!r}; use one of {', '.join(_HTTP_METHODS)}."
        )
    if not endpoint["path"].startswith("/"):
        raise (where / "path").error(f"{endpoint['path']!r} must start with '/'.")
    status = endpoint.get("expected_status", 200)
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise (where / "expected_status").error(f"must be an HTTP status code, not {status!r}.")
    for key in ("auth", "list"):
        if key in endpoint and not isinstance(endpoint[key], bool):
            raise (where / key).error(f"must be true or false, not {endpoint[key]!r}.")
    problem = limits.WEIGHT.problem(endpoint.get("weight", 1))
    if problem:
        raise (where / "weight").error(problem)
    _scalar_dict(endpoint.get("query", {}), where / "query", "query parameters")
    _scalar_dict(endpoint.get("headers", {}), where / "headers", "request headers")
    _validate_params(endpoint, earlier, where)
    if endpoint["name"] in earlier:
        raise (where / "name").error(f"repeats the endpoint name {endpoint['name']!r}.")


def _validate_endpoints(endpoints: Any, where: Where) -> None:
    if not isinstance(endpoints, list):
        raise where.error("must be a non-empty list of endpoint dicts.")
    earlier: list[str] = []
    for index, endpoint in enumerate(endpoints):
        _validate_endpoint(endpoint, earlier, where / index)
        earlier.append(endpoint["name"])


def _validate_roles(roles: Any, where: Where) -> None:
    if not isinstance(roles, list):
        raise where.error("must be a list of role dicts (name, count, fields).")
    seen: set[str] = set()
    for index, role in enumerate(roles):
        here = where / index
        if not isinstance(role, Mapping):
            raise here.error("must be a dict with name, count and fields.")
        unknown = set(role) - ROLE_KEYS
        if unknown:
            raise here.error(f"has unknown keys {sorted(unknown)}.")
        name = role.get("name")
        if not isinstance(name, str) or not name.strip():
            raise (here / "name").error("is missing or empty; a role needs a non-empty string.")
        problem = limits.ROLE_COUNT.problem(role.get("count", 1))
        if problem:
            raise (here / "count").error(problem)
        if not isinstance(role.get("fields", {}), Mapping):
            raise (here / "fields").error("must be a dict of user field values.")
        if name in seen:
            raise (here / "name").error(f"repeats the role name {name!r}.")
        seen.add(name)
    seeded = sum(role.get("count", 1) for role in roles)
    if seeded > limits.IDENTITIES.high:
        raise where.error(
            f"seed {seeded:,} identities; the roles' counts may add up to "
            f"{limits.IDENTITIES.high:,} at most."
        )


def _non_empty_string(
    value: Any, where: Where, problem: str = "must be a non-empty string."
) -> None:
    if not isinstance(value, str) or not value:
        raise where.error(problem)


def validate(config: dict, where: Where = SETTINGS) -> dict:
    """Check a merged configuration; return it unchanged or raise ``ConfigError``.

    The one validation of the ``PERFTEST`` dict and of a scenario file (``where`` says which
    the messages name).
    """
    _validate_endpoints(config["ENDPOINTS"], where / "ENDPOINTS")
    for key, allowed in limits.SETTINGS.items():
        problem = allowed.problem(config[key])
        if problem:
            raise (where / key).error(problem)
    login, at_login = config["LOGIN"], where / "LOGIN"
    for key in ("PATH", "METHOD", "HEADER"):
        _non_empty_string(login[key], at_login / key)
    _non_empty_string(
        login["TOKEN_PATH"], at_login / "TOKEN_PATH", "must be a dotted path like 'data.token'."
    )
    if not isinstance(login["SCHEME"], str):
        raise (at_login / "SCHEME").error("must be a string ('' for a bare token).")
    if not isinstance(login["UNDER_TEST"], bool):
        raise (at_login / "UNDER_TEST").error("must be True or False.")
    identity, at_identity = config["IDENTITY"], where / "IDENTITY"
    if not isinstance(identity["EMAIL"], str) or "{n}" not in identity["EMAIL"]:
        raise (at_identity / "EMAIL").error("must be a string containing '{n}'.")
    if not isinstance(identity["FIELDS"], Mapping):
        raise (at_identity / "FIELDS").error("must be a dict of user field values.")
    _validate_roles(identity["ROLES"], at_identity / "ROLES")
    for key in ("SEEDER", "HOOK"):
        value = config[key] if key == "SEEDER" else identity[key]
        if value is not None and not (isinstance(value, str) and value):
            at = where / key if key == "SEEDER" else at_identity / key
            raise at.error(f"must be a dotted path to a function, not {value!r}.")
    _non_empty_string(config["OUTPUT_DIR"], where / "OUTPUT_DIR", "must be a folder path.")
    _check_timing_key(config["TIMING_KEY"], where / "TIMING_KEY")
    problem = limits.CHECKPOINT.problem(config["SOAK"]["CHECKPOINT_S"])
    if problem:
        raise (where / "SOAK" / "CHECKPOINT_S").error(problem)
    if not isinstance(config["SOAK"]["TRACE_ALLOCATIONS"], bool):
        raise (where / "SOAK" / "TRACE_ALLOCATIONS").error("must be True or False.")
    return config


def _check_timing_key(value: Any, where: Where) -> None:
    if value is not None:
        _non_empty_string(
            value, where, "must be a non-empty string (a secret both sides share), or None."
        )


def get_config() -> dict[str, Any]:
    """The host's ``PERFTEST`` settings merged over ``DEFAULTS``, validated."""
    overrides = getattr(settings, "PERFTEST", {}) or {}
    if not isinstance(overrides, Mapping):
        raise ConfigError(f"settings.PERFTEST must be a dict, not {type(overrides).__name__}.")
    return validate(merge(DEFAULTS, overrides, SETTINGS))


def timing_secret() -> str:
    """The secret a run's timing header is signed with: ``PERFTEST["TIMING_KEY"]``, else
    ``SECRET_KEY``. The measuring process and the target's middleware both call this, so a
    server that shares the project's settings needs nothing more; only this key is read and
    checked, so a server whose ``PERFTEST`` holds another mistake still starts."""
    overrides = getattr(settings, "PERFTEST", None) or {}
    key = overrides.get("TIMING_KEY") if isinstance(overrides, Mapping) else None
    _check_timing_key(key, SETTINGS / "TIMING_KEY")
    return key or settings.SECRET_KEY
