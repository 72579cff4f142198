"""perftest's HTTP engine against wrk, on the same loopback targets in the same run.

Two targets, both started here on 127.0.0.1 and stopped by pid at the end:
1. nginx answering ``200 ok`` from memory: the fastest server at hand, so the figures show
   the client's own ceiling. nginx's access log counts what it handled, which must equal
   what perftest sent.
2. the stand-in (gunicorn, SQLite file) serving ``GET /api/scheduling/lessons/`` (a page of
   seeded lessons, about 9 KB) and ``GET /api/profile/me/`` (a few hundred bytes) with a
   token: at concurrency 1, perftest's median must be within 15 % or 0.5 ms of wrk's, and its
   CPU per request shows what a large body costs the client against a tiny one.

perftest's side is what a closed-loop HTTP run does: N threads, each with its own
HttpTransport, sending back to back for a fixed time and recording into LatencyStats,
merged at the end. Its CPU per request is this process's CPU time over requests sent.

    apt-get install -y wrk nginx
    .venv/bin/python bench/http_vs_wrk.py [--duration 5] [--levels 1,10]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

from targets import lines, nginx, settled, use_temporary_database

use_temporary_database()

from django.core.management import call_command  # noqa: E402

from perftest.measure.stats import LatencyStats  # noqa: E402
from perftest.measure.transport.base import RequestSpec  # noqa: E402
from perftest.measure.transport.http import HttpTransport  # noqa: E402
from tests.support.live_server import run_gunicorn  # noqa: E402

#: The stand-in endpoints measured: a large list body and a tiny one.
STANDIN_PATHS = ("/api/scheduling/lessons/", "/api/profile/me/")
P50_TARGET_RATIO, P50_TARGET_MS = 0.15, 0.5
_WRK_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


@dataclass
class Figures:
    requests: int
    errors: int
    per_second: float
    p50_ms: float
    cpu_ms_per_request: float | None = None
    body_bytes: int = 0


def perftest_loop(base_url: str, spec: RequestSpec, connections: int, duration: float) -> Figures:
    """Closed loop: each thread sends back to back with its own transport until time is up."""
    results: list[tuple[LatencyStats, int]] = []
    start = threading.Barrier(connections + 1)
    deadline_ns = 0

    def worker() -> None:
        transport, stats, errors, size = HttpTransport(base_url), LatencyStats(), 0, 0
        start.wait()
        while time.perf_counter_ns() < deadline_ns:
            sample = transport.send(spec)
            stats.record(sample.elapsed_ns)
            size = sample.size
            if sample.status != 200:
                errors += 1
        transport.close()
        results.append((stats, errors, size))  # list.append is atomic; merged after join

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    deadline_ns = time.perf_counter_ns() + int(duration * 1e9)
    start.wait()
    for thread in threads:
        thread.join()
    wall, cpu = time.perf_counter() - wall_start, time.process_time() - cpu_start
    merged = LatencyStats()
    for stats, _, _ in results:
        merged.merge(stats)
    errors = sum(e for _, e, _ in results)
    return Figures(
        merged.count,
        errors,
        merged.count / wall,
        merged.percentile_ms(50),
        cpu * 1000 / max(merged.count, 1),
        max(size for _, _, size in results),
    )


def wrk(url: str, connections: int, duration: float, headers: tuple[str, ...] = ()) -> Figures:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration:g}s", "--latency", url]
    for header in headers:
        command[1:1] = ["-H", header]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    p50 = re.search(r"^\s*50%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    return Figures(
        int(re.search(r"(\d+) requests in", out).group(1)),
        int(errors.group(1) if errors else 0)
        + sum(int(n) for n in (socket_errors.groups() if socket_errors else ())),
        float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        float(p50.group(1)) * _WRK_UNITS[p50.group(2)],
    )


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "-"


def print_row(target: str, c: int, ours: Figures, theirs: Figures, note: str = "") -> None:
    print(
        f"{target:10} {c:>3} {ours.per_second:>10.0f} {theirs.per_second:>10.0f} "
        f"{ratio(ours.per_second, theirs.per_second):>6} {ours.p50_ms:>9.3f} "
        f"{theirs.p50_ms:>9.3f} {ratio(ours.p50_ms, theirs.p50_ms):>6} "
        f"{ours.cpu_ms_per_request:>8.3f} {ours.body_bytes:>6} {ours.errors:>4}/{theirs.errors:<4} "
        f"{note}"
    )


def bench_nginx(levels: list[int], duration: float) -> None:
    spec = RequestSpec("static", "GET", "/")
    with nginx() as (base_url, access_log):
        for c in levels:
            before = lines(access_log)
            ours = perftest_loop(base_url, spec, c, duration)
            handled = settled(lambda: lines(access_log)) - before
            theirs = wrk(base_url + "/", c, duration)
            note = "handled = sent" if handled == ours.requests else f"handled {handled}!"
            print_row("nginx", c, ours, theirs, note)


def standin_token(base_url: str, email: str, password: str) -> str:
    body = json.dumps({"email": email, "password": password}).encode()
    transport = HttpTransport(base_url)
    login = transport.send(
        RequestSpec("Login", "POST", "/api/auth/login/", (), body, "application/json")
    )
    transport.close()
    return json.loads(login.body)["data"]["token"]


def bench_standin(duration: float) -> None:
    from perftest.conf import get_config
    from perftest.lifecycle.seeding import Seeding

    call_command("migrate", verbosity=0)
    seeding = Seeding(
        get_config()["IDENTITY"], "thebot_settings.standin.seed.seed_sample_data", None
    )
    identity = seeding.create_identities(1)[0]
    try:
        with run_gunicorn(os.environ["DATABASE_URL"], workers=1, threads=2) as server:
            token = standin_token(server.base_url, identity.email, identity.password)
            header = ("Authorization", f"Token {token}")
            for path in STANDIN_PATHS:
                spec = RequestSpec(path, "GET", path, (header,))
                before = settled(server.handled)
                ours = perftest_loop(server.base_url, spec, 1, duration)
                handled = server.handled() - before
                theirs = wrk(server.base_url + path, 1, duration, (f"{header[0]}: {header[1]}",))
                gap = abs(ours.p50_ms - theirs.p50_ms)
                within = gap <= max(P50_TARGET_RATIO * theirs.p50_ms, P50_TARGET_MS)
                note = "handled = sent" if handled == ours.requests else f"handled {handled}!"
                note += f"; p50 gap {gap:.3f} ms: " + ("within" if within else "OUTSIDE target")
                print_row(path.split("/")[-2], 1, ours, theirs, note)
    finally:
        seeding.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement")
    parser.add_argument("--levels", default="1,10", help="connection counts against nginx")
    args = parser.parse_args()
    levels = [int(level) for level in args.levels.split(",")]
    if not shutil.which("wrk"):
        sys.exit("This bench needs wrk: apt-get install -y wrk nginx")

    print(f"{os.cpu_count()} CPUs; {args.duration:g} s per measurement; wrk -t1 -cN --latency")
    print(
        f"{'target':10} {'c':>3} {'perftest/s':>10} {'wrk/s':>10} {'ratio':>6} "
        f"{'p50 ms':>9} {'wrk p50':>9} {'ratio':>6} {'cpu ms/r':>8} {'bytes':>6} {'errors':>9}"
    )
    bench_nginx(levels, args.duration)
    bench_standin(args.duration)


if __name__ == "__main__":
    main()
