"""The only code that turns measurements into rows: a RunResult in, stored rows out.

``begin`` records the run as running before anything is measured, so a crash still leaves a
trace; a soak's ``checkpoint`` stores it so far while it runs; ``save`` replaces its figures
with the RunResult's, whatever state the run ended in; ``save_findings`` stores what the
analysis chose, ``save_verdict`` what it concluded; ``save_comparison`` what the comparison with
a baseline run found. Every row passes through ``_fit`` first, because PostgreSQL rejects a
string longer than its column where SQLite would keep it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from django.db import models as db_models
from django.db import transaction

from perftest import models
from perftest.measure.endpoint_result import EndpointResult, ErrorGroup
from perftest.measure.result import LevelResult, ResourceSample, RunResult
from perftest.measure.server_times import ServerTimes
from perftest.measure.stats import LatencyStats
from perftest.plan.fingerprint import fingerprint
from perftest.plan.model import RunPlan
from perftest.store.read import CALIBRATION, FINDING_FIELDS, OTHER_PROCESSES


class FindingRecord(Protocol):
    """What the analysis hands over for each finding (``analysis.rules.base.Finding``)."""

    kind: str
    rule: str
    subject: str
    title: str
    evidence: str
    recommendation: str
    target: str
    actual: str
    passed: bool | None


class VerdictRecord(Protocol):
    """What the analysis concluded (``analysis.verdict.Verdict``)."""

    @property
    def word(self) -> str: ...

    reasons: tuple[str, ...]


def _fit(model: type[db_models.Model], fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` with every string cut to its column's length, marked with an ellipsis."""
    for field in model._meta.concrete_fields:
        value, limit = fields.get(field.attname), field.max_length
        if limit and isinstance(value, str) and len(value) > limit:
            fields[field.attname] = value[: limit - 1] + "…"
    return fields


def _distribution(latency: LatencyStats) -> dict[str, Any]:
    """A latency distribution as ``MeasuredFigures`` and ``answer_classes`` store it."""
    return {
        "min_ms": latency.min_ms,
        "mean_ms": latency.mean_ms,
        "p50_ms": latency.percentile_ms(50),
        "p90_ms": latency.percentile_ms(90),
        "p95_ms": latency.percentile_ms(95),
        "p99_ms": latency.percentile_ms(99),
        "max_ms": latency.max_ms,
        "histogram": latency.encode(),
    }


def _server_timing(server: ServerTimes) -> dict[str, Any]:
    """The server's own account of the answers as expected ({} when none carried one)."""
    if not server.answers:
        return {}
    return {
        "answers": server.answers,
        "queries": server.queries,
        "app": _distribution(server.app),
        "sql": _distribution(server.sql),
        "outside": _distribution(server.outside),
    }


def _answer_class(group: ErrorGroup) -> dict[str, Any]:
    """One class of unexpected answers with its own latency, SQL and Retry-After values."""
    return {
        "class": group.reason,
        "count": group.count,
        **_distribution(group.latency),
        "queries": group.queries,
        "sql_ms": group.sql_ns / 1e6,
        "retry_after": dict(group.retry_after),
        "retry_after_answers": group.retry_after_answers,
    }


def _figures(figures: EndpointResult) -> dict[str, Any]:
    """The fields every set of requests stores (``models.MeasuredFigures``), endpoint or level:
    every answer counted, the verdict latency of the answers as expected only (pooled and per
    time window), and each class of unexpected answers apart."""
    groups = figures.errors.values()
    return {
        "requests": figures.requests,
        "ok": figures.ok,
        "status_counts": figures.status_counts,
        "errors": [{"reason": g.reason, "count": g.count, "example": g.example} for g in groups],
        **_distribution(figures.latency),
        "windows": figures.windows.stored(),
        "answer_classes": [_answer_class(group) for group in groups],
        "server_timing": _server_timing(figures.server),
    }


def _corrected(level: LevelResult) -> dict[str, Any]:
    """The coordinated-omission corrected figures of a closed level ({} when it has none)."""
    latency = level.corrected
    if latency is None:
        return {}
    return {
        "expected_interval_ms": level.expected_interval_ns / 1e6,
        "requests": latency.count,
        **{f"p{p}_ms": latency.percentile_ms(p) for p in (50, 90, 95, 99)},
        "max_ms": latency.max_ms,
        "histogram": latency.encode(),
    }


