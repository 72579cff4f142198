"""The one typed way to read a stored run: its plan and its rows, grouped by phase.

Analysis and reports read a ``StoredRun`` instead of querying the models, so the run's stored
plan is read in one place (``RunPlan.from_dict``: old snapshots may lack keys or use the flat
shape of earlier versions) and every row is fetched once, in a known order. What the rows say
is read by the modules beside this one: ``vocabulary`` (measured, judged), ``windows``
(latency per time window), ``baselines`` (``--baseline``) and ``listing`` (lists of runs).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from perftest import models
from perftest.plan.expressions import Threshold, legacy_limits, parse_all
from perftest.plan.model import RunPlan
from perftest.store.vocabulary import judged, measured

#: The states and verdicts of a run and the load models of a level, named without importing
#: the models.
Status = models.Run.Status
VerdictWord = models.Run.Verdict
LevelModel = models.LoadLevel.Model

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
    plan: RunPlan
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
            plan=RunPlan.from_dict(row.config),
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
        """The login endpoint as planned, e.g. ``POST /api/auth/login/``."""
        return self.plan.login.where

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


def load(pk: int) -> StoredRun:
    """The stored run ``pk``; ``RunNotFound`` when there is none (database errors propagate)."""
    try:
        row = models.Run.objects.get(pk=pk)
    except models.Run.DoesNotExist:
        raise RunNotFound(f"No stored run #{pk}.") from None
    return StoredRun.of(row)
