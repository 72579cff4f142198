"""``perftest --write-scenario FILE.toml``: a starter scenario read off the target's URLconf.

It holds the login and identity of the current settings, every GET list route that needs no
path parameter, and each route whose one parameter the list above it can give (a detail
route, or a nested list): its id is captured from that list's first answer (``results.0.id``
when the view paginates, ``0.id`` when it answers a bare list). A route is written only when
``resolve()`` hands its path back to it: a route shadowed by an earlier pattern (a ``<pk>``
detail route catching ``recent/``), or whose parameter no list gives, is a comment at the end
saying why, not an endpoint; no path is written twice. Each ``[[endpoints]]`` is preceded by
a comment naming its view, so the user can see what to keep.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit

from perftest.conf import ConfigError
from perftest.text import quantity

from .inventory import ROUTE_PARAMETER, Route, view_class

#: The settings of the login and identity a scenario repeats (the rest keep their defaults).
_LOGIN_KEYS = ("PATH", "METHOD", "BODY", "TOKEN_PATH", "HEADER", "SCHEME")
_IDENTITY_KEYS = ("EMAIL", "USERNAME", "FIELDS", "HOOK")


def _lookup_key(view: type | None) -> str:
    """The key of a list item that holds the value a route below the list needs: the list
    view's lookup field, or for ``pk`` the name of the serializer's model's primary key."""
    lookup = getattr(view, "lookup_field", "pk")
    if lookup != "pk":
        return lookup
    serializer = getattr(view, "serializer_class", None)
    model = getattr(getattr(serializer, "Meta", None), "model", None)
    return model._meta.pk.name if model is not None else "id"


def _first_item(view: type | None) -> str:
    """Where a list's first item is: under ``results`` when the view paginates (DRF's
    pagination classes all answer ``{"results": [...]}``), else at the top."""
    return "results.0" if getattr(view, "pagination_class", None) is not None else "0"


def _name(route: Route, taken: set[str]) -> str:
    name = route.name or route.path
    if name in taken:
        name = f"{name} {route.path}"
    taken.add(name)
    return name


def _left_out(route: Route, why: str) -> str:
    return f"# GET {route.path} ({route.name or 'unnamed'}, {route.view}): {why}"


def _no_source(route: Route) -> str:
    names = ", ".join(f"{{{parameter}}}" for parameter in route.parameters)
    return _left_out(
        route,
        f"no list route above it gives {names}; write the endpoint with params "
        "(from = a list endpoint, json = where the value is) or a seeder's value (seed)",
    )


def _endpoints(routes: list[Route]) -> tuple[list[tuple[Route, dict[str, Any]]], list[str]]:
    """(route, endpoint table) for each GET list route the URLconf serves (``is_list``: a
    viewset's ``list`` action or a ``ListModelMixin`` view), then for each route below a list
    that needs one value the list gives; and a comment for each GET route left out: shadowed
    (its paths reach another pattern) or with a path parameter no list fills. A path is
    written once, by the route that ``resolve()`` reaches for it."""
    taken: set[str] = set()
    lists: dict[str, tuple[str, Route]] = {}
    written: list[tuple[Route, dict[str, Any]]] = []
    left_out: list[str] = []
    gets = [route for route in routes if "GET" in route.methods]
    for route in gets:
        if not route.is_list or route.parameters:
            continue
        if route.shadowed_by:
            left_out.append(_left_out(route, f"shadowed: its path reaches {route.shadowed_by}"))
        elif route.path not in lists:
            name = _name(route, taken)
            lists[route.path] = (name, route)
            written.append((route, {"name": name, "path": route.path, "list": True}))
    paths = set(lists)
    for route in gets:
        if not route.parameters:
            continue
        path = ROUTE_PARAMETER.sub(r"{\1}", route.path)
        if route.shadowed_by:
            left_out.append(_left_out(route, f"shadowed: its paths reach {route.shadowed_by}"))
            continue
        parent = route.path[: route.path.index("<")]
        if len(route.parameters) != 1 or parent not in lists:
            left_out.append(_no_source(route))
            continue
        if path in paths:
            continue
        paths.add(path)
        source, listed = lists[parent]
        view = view_class(listed.callback)
        (parameter,) = route.parameters
        table = {
            "name": _name(route, taken),
            "path": path,
            "params": {
                parameter: {"from": source, "json": f"{_first_item(view)}.{_lookup_key(view)}"}
            },
        }
        if route.is_list:
            table["list"] = True
        written.append((route, table))
    return [(route, _endpoint_table(route, table)) for route, table in written], left_out


