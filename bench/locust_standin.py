"""Against a server-bound target, the Locust engine measures what the thread engine and wrk do.

The stand-in (gunicorn, two sync workers, SQLite file, sample data seeded) serves
``GET /api/scheduling/lessons/`` (a page of 20 lessons, about 9 KB) with a token. The same
closed level runs three ways in one run, alternating:

- ``manage.py perftest --engine threads`` (the real command: seeding, logins, storage);
- ``manage.py perftest --engine locust --processes N`` (the same, on Locust's runner; N is 1
  by default: on a 2-core machine that also runs the server, a second generator process takes
  CPU from the server, measured 0.85x of the others' throughput at 2, in line with them at 1);
- ``wrk -t1 -cN`` with a token of its own (no login, no recording: the client's floor).

For each: throughput and p50 (perftest's from the stored level; wrk's from its summary), and
for perftest, whether the server's own count (the ``tests.support.counting`` middleware)
equals every request the run says it sent. The server is the bottleneck here, so the three
throughputs should agree within the noise of this machine.

    .venv/bin/python bench/locust_standin.py [--concurrency 4] [--duration 5] [--rounds 2]
        [--processes 1]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from targets import settled, use_temporary_database

use_temporary_database()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import override_settings  # noqa: E402

from perftest.conf import get_config  # noqa: E402
from perftest.lifecycle.seeding import Seeding  # noqa: E402
from perftest.measure.transport.base import RequestSpec  # noqa: E402
from perftest.measure.transport.http import HttpTransport  # noqa: E402
from perftest.models import Run  # noqa: E402
from tests.support.live_server import run_gunicorn  # noqa: E402

SEEDER = "thebot_settings.standin.seed.seed_sample_data"
PATH = "/api/scheduling/lessons/"
_WRK_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def perftest(base_url: str, engine: list[str], concurrency: int, duration: float) -> Run:
    """The real command, one closed level on Get Lessons; the stored run."""
    with tempfile.TemporaryDirectory() as output:
        call_command(
            "perftest",
            "--base-url",
            base_url,
            "--endpoints",
            "Get Lessons",
            "--iterations",
            "1",
            "--warmup",
            "0",
            "--concurrency",
            str(concurrency),
            "--duration",
            f"{duration:g}",
            "--ramp-up",
            "1",
            "--output",
            output,
            "--exit-zero",
            *engine,
            stdout=io.StringIO(),
        )
    return Run.objects.latest("pk")


def sent_by(run: Run) -> int:
    sequential = sum(e.requests for e in run.endpoints.exclude(phase="level"))
    return sequential + len(run.logins) + sum(level.sent_total for level in run.levels.all())


def token(base_url: str, email: str, password: str) -> str:
    body = json.dumps({"email": email, "password": password}).encode()
    with HttpTransport(base_url) as transport:
        login = transport.send(
            RequestSpec("Login", "POST", "/api/auth/login/", (), body, "application/json")
        )
    return json.loads(login.body)["data"]["token"]


def wrk(url: str, header: str, connections: int, duration: float) -> tuple[float, float]:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration:g}s", "--latency", "-H", header]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    p50 = re.search(r"^\s*50%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    if re.search(r"Non-2xx|Socket errors", out):
        sys.exit(f"wrk met errors, its figures would not be comparable:\n{out}")
    return rps, float(p50.group(1)) * _WRK_UNITS[p50.group(2)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--processes", type=int, default=1, help="Locust worker processes")
    options = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("This bench needs wrk: apt-get install -y wrk")
    call_command("migrate", verbosity=0)
    c, duration = options.concurrency, options.duration
    print(f"{os.cpu_count()} CPUs; GET {PATH}, {c} concurrent, {duration:g} s levels")
    print(f"{'round':>5} {'client':>16} {'req/s':>8} {'p50 ms':>8}  server count")
    with (
        override_settings(PERFTEST={**settings.PERFTEST, "SEEDER": SEEDER}),
        run_gunicorn(os.environ["DATABASE_URL"], workers=2) as server,
    ):
        for round_ in range(1, options.rounds + 1):
            for name, engine in (
                ("perftest threads", ["--engine", "threads"]),
                ("perftest locust", ["--engine", "locust", "--processes", str(options.processes)]),
            ):
                before = settled(server.handled)
                run = perftest(server.base_url, engine, c, duration)
                level = run.levels.get()
                handled = server.handled() - before
                count = (
                    "handled = sent"
                    if handled == sent_by(run)
                    else f"handled {handled} ≠ sent {sent_by(run)}"
                )
                print(
                    f"{round_:>5} {name:>16} {level.throughput:>8.0f} {level.p50_ms:>8.2f}  "
                    f"{count} ({level.requests} counted, {level.ok} as expected)",
                    flush=True,
                )
            rps, p50 = wrk_round(server.base_url, c, duration)
            print(f"{round_:>5} {'wrk':>16} {rps:>8.0f} {p50:>8.2f}", flush=True)


def wrk_round(base_url: str, connections: int, duration: float) -> tuple[float, float]:
    """wrk as one identity of its own, seeded for the round (a perftest run reclaims
    identities no live run owns) and removed after it."""
    seeding = Seeding(get_config()["IDENTITY"], SEEDER, None)
    try:
        identity = seeding.create_identities(1)[0]
        key = token(base_url, identity.email, identity.password)
        return wrk(base_url + PATH, f"Authorization: Token {key}", connections, duration)
    finally:
        seeding.cleanup()


if __name__ == "__main__":
    main()