def _other_load(levels: list[LevelResult]) -> dict[str, Any]:
    """The other processes busy during each level, when any level saw some: the machine the
    run shared, kept with the rest of its environment ({} when the machine was quiet)."""
    if not any(level.other_processes for level in levels):
        return {}
    return {OTHER_PROCESSES: [list(level.other_processes) for level in levels]}


def begin(result: RunResult, host: str = "", pid: int | None = None) -> models.Run:
    """The run as ``running``, with the host and pid of the process that owns it, so a later
    run can tell a live run from one whose process died."""
    fields = {
        "host": host,
        "pid": pid,
        "status": models.Run.Status.RUNNING,
        "mode": result.mode,
        "target": result.target,
        "label": result.label,
        "iterations": result.iterations,
        "warmup": result.warmup,
        "started_at": result.started_at,
        "config": result.config,
        "environment": result.environment,
        "plan_fingerprint": fingerprint(RunPlan.from_dict(result.config)),
    }
    return models.Run.objects.create(**_fit(models.Run, fields))


def _endpoint_row(
    run: models.Run,
    position: int,
    phase: str,
    ep: EndpointResult,
    level: models.LoadLevel | None = None,
    apart: frozenset[str] = frozenset(),
) -> models.EndpointResult:
    fields = {
        **_figures(ep),
        "name": ep.name,
        "role": ep.role,
        "method": ep.method,
        "path": ep.path,
        "expected_status": ep.expected_status,
        "planned": ep.planned,
        "not_measured": ep.not_measured,
        "interrupted": ep.interrupted,
        "stdev_ms": ep.latency.stdev_ms,
        "sum_ns": ep.latency.sum_ns,
        "sumsq_ns": str(ep.latency.sumsq_ns),
        "bytes_total": ep.bytes_total,
        "sql_captured": ep.sql_captured,
        "queries_total": ep.queries_total,
        "queries_max": ep.queries_max,
        "sql_ms_total": ep.sql_ns_total / 1e6,
        "duplicate_queries": [
            vars(q) for q in sorted(ep.duplicate_queries.values(), key=lambda q: -q.max_per_request)
        ],
        "body_kind": ep.body_kind,
        "empty_answers": ep.empty_answers,
        "configuration": ep.configuration,
        "statements": [
            {"sql": sql, "count": count}
            for sql, count in sorted(ep.statements.items(), key=lambda item: -item[1])
        ],
        "profile": ep.profile,
        "explain": ep.explain,
        "set_apart": ep.name in apart,
    }
    return models.EndpointResult(
        run=run,
        level=level,
        position=position,
        phase=phase,
        **_fit(models.EndpointResult, fields),
    )


def _lateness(level: LevelResult) -> dict:
    """An open level's causes of lateness, as the workers saw them ({} when not followed:
    a closed level, or Locust's engine)."""
    if level.busy_ns is None:
        return {}
    return {"late_while_idle": level.late_while_idle, "busy_s": level.busy_ns / 1e9}


def _level_row(run: models.Run, position: int, mode: str, level: LevelResult) -> models.LoadLevel:
    fields = {
        **_figures(level.overall),
        "model": level.model,
        "transport": "in-process" if mode == "in-process" else "http",
        "concurrency": level.concurrency,
        "rate": level.rate,
        "duration_s": level.duration_s,
        "planned_requests": level.planned_requests,
        "identities": level.identities,
        "login_mode": level.login_mode,
        "interrupted": level.interrupted,
        "aborted": level.aborted,
        "window_s": level.window_ns / 1e9,
        "throughput": level.throughput,
        "ok_throughput": level.ok_throughput,
        "rampup_requests": level.rampup_requests,
        "login_requests": level.login_requests,
        "login_failures": level.login_failures,
        "capture_requests": level.capture_requests,
        "late": level.late,
        "dropped": level.dropped,
        "max_lateness_ms": level.max_lateness_ns / 1e6,
        "lateness": _lateness(level),
        "generator_cpu_s": level.generator_cpu_s,
        "wall_s": level.wall_s,
        "worker_failures": list(level.worker_failures),
        "missing_data": dict(level.missing_data),
        "corrected": _corrected(level),
        "system_cores": level.system_cores,
        "other_cores": level.other_cores,
        "server_cores": level.server_cores,
        "database_cores": level.database_cores,
        "generator_processes": level.generator_processes,
        "database_connections": level.database_connections,
        "soak": level.soak,
    }
    return models.LoadLevel.objects.create(
        run=run, position=position, **_fit(models.LoadLevel, fields)
    )


