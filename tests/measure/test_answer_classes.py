"""Every answer is counted; only the answers as expected make the verdict latency; each class
of unexpected answers keeps its own latency, SQL and Retry-After values, merges exactly and
survives the trip to another process."""

from __future__ import annotations

import json

from perftest.analysis.rules.base import asked_to_wait, retry_afters
from perftest.measure.endpoint_result import RETRY_AFTER_DISTINCT, EndpointResult
from perftest.measure.result import LevelResult
from perftest.measure.transport.base import Sample
from perftest.redact import Redactor
from perftest.store.write import _answer_class

MS = 1_000_000


def answer(ms: int, status: int | None = 200, **fields) -> Sample:
    return Sample("Get Profile", ms * MS, status, size=100, **fields)


def recorded(*samples: Sample) -> EndpointResult:
    result = EndpointResult("Get Profile", "GET", "/api/profile/me/", 200)
    for sample in samples:
        result.record(sample, Redactor())
    return result


def throttled(ms: int, retry_after: str) -> Sample:
    return answer(ms, 429, headers={"Retry-After": retry_after}, queries=["SELECT 1"] * 3)


def test_verdict_latency_holds_the_answers_as_expected_and_every_answer_is_counted():
    result = recorded(
        answer(40, queries=["SELECT 1"], sql_ns=4 * MS),
        answer(60, queries=["SELECT 1"], sql_ns=6 * MS),
        throttled(2, "3"),
        answer(1, None, error="connection refused"),
    )

    assert result.requests == 4 and result.ok == 2
    assert result.status_counts == {"200": 2, "429": 1, "none": 1}
    assert result.latency.count == 2 and result.latency.min_ms == 40 and result.latency.max_ms == 60
    rate_limited, refused = result.errors["HTTP 429"], result.errors["connection refused"]
    assert (rate_limited.count, rate_limited.latency.max_ms) == (1, 2)
    assert (refused.count, refused.latency.max_ms) == (1, 1)
    # SQL is counted for every answer, and the throttle's share is kept with its class.
    assert result.queries_total == 5 and rate_limited.queries == 3
    assert result.sql_ns_total == 10 * MS and rate_limited.sql_ns == 0


def test_answers_with_and_without_retry_after_are_counted_exactly_past_any_five_values():
    values = [str(n) for n in range(1, 8)]  # seven distinct waits, more than a report names
    result = recorded(
        *(throttled(1, value) for value in values * 2),
        throttled(1, "7"),
        answer(1, 429),  # a 429 with no Retry-After
    )

    group = result.errors["HTTP 429"]
    assert group.count == 16 and group.retry_after_answers == 15
    assert group.retry_after == {**{value: 2 for value in values}, "7": 3}
    waits = retry_afters(_Stored([_answer_class(group)]), ["HTTP 429"])
    assert (waits.told, waits.untold, waits.unlisted) == (15, 1, 0)
    # The five most frequent first (equal counts in value order), the rest counted.
    assert waits.text() == "7 ×3, 1 ×2, 2 ×2, 3 ×2, 4 ×2 and 2 more values"


def test_values_beyond_the_distinct_bound_are_still_counted_as_answers_with_the_header():
    first = recorded(*(throttled(1, str(n)) for n in range(RETRY_AFTER_DISTINCT)))
    second = recorded(throttled(1, "later-1"), throttled(1, "later-2"), throttled(1, "0"))
    first.merge(second)

    group = first.errors["HTTP 429"]
    assert group.retry_after_answers == RETRY_AFTER_DISTINCT + 3 == group.count
    assert len(group.retry_after) == RETRY_AFTER_DISTINCT and group.retry_after["0"] == 2
    waits = retry_afters(_Stored([_answer_class(group)]), ["HTTP 429"])
    assert (waits.told, waits.untold, waits.unlisted) == (RETRY_AFTER_DISTINCT + 3, 0, 2)
    assert waits.text().endswith(
        f" and {RETRY_AFTER_DISTINCT - 5} more values and 2 answers with further values not "
        "told apart"
    )


def test_a_run_stored_before_the_header_was_counted_never_reads_as_answers_without_it():
    # Stored by 1.2: five values kept, three more answers whose header nobody counted.
    old = _Stored([{"class": "HTTP 429", "count": 8, "retry_after": {"1": 5}}])
    waits = retry_afters(old, ["HTTP 429"])
    assert (waits.told, waits.untold, waits.unknown) == (5, 0, 3)
    assert asked_to_wait(waits) == "The server asked to retry after 1 ×5 (Retry-After)."


class _Stored:
    """The answer classes of a stored row, as the analysis reads them."""

    def __init__(self, answer_classes: list[dict]):
        self.answer_classes, self.errors = answer_classes, []


def test_answer_classes_merge_exactly_and_survive_a_json_round_trip():
    first = recorded(answer(10), throttled(2, "1"), throttled(4, "2"))
    second = recorded(answer(30), throttled(6, "2"), answer(1, None, error="timeout"))
    level = LevelResult("closed", 2)
    level.overall.merge(first)
    level.overall.merge(second)
    level.window_ns = 2_000 * MS

    merged = level.overall
    assert merged.requests == 6 and merged.ok == 2 and merged.latency.count == 2
    rate_limited = merged.errors["HTTP 429"]
    assert rate_limited.count == 3 and rate_limited.latency.count == 3
    assert rate_limited.latency.max_ms == 6 and rate_limited.retry_after == {"1": 1, "2": 2}
    assert level.ok_throughput == 1.0 and level.throughput == 3.0

    carried = LevelResult.from_dict(json.loads(json.dumps(level.to_dict())))
    assert carried.to_dict() == level.to_dict()
    again = carried.overall.errors["HTTP 429"]
    assert again.latency.percentile_ms(50) == rate_limited.latency.percentile_ms(50)
    assert again.retry_after == {"1": 1, "2": 2} and again.queries == 9
    assert again.retry_after_answers == 3
