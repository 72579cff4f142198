"""What gave way first at the knee: the candidates ranked from stored figures (the server's
own account, its workers, its CPU, SQL), for runs shaped like a sleeping view behind two sync
workers, a CPU-bound view, an N+1 view, and a server without perftest's middleware."""

from __future__ import annotations

import pytest

from perftest.analysis import candidates
from perftest.analysis.rules import first_to_break
from perftest.store import read
from tests.support.stored_rows import (
    add_endpoint,
    add_level,
    analyzed,
    load_run,
    of_rule,
    server_environment,
    server_timing,
)

pytestmark = pytest.mark.django_db

N_PLUS_ONE = 'SELECT "lessons_teacher"."id" FROM "lessons_teacher" WHERE "id" = %s'


def sleeping_view_run():
    """50 ms of sleep per request behind gunicorn with 2 sync workers: throughput stops at
    ~40 req/s, app time stays at 50 ms and the rest of the latency is queueing outside."""
    run = load_run(environment=server_environment(2))
    add_level(run, 1, 19.6, 60.0, server_timing=server_timing(400, 50.0, 0.2, 1.0))
    add_level(
        run,
        5,
        39.6,
        150.0,
        server_timing=server_timing(400, 50.0, 0.2, 76.0, outside_p95_ms=100.0),
        server_cores=0.1,
    )
    add_level(
        run,
        10,
        39.7,
        480.0,
        server_timing=server_timing(400, 50.1, 0.2, 202.0, outside_p95_ms=420.0),
        server_cores=0.1,
    )
    return run


def test_a_sleeping_view_behind_two_workers_names_the_workers_and_their_lever():
    run = sleeping_view_run()
    [found] = of_rule(analyzed(run), first_to_break.FIRST_TO_BREAK)

    assert found.kind == "bottleneck" and found.subject == "5 concurrent"
    assert found.title == (
        "At the knee, 5 concurrent, server workers gave way first: the 2 server workers were "
        "busy 99 % of the time"
    )
    assert "--workers / --threads; it had 2 × 1)" in found.recommendation
    lines = found.evidence.splitlines()
    assert lines[0] == (
        "app time 50.0 ms per request at 5 concurrent, 50.0 ms at 1 concurrent (×1.0)"
    )
    assert lines[1] == (
        "1. server workers (gave way): 2 server workers: 1.98 of 2 busy (99 %): app mean "
        "50.0 ms × 39.6 req/s as expected"
    )
    ranked = [line.split(":")[0] for line in lines[1:] if line[0].isdigit()]
    assert ranked[1] == "2. time outside the app (gave way)"  # queued for a worker
    assert "Cannot be told: database connections: not watched." in lines


def test_a_cpu_bound_view_names_the_servers_cpu_when_app_time_grew():
    """Busy workers whose app time tripled while the server used 1.9 of the 2 cores it could
    (2 worker processes × 2 threads on 4 cores): the CPU was short, not the workers."""
    run = load_run(environment=server_environment(2, threads=2))
    add_level(run, 1, 70.0, 30.0, server_timing=server_timing(400, 13.0, 0.5, 1.3))
    add_level(
        run, 2, 140.0, 30.0, server_timing=server_timing(400, 13.2, 0.5, 1.1), server_cores=1.8
    )
    add_level(
        run,
        8,
        100.0,
        160.0,
        server_timing=server_timing(400, 39.0, 0.5, 41.0),
        server_cores=1.9,
        generator_cpu_s=5.0,
        other_cores=0.2,
    )
    [found] = of_rule(analyzed(run), first_to_break.FIRST_TO_BREAK)

    assert found.title == (
        "At the knee, 8 concurrent, server CPU gave way first: the server used 1.90 of the "
        "2.00 cores it could use"
    )
    assert "more cores" in found.recommendation
    assert "app time 39.0 ms per request at 8 concurrent, 13.0 ms at 1 concurrent (×3.0)" in (
        found.evidence
    )
    assert (
        "1. server CPU (gave way): the server used 1.90 of the 2.00 cores it could use (95 %): "
        "4 cores less perftest's 0.50 and other processes' 0.20, at most one per worker process "
        "(2)"
    ) in found.evidence
    assert "server workers (gave way): 2 server workers × 2 threads (4 slots): 3.90 of 4" in (
        found.evidence
    )


