"""What a run will do, as plain frozen data: endpoints, login, load shape, target, knobs.

A ``RunPlan`` is built and validated once (``plan.build``) and then only read: the measuring
core follows it, ``RunPlan.to_dict()`` is what a stored run keeps of it, and
``RunPlan.from_dict()`` reads that back, older shapes included (a key the stored plan lacks is
None, or its field's default). Nothing here knows how a request travels; the measuring core
turns an ``Endpoint`` into a request.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from perftest.conf import ConfigError

from .capacity import IDENTITIES as CAPACITY_IDENTITIES
from .capacity import CapacityPlan
from .expressions import AbortRule, abort_rules, from_legacy, parse_all
from .mix import Mix
from .soak import SoakPlan

_Part = TypeVar("_Part")


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _stored(cls: type[_Part], data: Any, **parsed: Any) -> _Part:
    """A plan part from its stored dict: the keys it knows (a field without a default is None
    when the stored plan lacks it), then ``parsed`` over them."""
    data, known = _mapping(data), {}
    for part in dataclasses.fields(cls):
        if part.name in data:
            known[part.name] = data[part.name]
        elif part.default is dataclasses.MISSING and part.default_factory is dataclasses.MISSING:
            known[part.name] = None
    return cls(**{**known, **parsed})


def _records(cls: type[_Part], stored: Any) -> tuple[_Part, ...]:
    """The stored dicts of a list as plan parts (anything else in it skipped)."""
    return tuple(_stored(cls, item) for item in stored or () if isinstance(item, Mapping))


@dataclass(frozen=True)
class LoginSpec:
    path: str
    method: str
    body: Any
    token_path: str
    header: str
    scheme: str
    #: ``PERFTEST["LOGIN"]["UNDER_TEST"]``: the login is judged as any endpoint (slowest, worst
    #: p95, the charts' scale). By default it is set apart: its password hash, slow on purpose,
    #: would otherwise always be the "slowest endpoint" and squash every other bar.
    under_test: bool = False

    @property
    def where(self) -> str:
        """The login endpoint as planned, e.g. ``POST /api/auth/login/``."""
        where = f"{self.method or ''} {self.path or ''}".strip()
        return where or "the login endpoint"


@dataclass(frozen=True)
class ConfigurationProblem:
    """Why an endpoint, as configured, cannot be measured or judged as meant.

    ``problem`` is a short key ("no route", "router root"), ``detail`` one sentence, and
    ``suggestions`` the routes the user probably meant. ``skip`` is True when there is nothing
    to send (no route); a router root is still sent, but its latency gets no verdict.
    """

    problem: str
    detail: str
    suggestions: tuple[str, ...] = ()
    skip: bool = False

    @classmethod
    def router_root(cls, path: str, routes: Sequence[str]) -> ConfigurationProblem:
        """A path that answers with links to list routes (a DRF router root), not with data."""
        return cls(
            "router root",
            f"{path} is a DRF router root: it answers with links to "
            f"{len(routes)} list route(s), not with data",
            tuple(routes),
        )

    def as_dict(self) -> dict[str, Any]:
        """As ``EndpointResult.configuration`` stores it."""
        return {"problem": self.problem, "detail": self.detail, "suggestions": [*self.suggestions]}


@dataclass(frozen=True)
class ParamSource:
    """Where the value of one ``{placeholder}`` of an endpoint's path comes from.

    Either ``seed``, the name of a value the seeder returned, or ``source`` (an endpoint
    measured earlier) and ``json_path`` (a dotted path into its JSON answer, ``results.0.id``).
    """

    name: str
    seed: str = ""
    source: str = ""
    json_path: str = ""


@dataclass(frozen=True)
class Throttle:
    """A DRF throttle class of an endpoint's view, as in-process discovery reads it.

    ``own`` is True when the view chose it (its ``throttle_classes``, an action's, or the
    scope a ``ScopedRateThrottle`` reads off the view), False for REST_FRAMEWORK's
    ``DEFAULT_THROTTLE_CLASSES``. ``rate`` is as configured (``10/min``; "" when none could be
    read) and ``window_s`` the seconds it counts over, the longest Retry-After it answers.
    """

    name: str
    own: bool
    scope: str = ""
    rate: str = ""
    window_s: int | None = None


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str
    expected_status: int
    auth: bool
    body: Any = None
    is_login: bool = False
    #: Set by the pre-flight route check (``plan.routes``); None when the route is sound.
    problem: ConfigurationProblem | None = None
    #: Query string pairs and extra request headers, in the order given.
    query: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    #: Its share of a load level's default mix.
    weight: float = 1.0
    #: Whether it answers a list: as configured, else None (the route decides).
    is_list: bool | None = None
    #: How each ``{placeholder}`` of ``path`` is filled.
    params: tuple[ParamSource, ...] = ()
    #: The DRF throttles of its view, read by the pre-flight route check (``plan.routes``).
    throttles: tuple[Throttle, ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Endpoint:
        """An endpoint as ``RunPlan.to_dict`` stored it (query and headers as names to values)."""
        problem = data.get("problem")
        return _stored(
            cls,
            data,
            is_login=bool(data.get("is_login")),
            problem=_stored(ConfigurationProblem, problem)
            if isinstance(problem, Mapping)
            else None,
            query=tuple(_mapping(data.get("query")).items()),
            headers=tuple(_mapping(data.get("headers")).items()),
            params=_records(ParamSource, data.get("params")),
            throttles=_records(Throttle, data.get("throttles")),
        )


@dataclass(frozen=True)
class Role:
    """A kind of user measured in the run: ``count`` identities with these user fields."""

    name: str
    count: int
    fields: dict[str, Any] = dataclasses.field(default_factory=dict)


#: How latency is also kept per time window, every run alike (``measure.windows`` records it;
#: the report's methodology states it): windows start this many seconds wide, and at most
#: ``MAX_WINDOWS`` are kept per endpoint or level, the width doubling rather than exceed it.
FIRST_WINDOW_S = 1
MAX_WINDOWS = 60


@dataclass(frozen=True)
class Engine:
    """Who sends a level's requests: perftest's threads in this process, or Locust.

    With ``locust``, each level runs on Locust's distributed runner: a master process and
    ``processes`` local worker processes, plus ``remote_workers`` workers that join from other
    machines at ``master_bind`` (``--master``). Empty ``master_bind``: a free loopback port.
    """

    name: str = "threads"
    processes: int = 0
    remote_workers: int = 0
    master_bind: str = ""

    @property
    def workers(self) -> int:
        """Worker processes every level waits for before it starts."""
        return self.processes + self.remote_workers


@dataclass(frozen=True)
class LoadPlan:
    """Concurrency levels (closed model) or an arrival rate (open model), and their knobs.

    ``mix`` is None only when the plan has no level (``active`` is False).
    """

    concurrency: tuple[int, ...] = ()
    rate: float | None = None
    duration_s: float | None = None
    requests: int | None = None
    #: None (as ``login_mode``) only in a stored plan that did not keep it.
    ramp_up_s: float | None = 1.0
    mix: Mix | None = None
    identities: int | None = None
    login_mode: str | None = "per-worker"
    engine: Engine = Engine()
    #: ``--capacity``'s search (``plan.capacity``), which replaces the levels; None without.
    capacity: CapacityPlan | None = None
    #: ``--soak``'s warm-up, steady part and checkpoints (``plan.soak``): its one open level
    #: lasts ``soak.total_s`` (``duration_s``); None without.
    soak: SoakPlan | None = None

    @property
    def model(self) -> str:
        """``open`` when requests arrive at a fixed rate (a capacity search's steps too)."""
        return "open" if self.rate is not None or self.capacity is not None else "closed"

    @property
    def workers_max(self) -> int:
        return max(self.concurrency, default=0)

    @property
    def active(self) -> bool:
        return bool(self.concurrency) or self.capacity is not None


@dataclass(frozen=True)
class HttpTarget:
    base_url: str
    connect_timeout: float
    read_timeout: float
    server_pid: int | None = None


@dataclass(frozen=True)
class RunPlan:
    endpoints: tuple[Endpoint, ...]
    login: LoginSpec
    identity: dict[str, Any]
    seeder: str | None
    iterations: int
    warmup: int
    resource_interval: float
    #: Threshold expressions (``plan.expressions``), endpoint-scoped ones as ``p95{name} < …``.
    thresholds: tuple[str, ...]
    output_dir: str
    label: str
    keep_data: bool
    mode: str = "in-process"
    http: HttpTarget | None = None
    load: LoadPlan = LoadPlan()
    #: Seconds after which a run still marked running is taken as dead (``STALE_RUN_AFTER``).
    stale_run_after_s: float = 6 * 3600
    #: Extra requests per endpoint run under cProfile after the measured ones (0: none).
    profile: int = 0
    #: EXPLAIN the costly SELECT statements of each endpoint (PostgreSQL, in-process).
    explain: bool = False
    #: The run to compare with: a run id as text, ``"latest"``, or "" for none.
    baseline: str = ""
    #: Exit 3 when the comparison with the baseline finds a regression.
    fail_on_regression: bool = False
    #: The roles of ``PERFTEST['IDENTITY']['ROLES']``; empty for one unnamed role.
    roles: tuple[Role, ...] = ()
    #: The scenario file the plan was read from, or "" for the settings alone.
    scenario: str = ""
    #: The target's routes (``plan.inventory`` paths) when the plan was checked: stored with
    #: the run so that ``--check --baseline`` can name the routes added since (None for a run
    #: stored before routes were kept).
    routes: tuple[str, ...] | None = ()

    @property
    def set_apart(self) -> frozenset[str]:
        """The endpoints left out of the endpoints under test: the login's (its password hash
        is slow on purpose), unless ``PERFTEST["LOGIN"]["UNDER_TEST"]`` puts it under test."""
        if self.login.under_test:
            return frozenset()
        return frozenset(e.name for e in self.endpoints if e.is_login)

    @property
    def aborts(self) -> tuple[AbortRule, ...]:
        """The thresholds marked ``abort``, as plain rules the load harness checks."""
        return abort_rules(parse_all(self.thresholds))

    @property
    def identity_count(self) -> int:
        """One identity per worker by default (THE_BOT rotates tokens on every login); with
        roles, the roles' counts fix it (``plan.roles`` checks the workers fit)."""
        if self.roles:
            return sum(role.count for role in self.roles)
        if self.load.capacity is not None:  # the steps' workers share each identity's login
            return self.load.identities or CAPACITY_IDENTITIES
        workers = self.load.workers_max
        if not workers:
            return 1
        return min(self.load.identities or workers, workers)

    def to_dict(self) -> dict[str, Any]:
        """The plan as a stored run keeps it: plain JSON data, the mix as the user wrote it.

        Secrets are not masked here; the runner passes the snapshot through its redactor.
        """
        data = dataclasses.asdict(self)
        data["load"]["mix"] = self.load.mix.text if self.load.mix else None
        for endpoint in data["endpoints"]:
            # Names to values, so the redactor masks the values of sensitive-looking names
            # (Authorization, Cookie, X-Api-Key, token=…) as it does in any setting.
            endpoint["headers"] = dict(endpoint["headers"])
            endpoint["query"] = dict(endpoint["query"])
        return data

    @classmethod
    def from_dict(cls, config: Any) -> RunPlan:
        """A stored plan (``Run.config``): ``{"load": {...}, "http": {...}}``, or the older flat
        keys of earlier versions.

        Flat keys (``"rate"``, ``"duration"``, ``"base_url"``, a ``"login"`` string naming the
        login mode...) fill whatever the nested shape leaves empty; an old dict of threshold
        limits is read as its equivalent expressions, and a stored mix keeps the text the user
        wrote (its weights when its names are still among the endpoints).
        """
        config = _mapping(config)
        load, http = _mapping(config.get("load")), _mapping(config.get("http"))

        def pick(source: Mapping[str, Any], key: str, flat: str) -> Any:
            value = source.get(key)
            return config.get(flat) if value is None else value

        stored = config.get("endpoints") or ()
        endpoints = tuple(Endpoint.from_dict(e) for e in stored if isinstance(e, Mapping))
        flat_http = {key: pick(http, key, key) for key in ("base_url", "server_pid")}
        thresholds = config.get("thresholds")
        if not isinstance(thresholds, (list, tuple)):
            thresholds = from_legacy(_mapping(thresholds))
        flat_login = config.get("login") if isinstance(config.get("login"), str) else None
        return _stored(
            cls,
            config,
            endpoints=endpoints,
            login=_stored(LoginSpec, config.get("login")),
            identity=dict(_mapping(config.get("identity"))),
            thresholds=tuple(map(str, thresholds)),
            http=None
            if flat_http["base_url"] is None and not http
            else _stored(HttpTarget, http, **flat_http),
            load=LoadPlan(
                concurrency=tuple(pick(load, "concurrency", "concurrency") or ()),
                rate=pick(load, "rate", "rate"),
                duration_s=pick(load, "duration_s", "duration"),
                requests=pick(load, "requests", "requests"),
                ramp_up_s=pick(load, "ramp_up_s", "ramp_up"),
                mix=_stored_mix(pick(load, "mix", "mix"), endpoints),
                identities=pick(load, "identities", "identities"),
                login_mode=load.get("login_mode") or flat_login,
                engine=_stored(Engine, load.get("engine")),
                capacity=CapacityPlan.from_dict(load.get("capacity")),
                soak=SoakPlan.from_dict(load.get("soak")),
            ),
            profile=int(config.get("profile") or 0),
            explain=bool(config.get("explain")),
            roles=_records(Role, config.get("roles")),
            routes=tuple(config["routes"]) if isinstance(config.get("routes"), list) else None,
        )


def _stored_mix(text: Any, endpoints: Sequence[Endpoint]) -> Mix | None:
    """A stored mix: the text as written, parsed again unless its names are no longer the plan's."""
    if not text:
        return None
    try:
        return Mix.parse(str(text), endpoints)
    except ConfigError:
        return Mix((), str(text))
