"""Latency per time window: recorded per answer as expected, merged across workers and widths,
bounded, carried to another process, stored with every endpoint and level, drawn over time.

The window logic is proven with an injected clock (no sleeping); a real run with a 3 s closed
level proves the stored rows, the report's chart and sentence and the byte-identical re-render.
"""

from __future__ import annotations

import io
import json
import re
import threading

import pytest
from django.core.management import call_command

from perftest import models
from perftest.measure.endpoint_result import EndpointResult
from perftest.measure.transport.base import Sample
from perftest.measure.windows import MAX_WINDOWS, LatencyWindows, bucket_us
from perftest.redact import Redactor
from perftest.reports import charts, formats
from perftest.store.read import StoredRun
from perftest.store.windows import Windows
from perftest.text import level_label
from tests.support.report_checks import validate
from tests.support.stored_rows import add_level, load_run

SECOND_NS = 1_000_000_000
#: A bucket's midpoint is within 1/64 of the value; HDR's 3 digits add at most 0.1 %.
RESOLUTION = 1 / 64 + 0.001
#: Two light endpoints, one 3 s closed level of two workers, every format.
LEVEL_RUN = [
    "--endpoints", "Get Profile,Get Notifications", "--warmup", "1", "--iterations", "3",
    "--concurrency", "2", "--duration", "3", "--ramp-up", "0", "--exit-zero",
    "--format", ",".join(formats.FORMATS),
]  # fmt: skip


class Clock:
    """A wall clock a test sets: the windows read ``now`` instead of ``time.time_ns``."""

    def __init__(self) -> None:
        self.now = 0

    def __call__(self) -> int:
        return self.now


#: (wall-clock ns, latency ns) of answers spread over ``seconds``, a few per second, with
#: latencies over four orders of magnitude so many buckets are used.
def answers(seconds: int, start_s: int = 1_700_000_000) -> list[tuple[int, int]]:
    return [
        ((start_s + second) * SECOND_NS + k * 97_000_000, (37 + 7_919 * (second * 5 + k)) * 1_000)
        for second in range(seconds)
        for k in range(5)
    ]


def recorded(events: list[tuple[int, int]], **fields) -> LatencyWindows:
    clock = Clock()
    windows = LatencyWindows(clock=clock, **fields)
    for at, elapsed in events:
        clock.now = at
        windows.record(elapsed)
    return windows


def answers_counted(windows: LatencyWindows) -> int:
    return sum(sum(buckets.values()) for buckets in windows.windows.values())


def endpoint(windows: LatencyWindows | None = None) -> EndpointResult:
    result = EndpointResult("Get Profile", "GET", "/api/profile/", 200)
    if windows is not None:
        result.windows = windows
    return result


def test_bucket_values_keep_six_significant_bits_within_one_sixty_fourth():
    for micros in (0, 1, 63, 64, 65, 100, 3_100, 12_345, 999_999, 3_600_000_000):
        bucket = bucket_us(micros)
        assert abs(bucket - micros) <= micros / 64
        assert bucket_us(bucket) == bucket  # a stored value is its own bucket
    assert len({bucket_us(m) for m in range(1_024, 2_048)}) == 32  # 32 per doubling