def test_a_database_server_on_the_machine_takes_its_cores_from_what_the_server_could_use():
    """The CI case on PostgreSQL: 4 sync workers of a CPU-bound view on 2 cores, others using
    0.74 and the database server 0.20: the server's 1.01 cores are all it could use."""
    run = load_run(environment=server_environment(4), resource_cpu_count=2)
    add_level(run, 1, 40.0, 25.0, server_timing=server_timing(400, 24.0, 0.1, 1.0))
    add_level(
        run,
        8,
        44.1,
        257.0,
        server_timing=server_timing(400, 78.6, 0.1, 90.7, outside_p95_ms=146.3),
        server_cores=1.01,
        database_cores=0.2,
        other_cores=0.74,
        generator_cpu_s=0.5,
    )
    [found] = of_rule(analyzed(run), first_to_break.FIRST_TO_BREAK)

    assert found.title.startswith("At the knee, 8 concurrent, server CPU gave way first")
    assert (
        "the server used 1.01 of the 1.01 cores it could use (100 %): 2 cores less perftest's "
        "0.05, the database server's 0.20 and other processes' 0.74"
    ) in found.evidence


def test_an_n_plus_one_view_names_the_repeated_statement_and_select_related():
    run = load_run(environment=server_environment(4))
    low = add_level(run, 1, 30.0, 40.0, server_timing=server_timing(400, 30.0, 24.0, 3.0))
    high = add_level(
        run,
        4,
        50.0,
        120.0,
        server_timing=server_timing(400, 31.0, 25.0, 49.0, outside_p95_ms=30.0, queries=16400),
        server_cores=0.6,
    )
    for level in (low, high):
        add_endpoint(
            run,
            "Get Lessons",
            phase="level",
            level=level,
            server_timing=level.server_timing,
            duplicate_queries=[{"sql": N_PLUS_ONE, "max_per_request": 40, "requests": 400}],
        )
    [found] = of_rule(analyzed(run), first_to_break.FIRST_TO_BREAK)

    assert found.title == (
        "At the knee, 4 concurrent, SQL gave way first: SQL took 80 % of the app's time already "
        f"at 1 concurrent; Get Lessons ran {N_PLUS_ONE} 40×"
    )
    assert "select_related / prefetch_related" in found.recommendation
    assert N_PLUS_ONE in found.recommendation
    assert f"Get Lessons: {N_PLUS_ONE} ×40 per request" in found.evidence
    assert "(41.0 queries)" in found.evidence


def test_the_repeated_statement_is_read_from_the_sequential_pass_when_the_level_has_none():
    run = load_run(environment=server_environment(4))
    add_endpoint(
        run,
        "Get Lessons",
        duplicate_queries=[{"sql": N_PLUS_ONE, "max_per_request": 40, "requests": 20}],
    )
    level = add_level(run, 1, 30.0, 40.0, server_timing=server_timing(400, 30.0, 24.0, 3.0))
    add_endpoint(run, "Get Lessons", phase="level", level=level, server_timing=level.server_timing)

    ranking = candidates.rank(read.StoredRun.of(run), level)
    assert ranking.first.resource == candidates.SQL
    assert f"Get Lessons ran {N_PLUS_ONE} 40×" in ranking.first.why


def test_without_the_servers_account_it_says_what_cannot_be_told_and_how_to_fix_it():
    run = load_run(environment=server_environment(2))
    add_level(run, 1, 19.6, 60.0)
    add_level(run, 5, 39.6, 150.0)
    [found] = of_rule(analyzed(run), first_to_break.FIRST_TO_BREAK)

    assert found.title.startswith("At the knee, 5 concurrent, no measured resource reached")
    assert (
        "Cannot be told: server workers, time outside the app and SQL: the server sent no "
        "account of its time (no answer carried Server-Timing): add "
        "perftest.middleware.ServerTimingMiddleware to the target's MIDDLEWARE."
    ) in found.evidence.splitlines()
    assert "Cannot be told: server CPU: the server's processes were not sampled" in found.evidence


def test_a_run_without_a_knee_or_a_capacity_search_ranks_nothing():
    run = load_run(environment=server_environment(2))
    add_level(run, 1, 19.6, 60.0, server_timing=server_timing(400, 50.0, 0.2, 1.0))
    add_level(run, 2, 39.0, 60.0, server_timing=server_timing(400, 50.0, 0.2, 1.2))
    assert not of_rule(analyzed(run), first_to_break.FIRST_TO_BREAK)