def _endpoint_table(route: Route, table: dict[str, Any]) -> dict[str, Any]:
    ordered: dict[str, Any] = {
        "name": table["name"],
        "method": "GET",
        "path": table["path"],
        "expected_status": 200,
    }
    if route.auth is False:
        ordered["auth"] = False
    if "list" in table:
        ordered["list"] = True
    if "params" in table:
        ordered["params"] = table["params"]
    return ordered


def _toml(table: dict[str, Any]) -> dict[str, Any]:
    """An endpoint table as TOML writes it: its params as inline tables, one line each."""
    if "params" not in table:
        return table
    params = tomlkit.inline_table()
    for parameter, source in table["params"].items():
        inner = tomlkit.inline_table()
        inner.update(source)
        params[parameter] = inner
    return {**table, "params": params}


def _section(values: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """The named settings in lower case, leaving out what TOML cannot hold (None) and
    empty tables."""
    return {key.lower(): values[key] for key in keys if values.get(key) not in (None, {})}


@dataclass(frozen=True)
class Draft:
    """The scenario as read off the URLconf, before the target has answered any request:
    its endpoints (route, table) and a comment for each GET route left out."""

    endpoints: list[tuple[Route, dict[str, Any]]]
    left_out: list[str]

    def settings(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """``config`` with the draft's endpoints as ``PERFTEST['ENDPOINTS']``: the plan the
        command sends each of them once with (``lifecycle.check.refusals``). No thresholds: nothing
        is judged, and an endpoint threshold of the settings names endpoints the draft lacks."""
        endpoints = [dict(table) for _, table in self.endpoints]
        return {**config, "ENDPOINTS": endpoints, "THRESHOLDS": []}


def draft(routes: list[Route]) -> Draft:
    """The starter scenario's endpoints and left-out routes, read off ``routes``."""
    return Draft(*_endpoints(routes))


def render(
    config: Mapping[str, Any],
    written: Draft,
    refused: Mapping[str, str] | None = None,
    unchecked: str = "",
) -> tuple[str, int]:
    """The scenario's text and how many endpoints it holds. ``refused``: the endpoints that
    did not answer as expected when sent once (name -> why), written as comments too;
    ``unchecked``: why the draft could not be sent (a note at the top), else ""."""
    refused = refused or {}
    head: dict[str, Any] = {}
    if config.get("SEEDER"):
        head["seeder"] = config["SEEDER"]
    head["login"] = _section(config["LOGIN"], _LOGIN_KEYS)
    head["identity"] = _section(config["IDENTITY"], _IDENTITY_KEYS)
    parts = [
        "# A starter scenario written by `manage.py perftest --write-scenario` from the\n"
        "# target's URLconf and the current settings. Keys are the PERFTEST keys in lower case\n"
        "# (README, 'Scenario files'). Check it: manage.py perftest --check --scenario FILE\n",
        f"# Not checked against the target: {unchecked}.\n" if unchecked else "",
        "\n",
        tomlkit.dumps(head),
    ]
    kept = [(route, table) for route, table in written.endpoints if table["name"] not in refused]
    for route, table in kept:
        parts.append(f"\n# view: {route.view}\n[[endpoints]]\n{tomlkit.dumps(_toml(table))}")
    left_out = [
        *written.left_out,
        *(
            _left_out(route, refused[table["name"]])
            for route, table in written.endpoints
            if table["name"] in refused
        ),
    ]
    if left_out:
        parts.append(
            f"\n# Left out: {quantity(len(left_out), 'GET route')} that this file would not "
            "measure as written.\n" + "\n".join(left_out) + "\n"
        )
    return "".join(parts), len(kept)


def refuse_existing(path: str, force: bool) -> None:
    """An existing file is not overwritten unless ``force`` (checked before any work)."""
    if Path(path).exists() and not force:
        raise ConfigError(f"{path}: the file exists; perftest does not overwrite it (--force).")


def write(path: str, text: str) -> None:
    """Write the scenario's text to ``path``; an unwritable place is a ConfigError."""
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write the scenario: {exc.strerror}.") from None
