"""``perftest --write-scenario FILE.toml``: a starter scenario read off the target's URLconf.

It holds the login and identity of the current settings, every GET list route that needs no
path parameter, and each detail route whose one parameter a list of the same resource can
give: its id is captured from that list's first answer (``results.0.id`` when the view
paginates, ``0.id`` when it answers a bare list). Each ``[[endpoints]]`` is preceded by a
comment naming its view, so the user can see what to keep.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomlkit

from perftest.conf import ConfigError

from .inventory import ROUTE_PARAMETER, Route, inventory, view_class

#: The settings of the login and identity a scenario repeats (the rest keep their defaults).
_LOGIN_KEYS = ("PATH", "METHOD", "BODY", "TOKEN_PATH", "HEADER", "SCHEME")
_IDENTITY_KEYS = ("EMAIL", "USERNAME", "FIELDS", "HOOK")


def _lookup_key(view: type | None) -> str:
    """The key of a list item that holds a detail route's lookup value: the lookup field,
    or for ``pk`` the name of the serializer's model's primary key (``id``)."""
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


def _endpoints(routes: list[Route]) -> list[tuple[str, dict[str, Any]]]:
    """(view, endpoint table) for each list route, then the detail routes a list feeds."""
    taken: set[str] = set()
    lists: dict[str, tuple[str, Route]] = {}
    written = []
    for route in routes:
        if "GET" in route.methods and route.is_list and not route.parameters:
            name = _name(route, taken)
            lists[route.path] = (name, route)
            written.append((route, {"name": name, "path": route.path, "list": True}))
    for route in routes:
        if "GET" not in route.methods or route.is_list or len(route.parameters) != 1:
            continue
        parent = ROUTE_PARAMETER.sub("", route.path).replace("//", "/")
        if parent not in lists:
            continue
        source, listed = lists[parent]
        view = view_class(listed.callback)
        json_path = f"{_first_item(view)}.{_lookup_key(view_class(route.callback))}"
        (parameter,) = route.parameters
        table = {
            "name": _name(route, taken),
            "path": ROUTE_PARAMETER.sub(r"{\1}", route.path),
            "params": {parameter: {"from": source, "json": json_path}},
        }
        written.append((route, table))
    return [(route.view, _endpoint_table(route, table)) for route, table in written]


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
        params = tomlkit.inline_table()
        for parameter, source in table["params"].items():
            inner = tomlkit.inline_table()
            inner.update(source)
            params[parameter] = inner
        ordered["params"] = params
    return ordered


def _section(values: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """The named settings in lower case, leaving out what TOML cannot hold (None) and
    empty tables."""
    return {key.lower(): values[key] for key in keys if values.get(key) not in (None, {})}


def render(config: Mapping[str, Any], routes: list[Route]) -> tuple[str, int]:
    """The scenario's text and how many endpoints it holds."""
    endpoints = _endpoints(routes)
    head: dict[str, Any] = {}
    if config.get("SEEDER"):
        head["seeder"] = config["SEEDER"]
    head["login"] = _section(config["LOGIN"], _LOGIN_KEYS)
    head["identity"] = _section(config["IDENTITY"], _IDENTITY_KEYS)
    parts = [
        "# A starter scenario written by `manage.py perftest --write-scenario` from the\n"
        "# target's URLconf and the current settings. Keys are the PERFTEST keys in lower case\n"
        "# (README, 'Scenario files'). Check it: manage.py perftest --check --scenario FILE\n\n",
        tomlkit.dumps(head),
    ]
    for view, table in endpoints:
        parts.append(f"\n# view: {view}\n[[endpoints]]\n{tomlkit.dumps(table)}")
    return "".join(parts), len(endpoints)


def write(path: str, config: Mapping[str, Any], *, force: bool = False) -> int:
    """Write the starter scenario to ``path``; refuse an existing file unless ``force``.
    Returns how many endpoints it holds."""
    target = Path(path)
    if target.exists() and not force:
        raise ConfigError(f"{path}: the file exists; perftest does not overwrite it (--force).")
    text, count = render(config, inventory()[0])
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write the scenario: {exc.strerror}.") from None
    return count
