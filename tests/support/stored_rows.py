"""Stored runs built row by row with the ORM, as ``store.save`` writes them, so every figure a
rule or a report reads is known: runs, endpoint rows, resource samples and load levels (with
the server's account, ``server_timing``, a capacity search's record, and latency per time
window, ``stored_windows``); and the findings
and renderings the tests read back, produced as the runner produces them."""

from __future__ import annotations

import datetime as dt

from perftest import models
from perftest.lifecycle import runner
from perftest.measure.stats import LatencyStats
from perftest.reports import console, markdown
from perftest.store import read

STARTED = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
MB = 2**20


def make_environment() -> dict:
    """The environment a stored run of these builders has (a new dict each time)."""
    return {"python": "3.12.1", "django": "5.2", "cpu_count": 4, "host": "box"}


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
        "environment": make_environment(),
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
    """One part of a stored server account (app, SQL or outside), as ``store.write`` stores a
    distribution: its figures (p95 1.5× the mean unless told) and an encoded HDR histogram of
    the two."""
    p95 = p95_ms if p95_ms is not None else mean_ms * 1.5
    stats = LatencyStats()
    for value in (mean_ms, p95):
        stats.record(int(value * 1e6))
    return {
        "min_ms": min(mean_ms, p95) / 2,
        "mean_ms": mean_ms,
        "p50_ms": mean_ms,
        "p90_ms": p95 * 0.9,
        "p95_ms": p95,
        "p99_ms": p95 * 1.2,
        "max_ms": p95 * 1.5,
        "histogram": stats.encode(),
    }


def server_timing(
    answers: int,
    app_ms: float,
    sql_ms: float,
    outside_ms: float,
    *,
    queries: int = 0,
    app_p95_ms: float | None = None,
    sql_p95_ms: float | None = None,
    outside_p95_ms: float | None = None,
) -> dict:
    """A level's or endpoint's ``server_timing`` as ``store.write`` stores it: app, SQL and
    outside-the-app time of ``answers`` answers (means; each p95 1.5× its mean unless told)."""
    return {
        "answers": answers,
        "queries": queries,
        "app": distribution(app_ms, app_p95_ms),
        "sql": distribution(sql_ms, sql_p95_ms),
        "outside": distribution(outside_ms, outside_p95_ms),
    }


def server_environment(
    workers: int, threads: int = 1, *, source: str = "from its command line", **environment
) -> dict:
    """A run's ``environment`` with the measured server as an HTTP run stores it."""
    return {
        **make_environment(),
        "server": {
            "pid": 123,
            "name": "gunicorn",
            "workers": workers,
            "threads": threads,
            "slots": workers * threads,
            "source": source,
        },
        **environment,
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


#: A stored comparison's noise rule (``analysis.noise``'s parameters), as the runner stores it.
NOISE_RULE = {
    "confidence": 0.99,
    "resamples": 2000,
    "seed": 0,
    "min_relative": 0.2,
    "min_absolute_ms": 1.0,
    "min_windows": 6,
    "min_window_count": 5,
    "error_rate_points": 1.0,
}


def capacity_step(level: int, rate: float, failed: str = "", value: str = "") -> dict:
    """One step of a stored capacity search: passed unless a bound ``failed``."""
    return {"level": level, "rate": rate, "passed": not failed, "failed": failed, "value": value}


def capacity_record(steps: list[dict], **fields) -> dict:
    """A stored ``Run.capacity``: the answer as the steps give it (the highest passing rate,
    the lowest failing one and its bound), ``fields`` overriding."""
    passed = [step["rate"] for step in steps if step["passed"]]
    failing = sorted((step for step in steps if not step["passed"]), key=lambda s: s["rate"])
    first = failing[0] if failing else {"rate": None, "failed": "", "value": ""}
    expression = fields.get("expression", "p95 < 300ms")
    values = {
        "expression": expression,
        "bounds": [expression, "error_rate < 1%", "dropped < 10%"],
        "steps": steps,
        "capacity_rps": max(passed, default=None),
        "failed_rps": first["rate"],
        "failed": first["failed"],
        "value": first["value"],
        "ended": "bisected",
        "generator_max_rps": None,
        "start_rps": steps[0]["rate"] if steps else 10.0,
        "tolerance": 0.05,
    }
    values.update(fields)
    return values


def capacity_run(**fields) -> models.Run:
    """An HTTP run whose capacity search took four open-model steps: 20, 40 and 30 req/s held
    p95 < 300ms, 40 failed it; each step a stored level timed by the server."""
    run = load_run(environment=server_environment(2), **fields)
    rates = (20.0, 40.0, 30.0)
    p95s = (120.0, 912.0, 210.0)
    for rate, p95 in zip(rates, p95s, strict=True):
        timed = server_timing(
            400, p95 / 8, p95 / 20, p95 * 3 / 8, queries=1200,
            app_p95_ms=p95 / 4, sql_p95_ms=p95 / 10, outside_p95_ms=p95,
        )  # fmt: skip
        level = add_level(
            run,
            4,
            rate,
            p95,
            model=models.LoadLevel.Model.OPEN,
            rate=rate,
            mean_ms=p95 / 2,
            server_timing=timed,
            server_cores=0.8,
        )
        add_endpoint(
            run, "Get Profile", phase="level", level=level, requests=400, server_timing=timed
        )
    steps = [
        capacity_step(0, 20.0),
        capacity_step(1, 40.0, "p95 < 300ms", "912 ms"),
        capacity_step(2, 30.0),
    ]
    run.capacity = capacity_record(steps)
    run.save(update_fields=["capacity"])
    return run


def stored_windows(*p95s: float | None, count: int = 40, start: float | None = None) -> dict:
    """A row's stored ``windows``: one window a second, each ``count`` answers half at the
    p95 given and half at a fifth of it (so its p50 is the fifth); None: no answer that
    second, a window never stored. ``start``: the first window's start on the wall clock
    (seconds since the Unix epoch; None, as stored before part 13)."""
    return {
        "width_s": 1.0,
        **({"start_unix_s": start} if start is not None else {}),
        "windows": [
            {
                "offset_s": i * 1.0,
                "count": count,
                "values_us": [[int(p95 * 200), count // 2], [int(p95 * 1000), count // 2]],
            }
            for i, p95 in enumerate(p95s)
            if p95 is not None
        ],
    }
