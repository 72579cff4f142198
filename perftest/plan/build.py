"""Settings + command options -> a validated ``RunPlan``, built once.

Every option is checked against the settings here, so the rest of perftest reads a plan that
is known to be well formed; a value a user can fix raises ``ConfigError`` naming it. The mix
of a load level is parsed here too, once.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

from perftest import limits
from perftest.conf import ConfigError, in_range

from .capacity import capacity_plan
from .engine import with_engine
from .expressions import ExpressionError, parse_all, sources
from .model import Endpoint, HttpTarget, LoadPlan, LoginSpec, Mix, ParamSource, Role, RunPlan
from .roles import check_roles
from .soak import SoakPlan, soak_plan


def _pairs(mapping: Any) -> tuple[tuple[str, str], ...]:
    return tuple((str(key), str(value)) for key, value in (mapping or {}).items())


def _params(raw: Any) -> tuple[ParamSource, ...]:
    return tuple(
        ParamSource(
            name=name,
            seed=source.get("seed", ""),
            source=source.get("from", ""),
            json_path=source.get("json", ""),
        )
        for name, source in (raw or {}).items()
    )


def _roles(identity: dict[str, Any]) -> tuple[Role, ...]:
    return tuple(
        Role(role["name"], role.get("count", 1), {**identity["FIELDS"], **role.get("fields", {})})
        for role in identity["ROLES"]
    )


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
                query=_pairs(raw.get("query")),
                headers=_pairs(raw.get("headers")),
                weight=float(raw.get("weight", 1)),
                is_list=raw.get("list"),
                params=_params(raw.get("params")),
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


#: A run's label is stored in a column of this length (``Run.label``).
LABEL_MAX_CHARS = 200


def _label(text: str) -> str:
    """A label is one line of plain text that fits its column."""
    if len(text) > LABEL_MAX_CHARS:
        raise ConfigError(
            f"--label is {len(text)} characters long; give at most {LABEL_MAX_CHARS}."
        )
    if any(not character.isprintable() for character in text):
        raise ConfigError("--label must be one line of text, without line breaks or tabs.")
    return text


def parse_levels(text: str | None) -> tuple[int, ...]:
    """``"1,10,30"`` -> (1, 10, 30); every level a whole number of at least 1."""
    if not text:
        return ()
    levels = []
    for part in text.split(","):
        part = part.strip()
        if not part.lstrip("-").isdigit() or int(part) < 1:
            raise ConfigError(
                f"--concurrency takes whole numbers of at least 1 separated by commas, "
                f"not {part!r}."
            )
        levels.append(int(part))
    return tuple(levels)


def _mix(text: str | None, endpoints: Sequence[Endpoint]) -> Mix:
    return Mix.parse(text, endpoints) if text else Mix.default(endpoints)


def _level_workers(levels: tuple[int, ...], engine: str, most_threads: int) -> None:
    """Each level's workers are threads of this process: past ``most_threads`` they fight over
    one interpreter and the generator, not the server, sets the pace (and starting them hangs).
    Locust's users are greenlets spread over processes; a level of them has its range too."""
    top = max(levels, default=0)
    if engine == "threads" and top > most_threads:
        raise ConfigError(
            f"--concurrency {top} is above the thread engine's maximum of {most_threads} "
            f"workers (PERFTEST['MAX_THREAD_WORKERS']); for more load use the open model "
            "(--rate R with a smaller --concurrency pool) or run several perftest processes."
        )
    if top > limits.LOCUST_USERS.high:
        raise ConfigError(
            f"--concurrency {top} is above the {limits.LOCUST_USERS.high:,} users a level of "
            "--engine locust may start; give a smaller level."
        )


#: The options that shape load levels, and do nothing without one.
_LEVEL_OPTIONS = ("mix", "duration", "requests", "ramp_up", "identities", "login")


def _open_requests(rate: float, duration: float) -> None:
    """An open level plans floor(rate × duration) requests (``measure.load.open``): at least
    one, and no more than a level may hold."""
    planned = math.floor(rate * duration + 1e-9)
    if not 1 <= planned <= limits.LEVEL_REQUESTS.high:
        raise ConfigError(
            f"--rate {rate:g} for --duration {duration:g} s plans {planned:,} requests in one "
            f"level; an open level holds 1 to {limits.LEVEL_REQUESTS.high:,}: change --rate "
            "or --duration."
        )


#: The options a capacity search sets itself, and why each is refused beside ``--capacity``.
_NOT_WITH_CAPACITY = {
    "concurrency": "searches the rate itself, each step's worker pool sized to its rate",
    "rate": "searches the rate itself, each step's worker pool sized to its rate",
    "requests": "runs each step for a time (--duration), not a count",
    "ramp_up": "counts each step's open schedule whole, with no ramp-up",
}


