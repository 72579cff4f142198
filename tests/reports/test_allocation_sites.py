"""The reports show where an in-process soak's memory grew, from what its level stored: the
growing lines in a table under their own heading, the traced growth and the snapshots'
moments above it, and in the methodology that its latencies were measured with tracing on;
a level that traced nothing shows neither, and ``top_sites`` names nothing for it."""

from __future__ import annotations

import pytest

from perftest.analysis.allocations import top_sites
from perftest.reports import formats
from perftest.store import read
from tests.support.report_checks import validate
from tests.support.stored_rows import add_level, make_run, rendered

pytestmark = pytest.mark.django_db

SOAK = {"steady_s": 60.0, "warmup_s": 6.0, "checkpoint_s": 60.0, "checkpoints": 1}
LEAK = {
    "file": "app/views.py",
    "line": 12,
    "size_growth": 30 * 2**20,
    "count_growth": 1200,
    "size": 33 * 2**20,
    "count": 1300,
}
SMALL = {"file": "weakref.py", "line": 575, "size_growth": 2048, "count_growth": 3, "size": 4096,
         "count": 6}  # fmt: skip
ALLOCATIONS = {
    "depth": 1,
    "warmup_snapshot_s": 6.1,
    "end_snapshot_s": 66.2,
    "snapshot_pause_ms": 57.2,
    "traced_before": 7 * 2**20,
    "traced_after": 38 * 2**20,
    "traced_growth": 31 * 2**20,
    "tracing_overhead": 2 * 2**20,
    "sites": [LEAK, SMALL],
}


def _soak_run(soak: dict):
    run = make_run(mode="in-process")
    level = add_level(run, 2, 20.0, 5.0, model="open", rate=20.0, transport="in-process", soak=soak)
    return run, level


def test_the_report_names_the_lines_where_memory_grew_and_says_tracing_was_on():
    run, level = _soak_run({**SOAK, "allocations": ALLOCATIONS})

    assert [site.where for site in top_sites(level)] == ["app/views.py:12", "weakref.py:575"]
    assert top_sites(level, 1)[0].size_growth == 30 * 2**20
    report = rendered(run)
    assert "## Where memory grew (allocation sites, in-process)" in report
    assert (
        "Level 20 req/s open, 2 workers: between the warm-up's end (6.1 s into the level) and "
        "the steady part's end (1 min 6 s into the level), the memory tracemalloc traced grew by "
        "31.0 MB (7.0 MB to 38.0 MB)."
    ) in report
    assert "| app/views.py:12 | +30.0 MB | 1200 | 33.0 MB | 1300 |" in report
    assert "| weakref.py:575 | +2.0 KB | 3 | 4.0 KB | 6 |" in report
    assert (
        "its latencies were measured with tracing on, which slows every allocation of this "
        "process; the warm-up's snapshot held the process 57.2 ms and tracemalloc itself held "
        "2.0 MB at the end"
    ) in report
    stored = read.load(run.pk)
    document = validate(formats.FORMATS["json"].render(stored))
    assert document["levels"][0]["soak"]["allocations"]["sites"][0] == LEAK


def test_a_soak_that_traced_nothing_shows_no_allocation_sites():
    run, level = _soak_run(dict(SOAK))

    assert top_sites(level) == []
    report = rendered(run)
    assert "Where memory grew" not in report and "tracemalloc" not in report


def test_an_interrupted_soak_compares_up_to_its_interruption():
    run, level = _soak_run({**SOAK, "allocations": ALLOCATIONS})
    level.interrupted = True
    level.save()

    assert "the warm-up's end (6.1 s into the level) and its interruption (1 min 6 s" in (
        rendered(run)
    )
