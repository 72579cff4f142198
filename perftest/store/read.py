"""The one typed way to read a stored run: its plan snapshot and its rows, grouped by phase.

Analysis and reports read a ``StoredRun`` instead of querying the models, so the run's
configuration snapshot is parsed in one place (old snapshots may lack keys or use the flat
shape of earlier versions) and every row is fetched once, in a known order.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from perftest import models
from perftest.plan import model as plan_model
from perftest.plan.expressions import Threshold, from_legacy, legacy_limits, parse_all
from perftest.text import error_groups

#: The states and verdicts of a run and the load models of a level, named without importing
#: the models.
Status = models.Run.Status
VerdictWord = models.Run.Verdict
LevelModel = models.LoadLevel.Model

#: How latency per time window is kept (``Windows``), named for the reports that state it.
FIRST_WINDOW_S, MAX_WINDOWS = plan_model.FIRST_WINDOW_S, plan_model.MAX_WINDOWS
#: A finding's stored fields, as the analysis hands them over (``analysis.rules.base.Finding``).
FINDING_FIELDS = (
    "kind",
    "rule",
    "subject",
    "title",
    "evidence",
    "recommendation",
    "target",
    "actual",
    "passed",
)

#: Where ``Run.environment`` keeps the busiest other processes of each level, by position.
OTHER_PROCESSES = "other_processes_by_level"
#: Where ``Run.environment`` keeps the machine's calibration samples and the CPU of each
#: sequential phase (``measure.calibration.Calibration.to_dict``).
CALIBRATION = "calibration"


@dataclass(frozen=True)
class MachineUse:
    """What the machine gave one phase of a run: cores busy on the whole machine and cores
    used by processes other than perftest and the target (None when not read), with the
    busiest of those others ({"name", "pid", "cores"}, most first)."""

    system_cores: float | None
    other_cores: float | None
    others: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class CalibrationSamples:
    """The run's calibration: reference workload and trivial request timings (ns)."""

    reference_ns: tuple[int, ...] = ()
    trivial_ns: tuple[int, ...] = ()
    reference_rounds: int | None = None
    trivial_path: str = ""
    #: Each sample is the fastest of this many timings.
    timings_per_sample: int = 1


class RunNotFound(LookupError):
    """No run is stored under the id asked for."""


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


@dataclass(frozen=True)
class LoadSnapshot:
    """The load knobs the run was planned with (``--concurrency``, ``--rate``, ...)."""

    concurrency: tuple[int, ...] = ()
    rate: float | None = None
    duration_s: float | None = None
    requests: int | None = None
    ramp_up_s: float | None = None
    mix: str | None = None
    identities: int | None = None
    login_mode: str | None = None


@dataclass(frozen=True)
class HttpSnapshot:
    """Where an HTTP run sent its requests; empty for an in-process run."""

    base_url: str | None = None
    server_pid: int | None = None
    connect_timeout: float | None = None
    read_timeout: float | None = None


#: What of each endpoint a plan fingerprint covers (its body is the seeded data's concern).
_ENDPOINT_KEYS = ("name", "method", "path", "expected_status", "auth")


