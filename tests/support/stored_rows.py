"""Stored runs built row by row with the ORM, as ``store.save`` writes them, so every figure a
rule or a report reads is known: runs, endpoint rows, resource samples and load levels; and
the findings and renderings the tests read back, produced as the runner produces them."""

from __future__ import annotations

import datetime as dt

from perftest import models
from perftest.lifecycle import runner
from perftest.reports import console, markdown
from perftest.store import read

STARTED = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
MB = 2**20


def make_run(**fields) -> models.Run:
    values = {
        "status": models.Run.Status.COMPLETED,
        "mode": "in-process",
        "target": "URLconf tests.support.urls",
        "label": "rules",
        "iterations": 20,
        "warmup": 2,
        "started_at": STARTED,
        "finished_at": STARTED + dt.timedelta(seconds=42),
        "config": {
            "thresholds": {"RESPONSE_TIME_P95_MS": 2000},
            "login": {"method": "POST", "path": "/api/auth/login/"},
        },
        "environment": {"python": "3.12.1", "django": "5.2", "cpu_count": 4, "host": "box"},
        "logins": [
            {"identity": "perftest-1", "status": 200, "ok": True, "elapsed_ns": 10**6, "reason": ""}
        ],
        "resource_description": "this process (pid 7)",
        "resource_interval_s": 0.5,
        "resource_cpu_count": 4,
    }
    values.update(fields)
    return models.Run.objects.create(**values)


def add_endpoint(run: models.Run, name: str, **fields) -> models.EndpointResult:
    requests = fields.get("requests", 20)
    values = {
        "position": run.endpoints.count(),
        "name": name,
        "method": "GET",
        "path": f"/api/{name.lower().replace(' ', '-')}/",
        "expected_status": 200,
        "planned": 20,
        "requests": requests,
        "ok": requests,
        "status_counts": {"200": requests} if requests else {},
        "min_ms": 10.0,
        "mean_ms": 60.0,
        "p50_ms": 50.0,
        "p90_ms": 90.0,
        "p95_ms": 100.0,
        "p99_ms": 120.0,
        "max_ms": 130.0,
        "sum_ns": int(60.0 * requests * 1e6),
        "bytes_total": 512 * requests,
    }
    values.update(fields)
    return models.EndpointResult.objects.create(run=run, **values)


def add_samples(run: models.Run, rss_mb: list[float], cpu: list[float], step_s: float = 30.0):
    models.ResourceSample.objects.bulk_create(
        models.ResourceSample(
            run=run,
            offset_s=i * step_s,
            rss_bytes=int(rss * MB),
            cpu_percent=cpu_pct,
            threads=4 + i,
            open_files=3,
        )
        for i, (rss, cpu_pct) in enumerate(zip(rss_mb, cpu, strict=True))
    )


def analyzed(run: models.Run) -> list[models.Finding]:
    """Run the rules and store their findings and the verdict, as the runner does; return the
    stored findings."""
    runner.judge(run)
    return list(run.findings.all())


def rendered(run: models.Run) -> str:
    """The Markdown report of the run as stored now."""
    return markdown.render(read.StoredRun.of(run))


def summary_table(run: models.Run) -> str:
    """The console summary of the run as stored now."""
    return console.summary_table(read.StoredRun.of(run))


def of_rule(found: list[models.Finding], rule: str) -> list[models.Finding]:
    return [f for f in found if f.rule == rule]


def add_level(
    run: models.Run, concurrency: int, throughput: float, p95: float, **fields
) -> models.LoadLevel:
    requests = fields.pop("requests", 400)
    values = {
        "position": run.levels.count(),
        "model": models.LoadLevel.Model.CLOSED,
        "transport": "http",
        "concurrency": concurrency,
        "duration_s": 10.0,
        "identities": concurrency,
        "requests": requests,
        "ok": requests,
        "status_counts": {"200": requests},
        "window_s": requests / throughput,
        "throughput": throughput,
        "p50_ms": p95 / 2,
        "p90_ms": p95 * 0.9,
        "p95_ms": p95,
        "p99_ms": p95 * 1.2,
        "max_ms": p95 * 1.5,
        "generator_cpu_s": 3.0,
        "wall_s": 10.0,
    }
    values.update(fields)
    values.setdefault("ok_throughput", values["ok"] / values["window_s"])  # as store.write does
    # Little's law: a closed level's workers are in requests all the time (X × R = concurrency).
    if values["model"] == models.LoadLevel.Model.CLOSED and values["ok_throughput"]:
        values.setdefault("mean_ms", 1000 * concurrency / values["ok_throughput"])
    return models.LoadLevel.objects.create(run=run, **values)