def test_two_worker_threads_merge_into_the_windows_one_recorder_would_keep():
    events = answers(20)
    workers = [endpoint(LatencyWindows(clock=Clock())) for _ in range(2)]

    def work(result: EndpointResult, mine: list[tuple[int, int]]) -> None:
        for at, elapsed in mine:
            result.windows.clock.now = at
            result.record(Sample("Get Profile", elapsed, 200), Redactor())

    threads = [
        threading.Thread(target=work, args=(result, events[index::2]))
        for index, result in enumerate(workers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    merged = endpoint()
    for result in workers:
        merged.merge(result)

    alone = recorded(events)
    assert merged.windows == alone
    assert len(alone.windows) == 20 and answers_counted(merged.windows) == merged.ok == 100


def test_merging_windows_of_different_widths_is_exact_at_the_coarser_width_in_any_order():
    long_events, short_events = answers(100), answers(10, start_s=1_700_000_040)
    long, short = recorded(long_events), recorded(short_events)
    assert (long.width_ns, short.width_ns) == (2 * SECOND_NS, SECOND_NS)

    one_way = recorded(long_events)
    one_way.merge(short)
    other_way = recorded(short_events)
    other_way.merge(long)

    everything = recorded(sorted(long_events + short_events))
    assert one_way == other_way == everything
    assert one_way.width_ns == 2 * SECOND_NS
    assert answers_counted(one_way) == len(long_events) + len(short_events)


def test_recording_past_max_windows_doubles_the_width_and_loses_no_count():
    events = answers(1_000)

    windows = recorded(events)

    assert len(windows.windows) <= MAX_WINDOWS
    # 1000 s in windows of 16 s would be 63 windows: one more doubling, to 32 s.
    assert windows.width_ns == 32 * SECOND_NS
    assert answers_counted(windows) == len(events)
    assert windows == recorded(events, width_ns=32 * SECOND_NS)


def test_windows_and_endpoint_results_survive_a_json_round_trip_exactly():
    result = endpoint(LatencyWindows(clock=Clock()))
    for at, elapsed in answers(70):
        result.windows.clock.now = at
        result.record(Sample("Get Profile", elapsed, 200), Redactor())

    carried = EndpointResult.from_dict(json.loads(json.dumps(result.to_dict())))

    assert carried.windows == result.windows and carried.windows.width_ns == 2 * SECOND_NS
    assert carried.windows.stored() == result.windows.stored()
    assert carried.to_dict() == result.to_dict()


def test_stored_windows_read_back_oldest_first_with_offsets_from_the_first():
    stored = recorded(answers(3, start_s=1_700_000_100)).stored()

    windows = Windows.from_stored(json.loads(json.dumps(stored)))

    assert windows.width_s == 1.0
    assert [(w.offset_s, w.count) for w in windows.windows] == [(0.0, 5), (1.0, 5), (2.0, 5)]
    assert windows.pooled().count == 15
    # Rows stored before windows existed, and rows with no answer as expected, have none.
    assert Windows.from_stored({}) == Windows.from_stored(None) == Windows()
    assert LatencyWindows().stored() == {}


@pytest.mark.django_db
def test_the_over_time_chart_needs_two_windows_of_a_level():
    run = load_run()
    one = recorded(answers(1, start_s=1_700_000_000)).stored()
    three = recorded(answers(3, start_s=1_700_000_000)).stored()
    add_level(run, 1, 50.0, 20.0, windows=one)
    add_level(run, 10, 120.0, 40.0, windows=three)
    add_level(run, 30, 125.0, 112.0)  # stored before windows existed

    drawn = charts.over_time(StoredRun.of(run))

    assert [chart.title for chart in drawn] == ["p50 and p95 over time, 10 concurrent"]
    p50, p95 = drawn[0].series
    assert (p50.name, p95.name) == ("p50", "p95")
    assert [x for x, _ in p95.points] == [0.0, 1.0, 2.0]
    assert all(low <= high for (_, low), (_, high) in zip(p50.points, p95.points, strict=True))


def rows_with_figures(stored: StoredRun) -> list:
    level_rows = [row for level in stored.levels for row in stored.endpoints_of(level)]
    return [*stored.sequential, *stored.levels, *level_rows]


@pytest.fixture
def level_run(tmp_path) -> StoredRun:
    """A real in-process run of the stand-in API with one closed level of 3 s."""
    call_command("perftest", "--output", str(tmp_path), *LEVEL_RUN, stdout=io.StringIO())
    return StoredRun.of(models.Run.objects.latest("pk"))


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_three_second_level_stores_windows_that_count_every_answer_as_expected(level_run):
    (level,) = level_run.levels
    assert level.ok and len(level_run.endpoints_of(level)) == 2

    for row in rows_with_figures(level_run):
        windows = Windows.from_stored(row.windows)
        assert windows.width_s == 1.0
        assert sum(window.count for window in windows.windows) == row.ok, row.name
        offsets = [window.offset_s for window in windows.windows]
        assert offsets == sorted(offsets) and offsets[0] == 0.0
        assert all(
            [value for value, _ in w.values_us] == sorted(value for value, _ in w.values_us)
            for w in windows.windows
        )
        pooled = windows.pooled()
        for percentile, stored_ms in ((50, row.p50_ms), (95, row.p95_ms)):
            assert pooled.percentile_ms(percentile) == pytest.approx(stored_ms, rel=RESOLUTION)
    for row in (level, *level_run.endpoints_of(level)):
        assert len(row.windows["windows"]) >= 3, row.name


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_reports_of_a_level_show_its_windows_and_re_render_byte_identically(
    level_run, tmp_path
):
    run, (level,) = level_run.row, level_run.levels
    written = {
        name: (tmp_path / f"run-{run.pk}.{r.extension}") for name, r in formats.FORMATS.items()
    }

    page = written["html"].read_text(encoding="utf-8")
    title = f"p50 and p95 over time, {level_label(level)}"
    chart = next(s for s in re.findall(r"<svg.*?</svg>", page, flags=re.S) if title in s)
    assert ">p50<" in chart and ">p95<" in chart  # the legend of both series
    assert "Latency per time window:" in written["md"].read_text(encoding="utf-8")
    document = validate(written["json"].read_text(encoding="utf-8"))
    assert document["levels"][0]["windows"] == level.windows
    assert [row["windows"] for row in document["levels"][0]["endpoints"]] == [
        row.windows for row in level_run.endpoints_of(level)
    ]

    again = tmp_path / "again"
    call_command("perftest_report", str(run.pk), "--format", ",".join(formats.FORMATS),
                 "--output", str(again))  # fmt: skip
    for path in written.values():
        assert (again / path.name).read_bytes() == path.read_bytes(), path.name


def test_answers_not_as_expected_are_counted_per_window_bounded_and_merged_exactly():
    # Two workers: every third answer of each is a 500, over 4 × MAX_WINDOWS seconds, so the
    # windows widen twice; errors and answers as expected share the windows and the bound.
    seconds = 4 * MAX_WINDOWS
    workers = [endpoint(LatencyWindows(clock=Clock())) for _ in range(2)]
    for index, result in enumerate(workers):
        for second in range(seconds):
            result.windows.clock.now = (1_700_000_000 + second) * SECOND_NS + index
            status = 500 if (second + index) % 3 == 0 else 200
            result.record(Sample("Get Profile", 1_000_000, status), Redactor())
    merged, other = workers
    merged.merge(other)
    windows = merged.windows
    assert len(windows.windows.keys() | windows.errors.keys()) <= MAX_WINDOWS
    assert sum(windows.errors.values()) == merged.requests - merged.ok > 0
    assert answers_counted(windows) == merged.ok
    # Each window keeps its own share: a third of its answers failed, give or take one.
    stored = Windows.from_stored(windows.stored())
    failed = dict(stored.errors)
    for window in stored.windows:
        total = window.count + failed.get(window.offset_s, 0)
        assert abs(failed.get(window.offset_s, 0) - total / 3) <= 2
    # Carried to another process and back: equal.
    assert LatencyWindows.from_dict(windows.to_dict()) == windows
