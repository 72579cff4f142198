"""What a Locust worker ships crosses Locust's own message encoding (msgpack) whole.

msgpack's integers stop at 64 bits; a worker's report must never hold a larger one, or the
worker logs ``OverflowError`` and nothing more of its level arrives. The round trip runs in
a process of its own (``tests.support.locust_message``): importing Locust here would monkey-patch
this process with gevent.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from perftest.measure.endpoint_result import EndpointResult
from perftest.measure.load.locust_engine import wire as locust_wire
from perftest.measure.result import LevelResult
from perftest.measure.transport.base import Sample
from perftest.plan.engine import locust_installed
from perftest.redact import Redactor
from tests.support.live_server import REPO

pytestmark = pytest.mark.skipif(not locust_installed(), reason="needs perftest[locust]")

HOUR_NS = 3_600 * 1_000_000_000
MESSAGE_WAIT_S = 60


def through_locusts_encoding(data: dict) -> dict:
    """``data`` as the master receives it from a worker's report."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.support.locust_message"],
        cwd=REPO,
        input=json.dumps(data),
        capture_output=True,
        text=True,
        timeout=MESSAGE_WAIT_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_report_of_hour_long_answers_crosses_locusts_encoding_and_merges_exactly():
    endpoint = EndpointResult("Slow", "GET", "/slow/", 200)
    elapsed = [HOUR_NS - n for n in range(40)] + [1_000_000_000] * 19 + [250_000]
    for nanoseconds in elapsed:
        endpoint.record(Sample("Slow", nanoseconds, 200), Redactor())
    endpoint.record(Sample("Slow", HOUR_NS, 503), Redactor())  # an error class's own latency
    delta = locust_wire.empty_delta(0)
    delta["endpoints"] = [endpoint.to_dict()]
    squares = sum(n * n for n in elapsed)
    assert squares > 2**64  # far beyond what msgpack can carry as an integer

    received = through_locusts_encoding(delta)

    on_master, by_hand = LevelResult("closed", 4), LevelResult("closed", 4)
    for level, data in ((on_master, received), (by_hand, delta)):
        level.endpoints["Slow"] = EndpointResult("Slow", "GET", "/slow/", 200)
        locust_wire.fold(level, data, [0, 0])
        locust_wire.fold(level, data, [0, 0])  # a second report: the sums keep adding exactly
    latency = on_master.overall.latency
    assert (latency.count, latency.sum_ns, latency.sumsq_ns) == (
        2 * len(elapsed),
        2 * sum(elapsed),
        2 * squares,
    )
    assert on_master.to_dict() == by_hand.to_dict()
    assert on_master.endpoints["Slow"].errors["HTTP 503"].latency.max_ns == HOUR_NS