def _capacity_load(
    config: dict[str, Any],
    options: dict[str, Any],
    endpoints: Sequence[Endpoint],
    thresholds: Sequence[str],
) -> LoadPlan:
    """``--capacity``: the steps of the search replace the levels."""
    for name, why in _NOT_WITH_CAPACITY.items():
        if options.get(name) is not None:
            raise ConfigError(
                f"--{name.replace('_', '-')} does not apply with --capacity, which {why}: "
                f"drop --{name.replace('_', '-')}."
            )
    if options.get("login") == "per-worker":
        raise ConfigError(
            "--capacity's steps share each identity's one login (their pools change size step "
            "by step, and THE_BOT rotates tokens on every login): drop --login per-worker."
        )
    step_s, identities = options.get("duration"), options.get("identities")
    in_range("--duration", step_s, limits.LEVEL_SECONDS)
    in_range("--identities", identities, limits.IDENTITIES)
    locust = options.get("engine") == "locust"
    search = capacity_plan(
        options["capacity"],
        thresholds,
        step_s=step_s,
        max_workers=limits.LOCUST_USERS.high if locust else config["MAX_THREAD_WORKERS"],
    )
    return LoadPlan(
        mix=_mix(options.get("mix"), endpoints),
        identities=identities,
        login_mode="once",
        capacity=search,
    )


def _soak(config: dict[str, Any], options: dict[str, Any]) -> SoakPlan:
    """``--soak``: one open level of ``--rate`` for the warm-up and the steady part."""
    if options.get("capacity") is not None:
        raise ConfigError("--soak holds one rate, --capacity searches one: give one of them.")
    rate = options.get("rate")
    if rate is None:
        raise ConfigError("--soak holds one open-model rate for hours: add --rate N (req/s).")
    if options.get("duration") is not None:
        raise ConfigError("--soak sets the level's length: drop --duration.")
    if options.get("engine") == "locust":
        raise ConfigError(
            "--soak runs on the thread engine, which stores the run as it goes: drop "
            "--engine locust."
        )
    soak = soak_plan(options["soak"], options.get("soak_warmup"), config)
    in_range("--rate", rate, limits.RATE)
    planned = math.floor(rate * soak.total_s + 1e-9)
    if not 1 <= planned <= limits.LEVEL_REQUESTS.high:
        raise ConfigError(
            f"--rate {rate:g} for the soak's {soak.total_s:g} s (warm-up included) plans "
            f"{planned:,} requests; a level holds 1 to {limits.LEVEL_REQUESTS.high:,}: "
            "change --rate or --soak."
        )
    return soak


def _load_plan(
    config: dict[str, Any],
    options: dict[str, Any],
    endpoints: Sequence[Endpoint],
    thresholds: Sequence[str],
) -> LoadPlan:
    if options.get("soak") is not None:
        soak = _soak(config, options)
        level = _levels_load(config, {**options, "duration": soak.total_s}, endpoints)
        return dataclasses.replace(level, soak=soak)
    if options.get("soak_warmup") is not None:
        raise ConfigError("--soak-warmup is the warm-up of a soak: add --soak DURATION.")
    if options.get("capacity") is not None:
        return _capacity_load(config, options, endpoints, thresholds)
    return _levels_load(config, options, endpoints)


def _levels_load(
    config: dict[str, Any], options: dict[str, Any], endpoints: Sequence[Endpoint]
) -> LoadPlan:
    """The closed levels of ``--concurrency``, or ``--rate``'s one open level."""
    levels = parse_levels(options.get("concurrency"))
    rate, duration, requests = options.get("rate"), options.get("duration"), options.get("requests")
    ramp_up, identities = options.get("ramp_up"), options.get("identities")
    in_range("--rate", rate, limits.RATE)
    in_range("--duration", duration, limits.LEVEL_SECONDS)
    in_range("--requests", requests, limits.LEVEL_REQUESTS)
    in_range("--ramp-up", ramp_up, limits.RAMP_UP)
    in_range("--identities", identities, limits.IDENTITIES)
    if not levels and rate is None:
        for name in _LEVEL_OPTIONS:
            if options.get(name) is not None:
                raise ConfigError(
                    f"--{name.replace('_', '-')} shapes the load levels, and there are none: "
                    "add --concurrency, --rate or --capacity."
                )
    if duration is not None and requests is not None:
        raise ConfigError("Give --duration or --requests per level, not both.")
    if rate is not None:
        if len(levels) > 1:
            raise ConfigError("--rate runs one open-model level: give one --concurrency (pool).")
        if requests is not None:
            raise ConfigError("--rate runs for --duration seconds; --requests is for levels.")
        if ramp_up is not None:
            raise ConfigError(
                "--ramp-up is for closed levels (--concurrency); an open level (--rate) counts "
                "its whole schedule: drop --ramp-up."
            )
        levels = levels or (10,)
    _level_workers(levels, options.get("engine") or "threads", config["MAX_THREAD_WORKERS"])
    if levels and requests is None and duration is None:
        duration = float(config["DURATION"])
    if rate is not None:
        _open_requests(rate, duration)
    mix = _mix(options.get("mix"), endpoints) if levels else None
    return LoadPlan(
        mix=mix,
        concurrency=levels,
        rate=rate,
        duration_s=duration if requests is None else None,
        requests=requests,
        ramp_up_s=config["RAMP_UP"] if ramp_up is None else ramp_up,
        identities=identities,
        login_mode=options.get("login") or "per-worker",
    )


