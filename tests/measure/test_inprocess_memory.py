"""An in-process request leaves nothing behind: a soak of hours grows only by what the app
keeps. The test Client's own ``request`` (and its handler's signal reconnections) keep a few
hundred bytes per request for the client's life; perftest's transport must not."""

from __future__ import annotations

import gc
import tracemalloc

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client, override_settings

from perftest.measure.transport.base import RequestSpec
from perftest.measure.transport.inprocess import InProcessTransport

REQUESTS = 2000
#: Far below the ~300 B a request the test Client keeps, far above what noise can add.
KEPT_PER_REQUEST = 40

pytestmark = pytest.mark.django_db


def _traced_after(transport: InProcessTransport, spec: RequestSpec, requests: int) -> int:
    for _ in range(requests):
        transport.send(spec)
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


@override_settings(ROOT_URLCONF="tests.support.urls")
def test_in_process_requests_keep_nothing_per_request():
    spec = RequestSpec("Sleep", "GET", "/test/sleep/?ms=0", ())
    tracemalloc.start()
    try:
        with InProcessTransport() as transport:
            before = _traced_after(transport, spec, 200)  # caches and first allocations
            after = _traced_after(transport, spec, REQUESTS)
    finally:
        tracemalloc.stop()
    assert after - before < REQUESTS * KEPT_PER_REQUEST, f"{(after - before) / REQUESTS:.0f} B"


def _connected(signal) -> bool:
    return close_old_connections in [ref() for _, ref, _ in signal.receivers]


@override_settings(ROOT_URLCONF="tests.support.urls")
def test_the_last_transport_closed_leaves_the_request_signals_as_the_test_client_does():
    spec = RequestSpec("Sleep", "GET", "/test/sleep/?ms=0", ())
    with InProcessTransport() as first, InProcessTransport() as second:
        first.send(spec)
        Client().get("/test/sleep/?ms=0")  # puts close_old_connections back meanwhile
        assert second.send(spec).status == 200
        assert not _connected(request_started)  # taken off again for perftest's request
    assert _connected(request_started) and _connected(request_finished)
