"""Rendering a stored run reads it in a constant number of queries, however many load levels
it has (the timing of a 50 × 10 run is in bench/report_rendering.py, not asserted here)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.synthetic_run import store, synthetic_run
from perftest.reports import formats
from perftest.store import read

pytestmark = pytest.mark.django_db


def queries_to_render(pk: int, report: formats.Format) -> int:
    with CaptureQueriesContext(connection) as captured:
        report.render(read.load(pk))
    return len(captured)


@pytest.mark.parametrize("report", formats.FORMATS.values(), ids=formats.FORMATS)
def test_rendering_takes_the_same_queries_for_one_and_ten_levels(report, django_assert_num_queries):
    one = store(synthetic_run(levels=1, endpoints=3, answers=5))
    ten = store(synthetic_run(levels=10, endpoints=3, answers=5))

    expected = queries_to_render(one, report)
    assert expected <= 6  # the run, then one query per table of rows
    with django_assert_num_queries(expected):
        report.render(read.load(ten))