@transaction.atomic
def save(run: models.Run, result: RunResult) -> models.Run:
    """Replace the run's figures, its resource samples included, with ``result``'s."""
    _save_figures(run, result)
    run.resource_samples.all().delete()
    if result.resources is not None:
        _add_samples(run, result.resources.samples)
    return run


@transaction.atomic
def checkpoint(
    run: models.Run, result: RunResult, new_samples: Sequence[ResourceSample]
) -> models.Run:
    """A run still measuring, stored as it is so far (its status stays ``running``): what a
    soak keeps if its process dies before the next checkpoint. Its figures are replaced as
    ``save`` replaces them (a few rows, whatever the soak's length); of its resource samples
    only ``new_samples``, those read since the last checkpoint, are added, so a checkpoint's
    work stays the same size however long the soak has run."""
    _save_figures(run, result)
    _add_samples(run, new_samples)
    return run


def _add_samples(run: models.Run, samples: Iterable[ResourceSample]) -> None:
    models.ResourceSample.objects.bulk_create(
        models.ResourceSample(run=run, **vars(sample)) for sample in samples
    )


def _save_figures(run: models.Run, result: RunResult) -> None:
    run.status = result.status
    run.finished_at = result.finished_at
    run.failure = result.failure
    run.config = result.config
    calibration = {CALIBRATION: result.calibration} if result.calibration else {}
    run.environment = {**result.environment, **_other_load(result.levels), **calibration}
    run.logins = [vars(attempt) for attempt in result.logins]
    run.capture_requests = result.capture_requests
    run.notes = list(result.notes)
    run.capacity = result.capacity
    series = result.resources
    if series is not None:
        run.resource_description = series.description
        run.resource_interval_s = series.interval_s
        run.resource_cpu_count = series.cpu_count
        run.resource_unavailable = series.unavailable
        run.resource_gone_s = series.gone_s
    _fit(models.Run, run.__dict__)
    run.save()
    run.endpoints.all().delete()
    run.levels.all().delete()
    # Stored on the rows for the run lists, whose one query cannot read the plan's JSON.
    apart = RunPlan.from_dict(result.config).set_apart
    rows = [
        _endpoint_row(run, i, "sequential", ep, apart=apart)
        for i, ep in enumerate(result.endpoints)
    ]
    rows += [
        _endpoint_row(run, i, "sequential-http", ep, apart=apart)
        for i, ep in enumerate(result.http_endpoints)
    ]
    for position, level in enumerate(result.levels):
        stored = _level_row(run, position, result.mode, level)
        rows += [
            _endpoint_row(run, i, "level", ep, stored, apart)
            for i, ep in enumerate(level.endpoints.values())
        ]
    models.EndpointResult.objects.bulk_create(rows)


@transaction.atomic
def save_findings(run: models.Run, findings: Iterable[FindingRecord]) -> None:
    """Replace the run's findings with ``findings``, in the order given."""
    run.findings.all().delete()
    models.Finding.objects.bulk_create(
        models.Finding(
            run=run,
            position=position,
            **_fit(models.Finding, {name: getattr(f, name) for name in FINDING_FIELDS}),
        )
        for position, f in enumerate(findings)
    )


def save_comparison(run: models.Run, baseline_pk: int | None, data: dict) -> None:
    """Store the comparison of ``run`` with run ``baseline_pk`` (``analysis.compare``'s plain
    dict, ``{}`` when the run was not compared): written once, when the run ends."""
    run.baseline_id = baseline_pk
    run.comparison = data
    run.save(update_fields=["baseline", "comparison"])


def save_verdict(run: models.Run, verdict: VerdictRecord) -> None:
    """Store the run's verdict and its reasons on its row, once its findings are stored, so a
    list of runs reads each verdict from the runs' own rows."""
    run.verdict, run.verdict_reasons = verdict.word, list(verdict.reasons)
    run.save(update_fields=["verdict", "verdict_reasons"])