def _thresholds(
    setting: Any, options: Sequence[str], endpoints: Sequence[str], roles: Sequence[str]
) -> tuple[str, ...]:
    """The settings' expressions then each ``--threshold``, all checked before anything runs:
    an unknown metric, unit, endpoint or role is a usage error, not a silently skipped check."""
    try:
        texts = (*sources(setting), *options)
        parse_all(texts, endpoints, roles)
    except ExpressionError as error:
        raise ConfigError(str(error)) from None
    return texts


def _baseline(text: str | None) -> str:
    """``--baseline``: a stored run's id or ``latest``; whether that run exists and measured
    the same plan is checked against storage before anything runs (``runner``)."""
    text = (text or "").strip()
    if text and text != "latest" and not (text.isdigit() and not limits.RUN_ID.problem(int(text))):
        raise ConfigError(
            f"--baseline takes a run id ({limits.RUN_ID.describe()}) or 'latest', not {text!r}."
        )
    return text


def build_plan(
    config: dict[str, Any],
    *,
    endpoints: str | None = None,
    iterations: int | None = None,
    warmup: int | None = None,
    label: str = "",
    output_dir: str | None = None,
    keep_data: bool = False,
    mode: str | None = None,
    base_url: str | None = None,
    server_pid: int | None = None,
    connect_timeout: float | None = None,
    read_timeout: float | None = None,
    thresholds: Sequence[str] = (),
    profile: int | None = None,
    explain: bool = False,
    baseline: str | None = None,
    fail_on_regression: bool = False,
    scenario: str = "",
    **load_options: Any,
) -> RunPlan:
    """The validated plan; ``load_options`` are the command's load options by name.

    ``scenario`` names the scenario file ``config`` was read with (``plan.scenario_file``).
    """
    in_range("--profile", profile, limits.PROFILE)
    baseline = _baseline(baseline)
    if fail_on_regression and not baseline:
        raise ConfigError("--fail-on-regression needs a run to compare with: add --baseline.")
    in_range("--iterations", iterations, limits.ITERATIONS)
    in_range("--warmup", warmup, limits.WARMUP)
    mode = mode or ("http" if base_url else "in-process")
    if mode in ("http", "both") and not base_url:
        raise ConfigError(f"--mode {mode} needs --base-url, e.g. http://127.0.0.1:8000.")
    if mode == "in-process" and base_url:
        raise ConfigError("--base-url measures over HTTP: use --mode http or --mode both.")
    if server_pid is not None and not base_url:
        raise ConfigError(
            "--server-pid names the server measured over HTTP; in-process runs sample perftest's "
            "own process. Add --base-url, or drop --server-pid."
        )
    for name, value in (("--connect-timeout", connect_timeout), ("--read-timeout", read_timeout)):
        if value is not None and not base_url:
            raise ConfigError(f"{name} is a timeout of HTTP requests: add --base-url.")
        in_range(name, value, limits.TIMEOUT)
    in_range("--server-pid", server_pid, limits.SERVER_PID)
    if not config["ENDPOINTS"]:
        raise ConfigError(
            "PERFTEST['ENDPOINTS'] is empty, so there is nothing to measure; list the API's "
            "endpoints there (name, method, path, expected_status)."
        )
    http = None
    if base_url:
        http = HttpTarget(
            base_url=base_url,
            connect_timeout=connect_timeout or config["CONNECT_TIMEOUT"],
            read_timeout=read_timeout or config["READ_TIMEOUT"],
            server_pid=server_pid,
        )
    raw_login = config["LOGIN"]
    login = LoginSpec(
        path=raw_login["PATH"],
        method=raw_login["METHOD"].upper(),
        body=raw_login["BODY"],
        token_path=raw_login["TOKEN_PATH"],
        header=raw_login["HEADER"],
        scheme=raw_login["SCHEME"],
        under_test=raw_login["UNDER_TEST"],
    )
    chosen = tuple(_select(_endpoints(config, login), endpoints))
    roles = _roles(config["IDENTITY"])
    texts = _thresholds(
        config["THRESHOLDS"],
        thresholds,
        [e["name"] for e in config["ENDPOINTS"]],
        [role.name for role in roles],
    )
    load = _load_plan(config, load_options, chosen, texts)
    load = with_engine(load, load_options, mode)
    check_roles(roles, load)
    return RunPlan(
        endpoints=chosen,
        login=login,
        identity=config["IDENTITY"],
        seeder=config["SEEDER"],
        iterations=config["ITERATIONS"] if iterations is None else iterations,
        warmup=config["WARMUP"] if warmup is None else warmup,
        resource_interval=config["RESOURCE_INTERVAL"],
        thresholds=texts,
        output_dir=output_dir or config["OUTPUT_DIR"],
        label=_label(label),
        keep_data=keep_data,
        mode=mode,
        http=http,
        load=load,
        stale_run_after_s=float(config["STALE_RUN_AFTER"]),
        profile=profile or 0,
        explain=explain,
        baseline=baseline,
        fail_on_regression=fail_on_regression,
        roles=roles,
        scenario=scenario,
    )
