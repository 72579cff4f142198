"""What crosses between perftest's Locust processes, as JSON-ready data, and its exact merge.

The command hands the master a plan (``plan.json``) and one request per level; the master
hands each worker the plan and the level (``perftest_level``); each worker ships what it
measured since its last report (a *delta*: ``EndpointResult.to_dict`` per endpoint, HDR
histograms encoded) with Locust's periodic reports and a last one when its users are done.
``fold`` adds a delta to the level the master keeps: counts add, histograms add, so the
merge is exact whatever the order, and a worker lost mid-level loses only what it measured
after its last report. No module here imports Locust.
"""

from __future__ import annotations

from typing import Any

from perftest.measure.endpoint_result import EndpointResult
from perftest.measure.result import LevelResult
from perftest.measure.transport.base import RequestSpec

#: Custom Locust messages: master -> workers, then a worker's last delta of a level.
LEVEL_MESSAGE = "perftest_level"
DONE_MESSAGE = "perftest_done"
#: The key of a delta in Locust's report_to_master data.
REPORT_KEY = "perftest"


def spec_to_wire(spec: RequestSpec) -> dict[str, Any]:
    """A request as data; the body (JSON, so ASCII) travels as latin-1 text, byte for byte."""
    return {
        "endpoint": spec.endpoint,
        "method": spec.method,
        "path": spec.path,
        "headers": [list(pair) for pair in spec.headers],
        "body": None if spec.body is None else spec.body.decode("latin-1"),
        "content_type": spec.content_type,
    }


def spec_from_wire(data: dict[str, Any]) -> RequestSpec:
    body = data["body"]
    return RequestSpec(
        data["endpoint"],
        data["method"],
        data["path"],
        tuple((name, value) for name, value in data["headers"]),
        None if body is None else body.encode("latin-1"),
        data["content_type"],
    )


def empty_delta(level: int) -> dict[str, Any]:
    """A worker's figures for ``level`` since its last report, before any request."""
    return {
        "level": level,
        "endpoints": [],
        "rampup": 0,
        "late": 0,
        "dropped": 0,
        "max_lateness_ns": 0,
        "first_send_ns": 0,
        "last_done_ns": 0,
        "cpu_s": 0.0,
        "failures": [],
    }


def counted(delta: dict[str, Any]) -> tuple[int, int]:
    """Counted requests and answers as expected in a delta."""
    endpoints = delta["endpoints"]
    return sum(e["requests"] for e in endpoints), sum(e["ok"] for e in endpoints)


def fold(level: LevelResult, delta: dict[str, Any], marks: list[int]) -> None:
    """Add one worker's delta to ``level``; ``marks`` keeps [first send, last completion] in
    wall-clock ns over every worker (workers on other machines share no monotonic clock).

    A delta's ``cpu_s`` is its worker's own: the master keeps it per worker (``MasterLevel``).
    """
    for data in delta["endpoints"]:
        result = EndpointResult.from_dict(data)
        level.endpoints[result.name].merge(result)
        level.overall.merge(result)
    level.rampup_requests += delta["rampup"]
    level.late += delta["late"]
    level.dropped += delta["dropped"]
    level.max_lateness_ns = max(level.max_lateness_ns, delta["max_lateness_ns"])
    level.worker_failures.extend(delta["failures"])
    if delta["first_send_ns"] and (not marks[0] or delta["first_send_ns"] < marks[0]):
        marks[0] = delta["first_send_ns"]
    marks[1] = max(marks[1], delta["last_done_ns"])
    if marks[0]:
        level.window_ns = marks[1] - marks[0]
