"""What ``ServerTimingMiddleware`` costs the target per request, with the run's header and
without: targets (issue 19) at most 30 µs with a valid header, at most 2 µs without.

The middleware is called around a ``get_response`` that returns a prebuilt ``HttpResponse``
(the view and the rest of the stack cost the same either way), with requests built once by
``RequestFactory``. Four loops run side by side in one process, in interleaved rounds whose
order rotates, each block timed in this thread's CPU time so other processes on a shared
machine do not inflate it; the figures are the medians over the rounds, in µs per request:

- no middleware: ``get_response`` alone (the floor);
- without header: the middleware, a request without ``X-Perftest-Timing`` (everyone else's);
- valid header, cached: the run's token, already verified (every request of a run but one);
- valid header, first time: a token the middleware has not seen (two HMAC-SHA256).

    .venv/bin/python bench/server_timing_cost.py [--rounds 41] [--block 2000]
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

from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.test import RequestFactory  # noqa: E402

from perftest.conf import timing_secret  # noqa: E402
from perftest.middleware import ServerTimingMiddleware  # noqa: E402
from perftest.timing_header import ANSWER, META_KEY, new_token  # noqa: E402

RESPONSE = HttpResponse(b"ok", content_type="text/plain")


def get_response(request: HttpRequest) -> HttpResponse:
    """The rest of the stack: the prebuilt answer, without the header an earlier call set
    (so every loop pays the same for it)."""
    RESPONSE.headers.pop(ANSWER, None)
    return RESPONSE


def block(call: Callable[[HttpRequest], HttpResponse], requests: list[HttpRequest]) -> float:
    """µs of this thread's CPU per request over ``requests``."""
    start = time.thread_time_ns()
    for request in requests:
        call(request)
    return (time.thread_time_ns() - start) / len(requests) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=41)
    parser.add_argument("--block", type=int, default=2000)
    args = parser.parse_args()
    factory, secret = RequestFactory(), timing_secret()
    middleware = ServerTimingMiddleware(get_response)
    token = new_token(secret)
    plain = [factory.get("/api/profile/me/")] * args.block
    signed = [factory.get("/api/profile/me/", **{META_KEY: token})] * args.block
    assert ANSWER in middleware(signed[0]) and ANSWER not in middleware(plain[0])
    first = max(1, args.block // 4)  # fresh tokens are made outside the timed blocks

    def fresh_block() -> float:
        requests = [
            factory.get("/api/profile/me/", **{META_KEY: new_token(secret)}) for _ in range(first)
        ]
        return block(middleware, requests)

    loops: dict[str, Callable[[], float]] = {
        "no middleware": lambda: block(get_response, plain),
        "middleware, without header": lambda: block(middleware, plain),
        "middleware, valid header (cached)": lambda: block(middleware, signed),
        "middleware, valid header (first time)": fresh_block,
    }
    names = list(loops)
    for name in names:  # warm: caches, first allocations
        loops[name]()
    figures: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(args.rounds):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            figures[name].append(loops[name]())
    floor = statistics.median(figures["no middleware"])
    load = os.getloadavg()[0]
    print(f"{args.rounds} rounds, {args.block} requests per block, load average {load:.1f}")
    print("| loop | µs per request (median) | min–max of rounds | above no middleware |")
    print("| --- | --: | --: | --: |")
    for name in names:
        values = figures[name]
        median = statistics.median(values)
        spread = f"{min(values):.2f}–{max(values):.2f}"
        above = "—" if name == "no middleware" else f"{median - floor:+.2f}"
        print(f"| {name} | {median:.2f} | {spread} | {above} |")


if __name__ == "__main__":
    main()
