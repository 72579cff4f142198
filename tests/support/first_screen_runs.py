"""Stored runs whose first screen has something to say, built row by row and judged as the
runner judges them: a run whose login is slower than an endpoint with an N+1 (the login set
apart, or under test), and a run compared with a baseline (regressions and an improvement)."""

from __future__ import annotations

from perftest.analysis.rules.base import BASELINE, Finding
from perftest.analysis.rules.baseline import REGRESSION
from perftest.store import read, write
from tests.support.stored_rows import NOISE_RULE, add_endpoint, analyzed, make_run

REPEATED = "SELECT * FROM lesson_teacher WHERE id = %s"
#: A stored plan whose login is the endpoint "Login" (set apart unless ``under_test``).
LOGIN = {"method": "POST", "path": "/api/auth/login/"}


def plan(**login) -> dict:
    return {
        "thresholds": {"RESPONSE_TIME_P95_MS": 2000},
        "login": {**LOGIN, **login},
        "endpoints": [
            {"name": "Login", "method": "POST", "path": "/api/auth/login/", "is_login": True},
            {"name": "Get Lessons"},
            {"name": "Get Profile"},
        ],
    }


def endpoints_run(**login) -> read.StoredRun:
    """A run whose login (900 ms) is slower than Get Lessons (300 ms, a statement repeated 12
    times: N+1) and Get Profile (100 ms)."""
    run = make_run(config=plan(**login))
    add_endpoint(run, "Login", method="POST", path="/api/auth/login/", p95_ms=900.0)
    add_endpoint(
        run,
        "Get Lessons",
        p95_ms=300.0,
        duplicate_queries=[{"sql": REPEATED, "max_per_request": 12, "requests": 20}],
    )
    add_endpoint(run, "Get Profile", p95_ms=100.0)
    analyzed(run)
    return read.load(run.pk)


def login_hash_run() -> read.StoredRun:
    """A run whose advice includes a fact of the run: its login is mostly one password hash
    (45 ms of a 50 ms p50), and Get Lessons repeats a statement (N+1)."""
    hashed = {"algorithm": "pbkdf2_sha256", "iterations": 1_000_000, "ms": 45.0}
    run = make_run(config=plan(), environment={"cpu_count": 4, "password_hash": hashed})
    add_endpoint(run, "Login", method="POST", path="/api/auth/login/", p50_ms=50.0)
    add_endpoint(
        run,
        "Get Lessons",
        duplicate_queries=[{"sql": REPEATED, "max_per_request": 12, "requests": 20}],
    )
    analyzed(run)
    return read.load(run.pk)


def compared_run() -> read.StoredRun:
    """A run compared with a baseline: two regressions on Get Lessons, one on Get Profile,
    one improvement, stored as the runner stores a comparison and its findings; and a
    statement Get Lessons now repeats (N+1)."""
    before = make_run(config=plan())
    after = make_run(config=plan())
    repeated = [{"sql": REPEATED, "max_per_request": 12, "requests": 20}]
    for run in (before, after):
        add_endpoint(
            run,
            "Get Lessons",
            p95_ms=300.0,
            duplicate_queries=repeated if run == after else [],
        )
        add_endpoint(run, "Get Profile", p95_ms=100.0)
    write.save_comparison(
        after,
        before.pk,
        {
            "baseline": {
                "id": before.pk,
                "started_at": before.started_at.isoformat(),
                "label": "",
            },
            "rule": NOISE_RULE,
            "rows": [],
            "unmatched": [],
            "regressions": 3,
            "improvements": 1,
        },
    )
    analyzed(after)
    changes = [
        ("Get Profile", REGRESSION, "Get Profile p95 1.2x slower"),
        ("Get Lessons", REGRESSION, "Get Lessons: 60 more queries per request"),
        ("Get Lessons", REGRESSION, "Get Lessons p95 3.0x slower"),
        ("Get Profile", "improvement", "Get Profile p50 1.5x faster"),
    ]
    stored = read.load(after.pk)
    found = [
        Finding(
            BASELINE,
            rule,
            subject,
            title,
            recommendation=f"Look at {subject}'s code" if rule == REGRESSION else "",
            passed=rule != REGRESSION,
        )
        for subject, rule, title in changes
    ]
    write.save_findings(after, [*stored.findings, *found])
    return read.load(after.pk)