def distribution(mean_ms: float, p95_ms: float | None = None) -> dict:
    """One stored time distribution of a server account (no histogram: rules read figures)."""
    p95 = p95_ms if p95_ms is not None else mean_ms * 1.5
    return {
        "min_ms": mean_ms / 2,
        "mean_ms": mean_ms,
        "p50_ms": mean_ms,
        "p90_ms": p95 * 0.9,
        "p95_ms": p95,
        "p99_ms": p95 * 1.2,
        "max_ms": p95 * 1.5,
        "histogram": "",
    }


def server_timing(
    answers: int,
    app_ms: float,
    sql_ms: float,
    outside_ms: float,
    *,
    queries: int = 0,
    outside_p95_ms: float | None = None,
) -> dict:
    """A level's or endpoint's ``server_timing`` as ``store.write`` stores it: app, SQL and
    outside-the-app time of ``answers`` answers (means; p95 1.5× the mean unless told)."""
    return {
        "answers": answers,
        "queries": queries,
        "app": distribution(app_ms),
        "sql": distribution(sql_ms),
        "outside": distribution(outside_ms, outside_p95_ms),
    }


def server_environment(workers: int, threads: int = 1, **environment) -> dict:
    """A run's ``environment`` with the measured server as the machine helper writes it."""
    return {
        "python": "3.12.1",
        "django": "5.2",
        "cpu_count": 4,
        "host": "box",
        "server": {
            "pid": 4243,
            "name": "gunicorn",
            "workers": workers,
            "threads": threads,
            "slots": workers * threads,
            "source": "gunicorn's command line",
        },
        **environment,
    }


def capacity_search(
    expression: str,
    steps: list[tuple[int, float, bool, str, str]],
    capacity_rps: float | None,
    ended: str = "bisected",
    generator_max_rps: float | None = None,
) -> dict:
    """A ``Run.capacity`` record from its steps: (level position, rate, passed, failed bound,
    its value); the failed rate and bound are the lowest failing step's."""
    failing = sorted((step for step in steps if not step[2]), key=lambda step: step[1])
    first = failing[0] if failing else None
    return {
        "expression": expression,
        "bounds": [expression, "error_rate < 1%", "dropped < 10%"],
        "steps": [
            {"level": level, "rate": rate, "passed": passed, "failed": failed, "value": value}
            for level, rate, passed, failed, value in steps
        ],
        "capacity_rps": capacity_rps,
        "failed_rps": first[1] if first else None,
        "failed": first[3] if first else "",
        "value": first[4] if first else "",
        "ended": ended,
        "generator_max_rps": generator_max_rps,
        "start_rps": steps[0][1],
        "tolerance": 0.05,
    }


def errors_of(reason: str, count: int, example: str = "") -> dict:
    return {"errors": [{"reason": reason, "count": count, "example": example}], "ok": 400 - count}


def load_run(**fields) -> models.Run:
    config = {
        "load": {"concurrency": [1, 10, 30], "duration_s": 10.0, "ramp_up_s": 1.0},
        "http": {"base_url": "http://127.0.0.1:8000", "server_pid": 4242},
        "login": {"method": "POST", "path": "/api/auth/login/"},
    }
    values = {"mode": "http", "target": "http://127.0.0.1:8000", "config": config, **fields}
    return make_run(**values)


def curve_with_a_knee_at_30() -> models.Run:
    """Four closed levels that scale to 10 (efficiency 96 %) and stall at 30 (efficiency 2 %)
    while p95 nearly triples."""
    run = load_run()
    add_level(run, 1, 12.5, 20.0)
    add_level(run, 10, 120.1, 40.0)
    add_level(run, 30, 125.2, 112.0)
    add_level(run, 50, 126.0, 300.0)
    return run
