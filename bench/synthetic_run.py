"""A large run built without measuring anything: N endpoints × L closed load levels.

Its figures come from a seeded random stream recorded through the real result classes
(``EndpointResult.record``, HDR histograms, time windows over a 5 s phase, level merges), and
it is stored through ``store.write`` and analysed as the runner does, so rendering it reads
exactly the rows a real run of that size would have. Used by ``report_rendering.py`` and by
the test that keeps report rendering at a constant number of queries.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random

from perftest.analysis.findings import analyse
from perftest.measure.endpoint_result import EndpointResult
from perftest.measure.result import LevelResult, ResourceSample, ResourceSeries, RunResult
from perftest.measure.transport.base import Sample
from perftest.measure.windows import LatencyWindows
from perftest.redact import Redactor
from perftest.store import read, write

STARTED = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
MS = 1_000_000
#: Every phase lasts this long; the answers of an endpoint are spread evenly over it, so each
#: row keeps the time windows a real phase of that length would.
PHASE_NS = 5_000 * MS


def _endpoint(index: int, answers: int, stream: random.Random, phase: int) -> EndpointResult:
    """One endpoint of the ``phase``-th phase (0: sequential, then each level)."""
    name = f"Endpoint {index:02d}"
    started_ns = int(STARTED.timestamp() * 1e9) + phase * 2 * PHASE_NS
    answered_at = itertools.count(started_ns, PHASE_NS // answers)
    result = EndpointResult(name, "GET", f"/api/e{index:02d}/", 200)
    result.windows = LatencyWindows(clock=answered_at.__next__)
    redactor = Redactor()
    base_ms = 2 + index % 17
    for n in range(answers):
        status = 500 if n % 97 == 96 else 200
        elapsed = int(stream.lognormvariate(0, 0.4) * base_ms * MS)
        queries = ["SELECT 1"] * (1 + index % 4)
        result.record(
            Sample(name, elapsed, status, size=200, queries=queries, sql_ns=elapsed // 4),
            redactor,
        )
    result.planned = answers
    return result


def _level(position: int, endpoints: int, answers: int, stream: random.Random) -> LevelResult:
    level = LevelResult("closed", 2**position, duration_s=5.0, identities=2**position)
    for index in range(endpoints):
        figures = _endpoint(index, answers, stream, position + 1)
        level.endpoints[figures.name] = figures
        level.overall.merge(figures)
    level.window_ns = PHASE_NS
    level.rampup_requests, level.login_requests = 10, 2**position
    level.generator_cpu_s, level.wall_s = 2.0, 5.0
    return level


def synthetic_run(levels: int, endpoints: int = 50, answers: int = 40) -> RunResult:
    """A completed in-process run of ``endpoints`` endpoints with ``levels`` closed levels."""
    stream = random.Random(levels * 1000 + endpoints)
    concurrency = [2**position for position in range(levels)]
    planned = [
        {"name": f"Endpoint {i:02d}", "method": "GET", "path": f"/api/e{i:02d}/"}
        for i in range(endpoints)
    ]
    return RunResult(
        mode="in-process",
        target="URLconf bench",
        label=f"{endpoints} endpoints x {levels} levels",
        iterations=answers,
        warmup=0,
        config={"endpoints": planned, "iterations": answers, "warmup": 0,
                "load": {"concurrency": concurrency, "duration_s": 5.0}},
        environment={"python": "3", "django": "5", "cpu_count": 2},
        started_at=STARTED,
        finished_at=STARTED + dt.timedelta(seconds=60),
        status="completed",
        endpoints=[_endpoint(i, answers, stream, 0) for i in range(endpoints)],
        levels=[_level(p, endpoints, answers, stream) for p in range(levels)],
        resources=ResourceSeries(
            "this process",
            0.5,
            2,
            [ResourceSample(i * 0.5, (100 + i) * 2**20, 50.0, 4, 3) for i in range(120)],
        ),
    )  # fmt: skip


def store(result: RunResult) -> int:
    """Store and analyse ``result`` as the runner does; the run's id."""
    run = write.begin(result)
    write.save(run, result)
    write.save_findings(run, analyse(read.load(run.pk)))
    return run.pk
