"""Where memory grew, by line: ``tracemalloc`` totals per line compared between two moments
name the line that allocated what stayed, with its growth in bytes and blocks, never a path
of this machine; tracing stops afterwards only if perftest started it."""

from __future__ import annotations

import inspect
import os
import sysconfig
import tracemalloc
from pathlib import Path

import pytest

from perftest.measure.allocations import (
    AllocationTrace,
    growing_sites,
    line_totals,
    project_roots,
    site_name,
)
from perftest.measure.soak import Checkpoints
from perftest.plan.soak import SoakPlan

KEPT = 100 * 1024
TIMES = 20


def _keep(into: list[bytearray]) -> None:
    into.append(bytearray(KEPT))  # the line that keeps memory


KEEPING_LINE = inspect.getsourcelines(_keep)[1] + 1


@pytest.fixture
def tracing():
    """tracemalloc on for the test (as perftest starts it: one frame), as it was afterwards."""
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start(1)
    yield
    if not was_tracing:
        tracemalloc.stop()


def test_the_line_that_keeps_memory_is_named_with_its_growth(tracing):
    kept: list[bytearray] = []
    before = line_totals()
    for _ in range(TIMES):
        _keep(kept)
    after = line_totals()

    sites = growing_sites(before, after, project_roots())

    top = sites[0]
    assert (top["file"], top["line"]) == ("tests/measure/test_allocations.py", KEEPING_LINE)
    assert top["size_growth"] >= TIMES * KEPT and top["count_growth"] >= TIMES
    assert top["size"] >= top["size_growth"] and top["count"] >= top["count_growth"]
    growths = [site["size_growth"] for site in sites]
    assert growths == sorted(growths, reverse=True) and min(growths) > 0


def test_lines_that_gave_memory_back_are_not_growing_sites():
    before = {("a.py", 1): (5000, 5), ("a.py", 2): (100, 1)}
    after = {("a.py", 1): (1000, 1), ("a.py", 2): (300, 3), ("a.py", 3): (50, 1)}
    sites = growing_sites(before, after, [])
    assert [(s["file"], s["line"], s["size_growth"], s["count_growth"]) for s in sites] == [
        ("a.py", 2, 200, 2),
        ("a.py", 3, 50, 1),
    ]


def test_file_names_are_never_paths_of_this_machine():
    packages = sysconfig.get_paths()["purelib"]
    assert site_name(os.path.join(packages, "django", "db", "models.py"), []) == (
        "site-packages/django/db/models.py"
    )
    root = str(Path(__file__).resolve().parents[2])
    assert site_name(os.path.join(root, "perftest", "conf.py"), [root]) == "perftest/conf.py"
    assert site_name("/srv/elsewhere/app/views.py", [root]) == "views.py"
    assert site_name("<frozen posixpath>", [root]) == "<frozen posixpath>"
    stdlib = sysconfig.get_paths()["stdlib"]
    assert site_name(os.path.join(stdlib, "json", "encoder.py"), project_roots()) == (
        "json/encoder.py"
    )


def test_a_trace_stops_tracing_only_when_it_started_it(tracing):
    trace = AllocationTrace([])
    trace.start()
    trace.warmup_over()
    assert trace.finish(0) is not None
    assert tracemalloc.is_tracing()  # the fixture started it: left on


def test_a_trace_that_started_tracing_stops_it_and_names_nothing_before_the_warm_up_ended():
    if tracemalloc.is_tracing():
        pytest.skip("tracemalloc was already on in this process")
    trace = AllocationTrace([])
    trace.start()
    assert tracemalloc.is_tracing() and tracemalloc.get_traceback_limit() == 1
    assert trace.finish(0) is None  # no snapshot at the warm-up's end: nothing to compare
    assert not tracemalloc.is_tracing()


def _never_merged():
    raise AssertionError("no checkpoint is due within the test")


def test_the_first_snapshot_waits_for_the_warm_up_to_end(tracing):
    trace = AllocationTrace([])
    checkpoints = Checkpoints(SoakPlan(60.0, 3600.0, 600.0, True), lambda level: None, trace)
    checkpoints.start()
    checkpoints.poll(_never_merged)
    assert trace.finish(0) is None  # an hour of warm-up still to go: no snapshot yet


def test_without_a_warm_up_the_first_snapshot_is_taken_as_the_workers_are_released(tracing):
    trace = AllocationTrace([])
    checkpoints = Checkpoints(SoakPlan(60.0, 0.0, 600.0, True), lambda level: None, trace)
    checkpoints.start()
    assert trace.finish(0) is not None
