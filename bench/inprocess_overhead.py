"""perftest's in-process cost per request, against a bare django.test.Client loop.

Both loops run side by side in one process, alternating small blocks many times so that
machine noise hits both alike, and each block is timed in this thread's CPU time so that
other processes on a shared machine do not inflate it. The figures that matter are the
difference of the medians (µs per request) and their ratio.
Targets (issue 2): at most 10 µs per request, and at most 5 % on a trivial view.

    python bench/inprocess_overhead.py [--blocks 41] [--trivial 200] [--list 50]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thebot_settings.settings")
os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from django.urls import include, path  # noqa: E402

from perftest.measure.endpoint_result import EndpointResult  # noqa: E402
from perftest.measure.transport.base import RequestSpec  # noqa: E402
from perftest.measure.transport.inprocess import InProcessTransport  # noqa: E402
from perftest.redact import Redactor  # noqa: E402


def trivial(request):
    return HttpResponse(b"ok")


urlpatterns = [path("bench/trivial/", trivial), path("", include("thebot_settings.urls"))]


def bare_block(client: Client, path_: str, headers: dict[str, str], n: int) -> float:
    """A plain test Client loop; no transport is open, so no perftest capture is installed."""
    start = time.thread_time_ns()
    for _ in range(n):
        client.get(path_, **headers).content  # noqa: B018 - read the body as perftest does
    return per_request_us(start, n)


def perftest_block(spec: RequestSpec, n: int) -> float:
    """What a measured request costs: transport.send plus recording into the endpoint stats.

    The transport (and with it the SQL capture) lives for this block only, so the bare blocks
    between run without it; its setup is outside the timed loop, as it is outside a level's.
    """
    result = EndpointResult(spec.endpoint, spec.method, spec.path, 200)
    redactor = Redactor()
    with InProcessTransport() as transport:
        transport.send(spec)  # builds the request's environ once, as the first request does
        start = time.thread_time_ns()
        for _ in range(n):
            result.record(transport.send(spec), redactor)
        elapsed = per_request_us(start, n)
    assert result.ok == n, result.errors
    return elapsed


def per_request_us(start_ns: int, n: int) -> float:
    """CPU time of this thread per request: other processes' load does not inflate it."""
    return (time.thread_time_ns() - start_ns) / n / 1000


def compare(name: str, path_: str, token: str | None, n: int, blocks: int) -> dict[str, float]:
    """Alternate blocks of the two loops; compare the medians of their per-request costs."""
    headers = {"HTTP_AUTHORIZATION": f"Token {token}"} if token else {}
    spec_headers = (("Authorization", f"Token {token}"),) if token else ()
    spec = RequestSpec(name, "GET", path_, spec_headers)
    client = Client()
    bare_block(client, path_, headers, n)  # warm both paths
    perftest_block(spec, n)
    bare, measured = [], []
    for _ in range(blocks):
        bare.append(bare_block(client, path_, headers, n))
        measured.append(perftest_block(spec, n))
    bare_us, perftest_us = statistics.median(bare), statistics.median(measured)
    return {
        "bare_us": bare_us,
        "perftest_us": perftest_us,
        "overhead_us": perftest_us - bare_us,
        "ratio": perftest_us / bare_us,
    }


def seeded_login():
    """The bench database migrated, one identity and the stand-in's sample data seeded: the
    seeding (to clean up) and the identity's token."""
    call_command("migrate", verbosity=0)
    from perftest.conf import get_config
    from perftest.lifecycle.seeding import Seeding

    seeding = Seeding(
        get_config()["IDENTITY"], "thebot_settings.standin.seed.seed_sample_data", None
    )
    identity = seeding.create_identities(1)[0]
    login = Client().post(
        "/api/auth/login/",
        {"email": identity.email, "password": identity.password},
        content_type="application/json",
    )
    return seeding, login.json()["data"]["token"]


#: What both in-process benches measure: a label, the endpoint's name and path, and whether it
#: needs the logged-in identity's token.
TARGETS = (
    ("trivial view", "trivial", "/bench/trivial/", False),
    ("stand-in GET /api/scheduling/lessons/", "lessons", "/api/scheduling/lessons/", True),
)
#: One comparison: ``compare(name, path, token, requests_per_block, blocks)`` -> its figures.
Compare = Callable[[str, str, "str | None", int, int], dict[str, float]]


def compared_targets(description: str, compare: Compare) -> list[tuple[str, dict[str, float]]]:
    """Parse the benches' common options, seed, run ``compare`` on each target (the trivial
    view ``--trivial`` requests a block, the lesson list ``--list``), clean up."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--blocks", type=int, default=41, help="alternating blocks per target")
    parser.add_argument("--trivial", type=int, default=200, help="requests per trivial block")
    parser.add_argument("--list", type=int, default=50, help="requests per list block")
    args = parser.parse_args()
    seeding, token = seeded_login()
    try:
        with override_settings(ROOT_URLCONF="inprocess_overhead"):
            return [
                (label, compare(name, path_, token if authed else None, n, args.blocks))
                for (label, name, path_, authed), n in zip(
                    TARGETS, (args.trivial, args.list), strict=True
                )
            ]
    finally:
        seeding.cleanup()


def main() -> None:
    rows = compared_targets(__doc__.splitlines()[0], compare)
    print(f"{'target':40} {'bare µs':>9} {'perftest µs':>12} {'overhead µs':>12} {'ratio':>7}")
    for name, row in rows:
        print(
            f"{name:40} {row['bare_us']:9.1f} {row['perftest_us']:12.1f} "
            f"{row['overhead_us']:12.1f} {row['ratio']:7.3f}"
        )


if __name__ == "__main__":
    main()
