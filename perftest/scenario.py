"""What to measure: endpoints, the login flow and the run's knobs, validated up front.

``build_plan`` joins the settings with the command's options; ``check_routes`` resolves every
configured path against the target's URLconf, so a missing route is reported as a
configuration problem before anything runs, never as a slow or failing endpoint.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.urls import Resolver404, resolve

from .conf import ConfigError
from .transport.base import RequestSpec


@dataclass(frozen=True)
class LoginSpec:
    path: str
    method: str
    body: Any
    token_path: str
    header: str
    scheme: str


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str
    expected_status: int
    auth: bool
    body: Any = None
    is_login: bool = False

    def request(self, headers: tuple[tuple[str, str], ...] = (), body: Any = None) -> RequestSpec:
        """The request for this endpoint; ``body`` (JSON) overrides the configured one."""
        payload = self.body if body is None else body
        data = None if payload is None else json.dumps(payload).encode()
        return RequestSpec(
            self.name,
            self.method,
            self.path,
            headers if self.auth else (),
            data,
            "application/json" if data is not None else None,
        )


@dataclass(frozen=True)
class RunPlan:
    endpoints: tuple[Endpoint, ...]
    login: LoginSpec
    identity: dict[str, Any]
    seeder: str | None
    iterations: int
    warmup: int
    resource_interval: float
    thresholds: dict[str, float]
    output_dir: str
    label: str
    keep_data: bool


def _endpoints(config: dict[str, Any], login: LoginSpec) -> list[Endpoint]:
    endpoints = []
    for raw in config["ENDPOINTS"]:
        method = raw["method"].upper()
        is_login = method == login.method.upper() and raw["path"] == login.path
        endpoints.append(
            Endpoint(
                name=raw["name"],
                method=method,
                path=raw["path"],
                expected_status=raw.get("expected_status", 200),
                auth=raw.get("auth", not is_login),
                body=raw.get("body"),
                is_login=is_login,
            )
        )
    return endpoints


def _select(endpoints: list[Endpoint], names: str | None) -> list[Endpoint]:
    if not names:
        return endpoints
    by_name = {e.name.casefold(): e for e in endpoints}
    chosen = []
    for name in (n.strip() for n in names.split(",")):
        if not name:
            continue
        endpoint = by_name.get(name.casefold())
        if endpoint is None:
            known = ", ".join(e.name for e in endpoints)
            raise ConfigError(f"--endpoints names an unknown endpoint {name!r}; known: {known}.")
        if endpoint not in chosen:
            chosen.append(endpoint)
    if not chosen:
        raise ConfigError("--endpoints names no endpoint; give names separated by commas.")
    return chosen


def build_plan(
    config: dict[str, Any],
    *,
    endpoints: str | None = None,
    iterations: int | None = None,
    warmup: int | None = None,
    label: str = "",
    output_dir: str | None = None,
    keep_data: bool = False,
) -> RunPlan:
    if iterations is not None and iterations < 1:
        raise ConfigError(f"--iterations must be at least 1, not {iterations}.")
    if warmup is not None and warmup < 0:
        raise ConfigError(f"--warmup must be 0 or more, not {warmup}.")
    raw_login = config["LOGIN"]
    login = LoginSpec(
        path=raw_login["PATH"],
        method=raw_login["METHOD"].upper(),
        body=raw_login["BODY"],
        token_path=raw_login["TOKEN_PATH"],
        header=raw_login["HEADER"],
        scheme=raw_login["SCHEME"],
    )
    return RunPlan(
        endpoints=tuple(_select(_endpoints(config, login), endpoints)),
        login=login,
        identity=config["IDENTITY"],
        seeder=config["SEEDER"],
        iterations=config["ITERATIONS"] if iterations is None else iterations,
        warmup=config["WARMUP"] if warmup is None else warmup,
        resource_interval=config["RESOURCE_INTERVAL"],
        thresholds=dict(config["THRESHOLDS"]),
        output_dir=output_dir or config["OUTPUT_DIR"],
        label=label,
        keep_data=keep_data,
    )


def check_routes(plan: RunPlan, urlconf: str | None = None) -> None:
    """Raise ConfigError naming every configured path the URLconf does not serve."""
    missing = []
    paths = [(e.name, e.path) for e in plan.endpoints]
    if any(e.auth for e in plan.endpoints):
        paths.append(("login", plan.login.path))
    for name, path in paths:
        try:
            resolve(path.split("?", 1)[0], urlconf)
        except Resolver404:
            missing.append(f"{name} ({path})")
    if missing:
        raise ConfigError(
            "No route in the URLconf for: "
            + ", ".join(missing)
            + "; fix the paths in PERFTEST['ENDPOINTS'] or PERFTEST['LOGIN']."
        )