def _value_text(value: Any) -> str:
    """A plan value in a difference: ``1,10``, ``0.5``, ``none``."""
    if value is None or value == []:
        return "none"
    if isinstance(value, list):
        return ",".join(_value_text(item) for item in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _endpoint_text(endpoint: Mapping[str, Any]) -> str:
    """``GET /api/x/ 200 (auth)``: an endpoint as a plan difference names it."""
    auth = " (auth)" if endpoint.get("auth") else ""
    return (
        f"{endpoint.get('method')} {endpoint.get('path')} {endpoint.get('expected_status')}{auth}"
    )


def _expressions(stored: Any) -> tuple[str, ...]:
    """Stored thresholds as expressions: a list as stored, the old dict (or none) mapped."""
    if isinstance(stored, (list, tuple)):
        return tuple(str(text) for text in stored)
    return from_legacy(_mapping(stored))


@dataclass(frozen=True)
class PlanSnapshot:
    """The plan as stored with the run (secrets removed); a key the snapshot lacks is None."""

    endpoints: tuple[Mapping[str, Any], ...] = ()
    login: Mapping[str, Any] = field(default_factory=dict)
    identity: Mapping[str, Any] = field(default_factory=dict)
    seeder: str | None = None
    iterations: int | None = None
    warmup: int | None = None
    resource_interval: float | None = None
    #: Threshold expressions; an old run's dict of limits is read as its equivalent ones.
    thresholds: tuple[str, ...] = ()
    output_dir: str | None = None
    label: str | None = None
    keep_data: bool | None = None
    mode: str | None = None
    http: HttpSnapshot = field(default_factory=HttpSnapshot)
    load: LoadSnapshot = field(default_factory=LoadSnapshot)
    #: ``--profile N`` (0 when not asked) and ``--explain``, as asked; older runs asked neither.
    profile: int = 0
    explain: bool = False
    #: ``--baseline`` as given: a run id as text, ``latest``, or "" (None in older runs).
    baseline: str | None = None
    fail_on_regression: bool | None = None
    #: The target's routes when the run was planned (None for runs stored before they were).
    routes: tuple[str, ...] | None = None
    #: The scenario file the plan was read from ("" or None: the settings alone).
    scenario: str | None = None
    #: The roles measured (``IDENTITY["ROLES"]``: name, count, fields); () for one role.
    roles: tuple[Mapping[str, Any], ...] = ()

    @classmethod
    def parse(cls, config: Any) -> PlanSnapshot:
        """Read ``Run.config``: ``{"load": {...}, "http": {...}}``, or the older flat keys.

        Flat keys (``"rate"``, ``"duration"``, ``"base_url"``, a ``"login"`` string naming the
        login mode...) fill whatever the nested shape leaves empty. The limits are the
        defaults overlaid with the stored ones, since an old snapshot may hold only some.
        """
        config = _mapping(config)
        load, http = _mapping(config.get("load")), _mapping(config.get("http"))

        def pick(source: Mapping[str, Any], key: str, flat: str) -> Any:
            value = source.get(key)
            return config.get(flat) if value is None else value

        flat_login = config.get("login") if isinstance(config.get("login"), str) else None
        return cls(
            endpoints=tuple(e for e in config.get("endpoints") or () if isinstance(e, Mapping)),
            login=_mapping(config.get("login")),
            identity=_mapping(config.get("identity")),
            seeder=config.get("seeder"),
            iterations=config.get("iterations"),
            warmup=config.get("warmup"),
            resource_interval=config.get("resource_interval"),
            thresholds=_expressions(config.get("thresholds")),
            output_dir=config.get("output_dir"),
            label=config.get("label"),
            keep_data=config.get("keep_data"),
            mode=config.get("mode"),
            http=HttpSnapshot(
                base_url=pick(http, "base_url", "base_url"),
                server_pid=pick(http, "server_pid", "server_pid"),
                connect_timeout=http.get("connect_timeout"),
                read_timeout=http.get("read_timeout"),
            ),
            load=LoadSnapshot(
                concurrency=tuple(pick(load, "concurrency", "concurrency") or ()),
                rate=pick(load, "rate", "rate"),
                duration_s=pick(load, "duration_s", "duration"),
                requests=pick(load, "requests", "requests"),
                ramp_up_s=pick(load, "ramp_up_s", "ramp_up"),
                mix=pick(load, "mix", "mix"),
                identities=pick(load, "identities", "identities"),
                login_mode=load.get("login_mode") or flat_login,
            ),
            profile=int(config.get("profile") or 0),
            explain=bool(config.get("explain")),
            baseline=config.get("baseline"),
            fail_on_regression=config.get("fail_on_regression"),
            routes=tuple(config["routes"]) if isinstance(config.get("routes"), list) else None,
            scenario=config.get("scenario"),
            roles=tuple(r for r in config.get("roles") or () if isinstance(r, Mapping)),
        )

    def measures(self) -> dict[str, Any]:
        """What the plan measures, the part two runs must share to be compared: endpoints
        (by name, order aside), mode, iterations, warm-up and the load. Labels, thresholds,
        output and diagnostics change the verdicts or the reports, not the figures."""
        load = self.load
        roles = {"roles": self.role_counts()} if self.roles else {}
        return {
            **roles,
            "endpoints": sorted(
                ({key: endpoint.get(key) for key in _ENDPOINT_KEYS} for endpoint in self.endpoints),
                key=lambda endpoint: str(endpoint["name"]),
            ),
            "mode": self.mode,
            "iterations": self.iterations,
            "warmup": self.warmup,
            "load": {
                "concurrency": list(load.concurrency),
                "rate": load.rate,
                "duration_s": load.duration_s,
                "requests": load.requests,
                "ramp_up_s": load.ramp_up_s,
                "mix": load.mix,
                "identities": load.identities,
                "login_mode": load.login_mode,
            },
        }

    def role_counts(self) -> list[str]:
        """``student×5``, ``teacher×2``: the roles as the fingerprint and differences name
        them (a run without roles has no such key, so its fingerprint is as before)."""
        return [f"{role.get('name')}×{role.get('count')}" for role in self.roles]

    @cached_property
    def fingerprint(self) -> str:
        """sha256 of ``measures()`` as canonical JSON: equal for runs that can be compared."""
        canonical = json.dumps(self.measures(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def differences(
        self, other: PlanSnapshot, own: str = "this plan", others: str = "the other plan"
    ) -> list[str]:
        """Each way ``other`` measures differently, one short phrase each, this plan's value
        first: ``iterations 20 → 50``, ``endpoint Get Lessons only in run #12``."""
        mine, theirs = self.measures(), other.measures()
        found: list[str] = []
        by_name = {e["name"]: e for e in mine["endpoints"]}
        other_by_name = {e["name"]: e for e in theirs["endpoints"]}
        for name, endpoint in by_name.items():
            if name not in other_by_name:
                found.append(f"endpoint {name} only in {own}")
            elif endpoint != other_by_name[name]:
                found.append(
                    f"endpoint {name} {_endpoint_text(endpoint)} → "
                    f"{_endpoint_text(other_by_name[name])}"
                )
        found += [
            f"endpoint {name} only in {others}" for name in other_by_name if name not in by_name
        ]
        for key in ("roles", "mode", "iterations", "warmup"):
            if mine.get(key) != theirs.get(key):
                found.append(f"{key} {_value_text(mine.get(key))} → {_value_text(theirs.get(key))}")
        for key, value in mine["load"].items():
            if value != theirs["load"][key]:
                found.append(
                    f"{key.replace('_', ' ')} {_value_text(value)} → "
                    f"{_value_text(theirs['load'][key])}"
                )
        return found

    @property
    def login_endpoint(self) -> str:
        """The login endpoint as planned, e.g. ``POST /api/auth/login/``."""
        where = f"{self.login.get('method', '')} {self.login.get('path', '')}".strip()
        return where or "the login endpoint"


def unmeasured(endpoint: models.EndpointResult) -> str:
    """Why an endpoint has no figures ("" when it has some): its stored reason, or none ran."""
    if endpoint.not_measured:
        return endpoint.not_measured
    if endpoint.requests:
        return ""
    if endpoint.interrupted:
        return "the run was interrupted before a request completed"
    return "no request completed"


def measured(endpoints: Iterable[models.EndpointResult]) -> list[models.EndpointResult]:
    """The endpoints that have figures."""
    return [endpoint for endpoint in endpoints if not unmeasured(endpoint)]


def unjudged(figures: Any) -> str:
    """Why an endpoint or level has no latency verdict ("" when it has one).

    Verdicts (percentiles, throughput, rankings, SQL share) come from the answers as
    expected only; figures with none of those have nothing to judge, however many answers
    they counted. An endpoint with a configuration problem (a DRF router root) answered
    something other than the data it was meant to time, so it is not judged either.
    """
    reason = unmeasured(figures) if isinstance(figures, models.EndpointResult) else ""
    if reason:
        return reason
    problem = getattr(figures, "configuration", None)
    if problem:
        return f"not judged: {problem.get('detail') or problem.get('problem')}"
    if not figures.requests:
        return "no request was counted"
    if figures.ok:
        return ""
    return f"no answer as expected: {error_groups(figures.errors) or 'no reason stored'}"


def judged(rows: Iterable[Any]) -> list[Any]:
    """The endpoints or levels that have a latency verdict (some answer as expected)."""
    return [row for row in rows if not unjudged(row)]


def _percentile_ms(buckets: Iterable[tuple[int, int]], count: int, percentile: float) -> float:
    """The first bucket value (µs, ascending) at which ``percentile`` % of ``count`` answers
    are reached, in ms, with HdrHistogram's rank (rounded, at least one answer)."""
    rank = max(1, int(min(percentile, 100.0) * count / 100 + 0.5))
    seen = 0
    for value, n in buckets:
        seen += n
        if seen >= rank:
            return value / 1000
    return 0.0


@dataclass(frozen=True)
class Window:
    """One time window of stored latency: its start, its answers as expected, their buckets."""

    offset_s: float
    count: int
    #: (bucket value in µs, answers), ascending by value.
    values_us: tuple[tuple[int, int], ...]

    def percentile_ms(self, percentile: float) -> float:
        return _percentile_ms(self.values_us, self.count, percentile)


@dataclass(frozen=True)
class Windows:
    """An endpoint's or level's latency per time window (``MeasuredFigures.windows``), read.

    The baseline comparison resamples these windows and the charts draw them over time. Rows
    stored before windows existed, and rows without an answer as expected, read as none.
    """

    width_s: float = 0.0
    windows: tuple[Window, ...] = ()

    @classmethod
    def from_stored(cls, stored: Any) -> Windows:
        stored = _mapping(stored)
        windows = tuple(
            Window(
                offset_s=window["offset_s"],
                count=window["count"],
                values_us=tuple((value, count) for value, count in window["values_us"]),
            )
            for window in stored.get("windows") or ()
        )
        return cls(stored.get("width_s", 0.0), windows) if windows else cls()

    def pooled(self) -> Window:
        """Every window's answers as one (its percentiles are the row's within the buckets'
        resolution); a bootstrap pools resampled windows the same way."""
        buckets: dict[int, int] = {}
        for window in self.windows:
            for value, count in window.values_us:
                buckets[value] = buckets.get(value, 0) + count
        total = sum(window.count for window in self.windows)
        return Window(0.0, total, tuple(sorted(buckets.items())))


def _fill_ok_throughput(level: models.LoadLevel) -> models.LoadLevel:
    """Older code stored no ``ok_throughput``: it is the answers as expected over the window."""
    if not level.ok_throughput and level.ok and level.window_s:
        level.ok_throughput = level.ok / level.window_s
    return level


@dataclass(frozen=True)
class StoredRun:
    """A stored run and its rows, each list in stored order, read once.

    ``sequential`` is the measured pass every report and rule reads; ``sequential_http`` is the
    second, HTTP pass of ``--mode both``; ``levels`` are the load levels, whose per-endpoint
    rows ``endpoints_of`` returns.
    """

    row: models.Run
    plan: PlanSnapshot
    sequential: tuple[models.EndpointResult, ...]
    sequential_http: tuple[models.EndpointResult, ...]
    levels: tuple[models.LoadLevel, ...]
    level_endpoints: Mapping[int, tuple[models.EndpointResult, ...]]
    samples: tuple[models.ResourceSample, ...]
    findings: tuple[models.Finding, ...]

    @classmethod
    def of(cls, row: models.Run) -> StoredRun:
        """Read every row of ``row`` (one query per table)."""
        endpoints = list(row.endpoints.all())
        by_level: dict[int, list[models.EndpointResult]] = {}
        for endpoint in endpoints:
            if endpoint.phase == "level":
                by_level.setdefault(endpoint.level_id, []).append(endpoint)
        return cls(
            row=row,
            plan=PlanSnapshot.parse(row.config),
            sequential=tuple(e for e in endpoints if e.phase == "sequential"),
            sequential_http=tuple(e for e in endpoints if e.phase == "sequential-http"),
            levels=tuple(_fill_ok_throughput(level) for level in row.levels.all()),
            level_endpoints={level: tuple(rows) for level, rows in by_level.items()},
            samples=tuple(row.resource_samples.all()),
            findings=tuple(row.findings.all()),
        )

    @property
    def pk(self) -> int:
        return self.row.pk

    @property
    def status(self) -> str:
        return self.row.status

    @cached_property
    def measured(self) -> list[models.EndpointResult]:
        """The sequential endpoints that have figures."""
        return measured(self.sequential)

    @cached_property
    def judged(self) -> list[models.EndpointResult]:
        """The sequential endpoints with a latency verdict: ranked, judged for SQL and speed."""
        return judged(self.sequential)

    @cached_property
    def expressions(self) -> tuple[Threshold, ...]:
        """The threshold expressions the run was judged by, parsed."""
        return parse_all(self.plan.thresholds)

    @property
    def thresholds(self) -> Mapping[str, float]:
        """The old dict's limits as the expressions set them, for the rules and methodology
        lines that quote a limit (``RESPONSE_TIME_P95_MS``...)."""
        return legacy_limits(self.expressions)

    @property
    def login_endpoint(self) -> str:
        return self.plan.login_endpoint

    @cached_property
    def by_role(self) -> bool:
        """Whether its endpoint rows are split by role (several roles measured): reports then
        show a Role column and name each row's role."""
        rows = (*self.sequential, *self.sequential_http, *self.level_endpoints_all)
        return any(row.role for row in rows)

    @property
    def level_endpoints_all(self) -> tuple[models.EndpointResult, ...]:
        return tuple(row for rows in self.level_endpoints.values() for row in rows)

    def other_processes(self, level: models.LoadLevel) -> list[Mapping[str, Any]]:
        """The busiest processes other than perftest and the target during ``level``
        ({"name", "pid", "cores"}, most first); empty when none was busy or none recorded."""
        by_level = self.row.environment.get(OTHER_PROCESSES)
        if not isinstance(by_level, list) or level.position >= len(by_level):
            return []
        return [other for other in by_level[level.position] if isinstance(other, Mapping)]

    def level_machine(self, level: models.LoadLevel) -> MachineUse:
        """What the machine gave ``level`` (its CPU window)."""
        return MachineUse(level.system_cores, level.other_cores, tuple(self.other_processes(level)))

    def phase_machine(self, phase: str) -> MachineUse | None:
        """What the machine gave a sequential pass (``sequential`` or ``sequential-http``);
        None for runs stored before phases were read."""
        phases = _mapping(_mapping(self.row.environment.get(CALIBRATION)).get("phases"))
        use = _mapping(phases.get(phase))
        if not use:
            return None
        others = tuple(o for o in use.get("others") or () if isinstance(o, Mapping))
        return MachineUse(use.get("system_cores"), use.get("other_cores"), others)

    @cached_property
    def calibration(self) -> CalibrationSamples:
        """The run's calibration samples (empty for runs stored before calibration)."""
        stored = _mapping(self.row.environment.get(CALIBRATION))
        return CalibrationSamples(
            reference_ns=tuple(stored.get("reference_ns") or ()),
            trivial_ns=tuple(stored.get("trivial_ns") or ()),
            reference_rounds=stored.get("reference_rounds"),
            trivial_path=stored.get("trivial_path") or "",
            timings_per_sample=stored.get("timings_per_sample") or 1,
        )

    def endpoints_of(self, level: models.LoadLevel) -> tuple[models.EndpointResult, ...]:
        """The per-endpoint rows of one load level, by position."""
        return self.level_endpoints.get(level.pk, ())


def recompared(
    stored: StoredRun, baseline_pk: int, comparison: Mapping[str, Any], findings: Iterable[Any]
) -> StoredRun:
    """``stored`` as if it had been compared with run ``baseline_pk``: its comparison and its
    baseline findings replaced by ``comparison`` and ``findings`` (the other findings kept),
    nothing saved, so ``perftest_report --baseline`` renders it without changing the run."""
    row = copy.copy(stored.row)
    row.baseline_id, row.comparison = baseline_pk, dict(comparison)
    kept = [f for f in stored.findings if f.kind != models.Finding.Kind.BASELINE]
    fresh = [
        models.Finding(
            run=row, position=position, **{name: getattr(f, name) for name in FINDING_FIELDS}
        )
        for position, f in enumerate(findings, start=len(kept))
    ]
    return replace(stored, row=row, findings=(*kept, *fresh))


def load(pk: int) -> StoredRun:
    """The stored run ``pk``; ``RunNotFound`` when there is none (database errors propagate)."""
    try:
        row = models.Run.objects.get(pk=pk)
    except models.Run.DoesNotExist:
        raise RunNotFound(f"No stored run #{pk}.") from None
    return StoredRun.of(row)


class BaselineRefused(ValueError):
    """``--baseline`` names a run this one cannot be compared with; the message says why."""


#: The note a run stores when ``--baseline latest`` finds no run to compare with.
NO_BASELINE = "not compared: no earlier completed run with this target and plan (--baseline latest)"


def baseline_for(
    choice: str, target: str, plan: PlanSnapshot, before: models.Run | None = None
) -> models.Run | None:
    """The run ``--baseline`` names for a run of ``plan`` against ``target``, checked before
    anything runs so that a refused comparison records nothing; for a stored run ``before``
    (``perftest_report --baseline``), only runs that started before it count as ``latest``.

    A run id must name a completed run of the same target and plan, else ``BaselineRefused``
    says which differs. ``latest`` is the newest completed run of the same target and plan
    fingerprint, or None when there is none: the first run of a CI pipeline has nothing to
    be compared with, and establishes the baseline instead of failing.
    """
    if choice == "latest":
        runs = models.Run.objects.filter(
            status=Status.COMPLETED, target=target, plan_fingerprint=plan.fingerprint
        )
        if before is not None:
            runs = runs.filter(started_at__lte=before.started_at).exclude(pk=before.pk)
        return runs.order_by("-started_at", "-pk").first()
    pk = int(choice)
    row = models.Run.objects.filter(pk=pk).first()
    if row is None:
        raise BaselineRefused(f"--baseline {pk}: no stored run #{pk}.")
    if row.status != Status.COMPLETED:
        raise BaselineRefused(
            f"--baseline {pk}: run #{pk} is {row.status}, not completed; compare with a "
            "completed run."
        )
    if row.target != target:
        raise BaselineRefused(
            f"--baseline {pk}: run #{pk} measured {row.target}, this run measures {target}; "
            "compare runs of the same target."
        )
    differences = PlanSnapshot.parse(row.config).differences(
        plan, own=f"run #{pk}", others="this run"
    )
    if differences:
        raise BaselineRefused(
            f"--baseline {pk}: run #{pk} measured another plan ({'; '.join(differences)}); "
            "repeat its options or compare with another run."
        )
    return row


def routes_of(choice: str, target: str) -> tuple[int, tuple[str, ...] | None] | None:
    """``--check --baseline``: the id of the run ``choice`` names and the target's routes it
    stored (None for a run stored before routes were kept). ``latest`` is the newest
    completed run of ``target`` whatever its plan (None when there is none); an id must name a
    stored run of the same target, else ``BaselineRefused``."""
    if choice == "latest":
        row = (
            models.Run.objects.filter(status=Status.COMPLETED, target=target)
            .order_by("-started_at", "-pk")
            .first()
        )
        if row is None:
            return None
    else:
        row = models.Run.objects.filter(pk=int(choice)).first()
        if row is None:
            raise BaselineRefused(f"--baseline {choice}: no stored run #{choice}.")
        if row.target != target:
            raise BaselineRefused(
                f"--baseline {choice}: run #{choice} measured {row.target}, this plan "
                f"measures {target}; name a run of the same target."
            )
    return row.pk, PlanSnapshot.parse(row.config).routes


@dataclass(frozen=True)
class RunListing:
    """One stored run as ``perftest_runs`` lists it, from three queries for the whole list."""

    row: models.Run
    endpoints: tuple[models.EndpointResult, ...]
    findings: tuple[models.Finding, ...]


def listing(target: str = "", label: str = "", limit: int = 20) -> list[RunListing]:
    """The newest ``limit`` stored runs whose target and label contain the given text (any
    case), with their sequential endpoints and findings: three queries whatever the count."""
    runs = models.Run.objects.order_by("-started_at", "-pk")
    if target:
        runs = runs.filter(target__icontains=target)
    if label:
        runs = runs.filter(label__icontains=label)
    rows = list(runs[:limit])
    ids = [row.pk for row in rows]
    endpoints: dict[int, list[models.EndpointResult]] = {pk: [] for pk in ids}
    for endpoint in models.EndpointResult.objects.filter(run_id__in=ids, phase="sequential"):
        endpoints[endpoint.run_id].append(endpoint)
    findings: dict[int, list[models.Finding]] = {pk: [] for pk in ids}
    for finding in models.Finding.objects.filter(run_id__in=ids):
        findings[finding.run_id].append(finding)
    return [RunListing(row, tuple(endpoints[row.pk]), tuple(findings[row.pk])) for row in rows]
