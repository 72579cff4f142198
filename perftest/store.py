"""The only code that writes perftest's models: RunResult in, stored rows out.

``begin`` records the run as running before anything is measured, so a crash still leaves a
trace; ``save`` replaces its figures with the RunResult's, whatever state the run ended in.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from . import models
from .result import EndpointResult, LevelResult, RunResult
from .stats import LatencyStats


def begin(result: RunResult) -> models.Run:
    return models.Run.objects.create(
        status=models.Run.Status.RUNNING,
        mode=result.mode,
        target=result.target,
        label=result.label,
        iterations=result.iterations,
        warmup=result.warmup,
        started_at=result.started_at,
        config=result.config,
        environment=result.environment,
    )


def _latency_fields(latency: LatencyStats) -> dict:
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


def _endpoint_row(
    run: models.Run,
    position: int,
    phase: str,
    ep: EndpointResult,
    level: models.LoadLevel | None = None,
) -> models.EndpointResult:
    latency = ep.latency
    return models.EndpointResult(
        run=run,
        level=level,
        position=position,
        phase=phase,
        name=ep.name,
        method=ep.method,
        path=ep.path,
        expected_status=ep.expected_status,
        planned=ep.planned,
        not_measured=ep.not_measured,
        interrupted=ep.interrupted,
        requests=latency.count,
        ok=ep.ok,
        status_counts=ep.status_counts,
        errors=[vars(g) for g in ep.errors.values()],
        stdev_ms=latency.stdev_ms,
        sum_ns=latency.sum_ns,
        sumsq_ns=str(latency.sumsq_ns),
        **_latency_fields(latency),
        bytes_total=ep.bytes_total,
        sql_captured=ep.sql_captured,
        queries_total=ep.queries_total,
        queries_max=ep.queries_max,
        sql_ms_total=ep.sql_ns_total / 1e6,
        duplicate_queries=[
            vars(q) for q in sorted(ep.duplicate_queries.values(), key=lambda q: -q.max_per_request)
        ],
    )


def _level_row(run: models.Run, position: int, mode: str, level: LevelResult) -> models.LoadLevel:
    overall = level.overall
    return models.LoadLevel.objects.create(
        run=run,
        position=position,
        model=level.model,
        transport="in-process" if mode == "in-process" else "http",
        concurrency=level.concurrency,
        rate=level.rate,
        duration_s=level.duration_s,
        planned_requests=level.planned_requests,
        identities=level.identities,
        login_mode=level.login_mode,
        interrupted=level.interrupted,
        requests=overall.requests,
        ok=overall.ok,
        status_counts=overall.status_counts,
        errors=[vars(g) for g in overall.errors.values()],
        window_s=level.window_ns / 1e9,
        throughput=level.throughput,
        rampup_requests=level.rampup_requests,
        login_requests=level.login_requests,
        login_failures=level.login_failures,
        late=level.late,
        dropped=level.dropped,
        max_lateness_ms=level.max_lateness_ns / 1e6,
        generator_cpu_s=level.generator_cpu_s,
        wall_s=level.wall_s,
        worker_failures=list(level.worker_failures),
        **_latency_fields(overall.latency),
    )


@transaction.atomic
def save(run: models.Run, result: RunResult) -> models.Run:
    run.status = result.status
    run.finished_at = result.finished_at
    run.failure = result.failure
    run.config = result.config
    run.environment = result.environment
    run.logins = [vars(attempt) for attempt in result.logins]
    run.notes = list(result.notes)
    series = result.resources
    if series is not None:
        run.resource_description = series.description
        run.resource_interval_s = series.interval_s
        run.resource_cpu_count = series.cpu_count
        run.resource_unavailable = series.unavailable
    run.save()
    run.endpoints.all().delete()
    run.levels.all().delete()
    rows = [_endpoint_row(run, i, "sequential", ep) for i, ep in enumerate(result.endpoints)]
    rows += [
        _endpoint_row(run, i, "sequential-http", ep) for i, ep in enumerate(result.http_endpoints)
    ]
    for position, level in enumerate(result.levels):
        stored = _level_row(run, position, result.mode, level)
        rows += [
            _endpoint_row(run, i, "level", ep, stored)
            for i, ep in enumerate(level.endpoints.values())
        ]
    models.EndpointResult.objects.bulk_create(rows)
    run.resource_samples.all().delete()
    if series is not None:
        models.ResourceSample.objects.bulk_create(
            models.ResourceSample(run=run, **vars(sample)) for sample in series.samples
        )
    return run


@transaction.atomic
def save_findings(run: models.Run, findings: Iterable[models.Finding]) -> None:
    run.findings.all().delete()
    rows = []
    for position, finding in enumerate(findings):
        finding.run = run
        finding.position = position
        rows.append(finding)
    models.Finding.objects.bulk_create(rows)
