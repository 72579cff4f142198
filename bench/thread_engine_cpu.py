"""The thread engine's CPU per request: the urllib3 transport it had against the one it has.

Two targets, started here on 127.0.0.1 and stopped by pid at the end, each at one connection:
1. the stand-in under gunicorn (1 worker x 2 threads, SQLite file, seeded as perftest seeds)
   serving ``Get Lessons``, a page of about 9 KB: target 0.25 ms of CPU per request;
2. nginx serving a small static file: target 0.12 ms.

Each measurement is a real closed level of one worker (``run_level`` with ``Closed(1)``):
the worker logs in through the platform's login as a run's workers do, sends for
``--seconds`` and records every answer as a run records it. Its CPU is what the level
itself reads (``generator_cpu_s``: this process's CPU from the release of the worker to its
end, servers excluded) over the requests sent in that time, ramp-up included. The two
transports take turns, ``--rounds`` times each, the order swapped every round, so a change in
the machine's load falls on both. Every level's requests are counted by the server too (the
stand-in's counting middleware, nginx's access log), logins included: "handled = sent", or the
figures are not exact.

    apt-get install -y nginx
    .venv/bin/python bench/thread_engine_cpu.py [--seconds 3] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from targets import STATIC_FILE, lines, nginx, settled, use_temporary_database

use_temporary_database()

from django.core.management import call_command  # noqa: E402
from urllib3_transport import Urllib3Transport  # noqa: E402

from perftest.conf import get_config  # noqa: E402
from perftest.lifecycle.seeding import Seeding  # noqa: E402
from perftest.measure.auth import endpoint_request, log_in  # noqa: E402
from perftest.measure.load.closed import Closed  # noqa: E402
from perftest.measure.load.engine import WorkerSetup  # noqa: E402
from perftest.measure.load.threads import WorkerKit, run_level  # noqa: E402
from perftest.measure.result import LevelResult  # noqa: E402
from perftest.measure.transport.base import RequestSpec, Transport  # noqa: E402
from perftest.measure.transport.http import HttpTransport  # noqa: E402
from perftest.plan.build import build_plan  # noqa: E402
from perftest.plan.model import Endpoint, Mix  # noqa: E402
from perftest.redact import Redactor  # noqa: E402
from tests.support.live_server import run_gunicorn  # noqa: E402

TRANSPORTS: dict[str, Callable[..., Transport]] = {
    "urllib3 (before)": Urllib3Transport,
    "http1 (now)": HttpTransport,
}
STANDIN, NGINX = "stand-in Get Lessons", "nginx static file"
#: The issue's targets, ms of CPU per request at one connection.
TARGET_MS = {STANDIN: 0.25, NGINX: 0.12}
RAMP_UP_S = 0.5


@dataclass
class Tally:
    """One transport's levels against one target."""

    sent: int = 0
    cpu_s: float = 0.0
    wall_s: float = 0.0
    mismatches: list[str] = field(default_factory=list)
    per_level_ms: list[float] = field(default_factory=list)
    p50_ms: list[float] = field(default_factory=list)
    errors: int = 0
    body_bytes: int = 0

    def add(self, level: LevelResult, handled: int) -> None:
        sent = level.overall.requests + level.rampup_requests
        if handled != sent + level.login_requests:
            self.mismatches.append(f"handled {handled}, sent {sent + level.login_requests}")
        self.sent += sent
        self.cpu_s += level.generator_cpu_s
        self.wall_s += level.wall_s
        self.per_level_ms.append(level.generator_cpu_s * 1000 / max(sent, 1))
        self.p50_ms.append(level.overall.latency.percentile_ms(50))
        self.errors += level.overall.requests - level.overall.ok + len(level.worker_failures)
        self.body_bytes = level.overall.bytes_total // max(level.overall.requests, 1)

    @property
    def cpu_ms(self) -> float:
        return self.cpu_s * 1000 / max(self.sent, 1)


@dataclass(frozen=True)
class Target:
    """A server to measure: where it is, what to send, and its own count of requests."""

    name: str
    base_url: str
    endpoint: Endpoint
    prepare: Callable[[int, Transport], WorkerSetup]
    handled: Callable[[], int]


def compare(target: Target, seconds: float, rounds: int) -> dict[str, Tally]:
    """Both transports' levels against ``target``, taking turns."""
    tallies = {name: Tally() for name in TRANSPORTS}
    mix = Mix.parse(target.endpoint.name, [target.endpoint])
    for round_ in range(rounds):
        names = list(TRANSPORTS) if round_ % 2 == 0 else list(reversed(TRANSPORTS))
        for name in names:
            transport = TRANSPORTS[name]
            kit = WorkerKit(
                lambda transport=transport: transport(target.base_url),
                target.prepare,
                mix,
                {target.endpoint.name: target.endpoint},
                Redactor(),
            )
            before = settled(target.handled)
            level = run_level(kit, Closed(1, duration_s=seconds, ramp_up_s=RAMP_UP_S))
            tallies[name].add(level, settled(target.handled) - before)
    return tallies


def print_rows(target: str, tallies: dict[str, Tally]) -> None:
    before, now = tallies.values()
    for name, tally in tallies.items():
        spread = f"{min(tally.per_level_ms):.3f}-{max(tally.per_level_ms):.3f}"
        exact = "handled = sent" if not tally.mismatches else "; ".join(tally.mismatches)
        print(
            f"{target:22} {name:17} {tally.cpu_ms:>8.3f} {spread:>13} "
            f"{tally.sent / tally.wall_s:>8.0f} {statistics.median(tally.p50_ms):>8.3f} "
            f"{tally.body_bytes:>6} {tally.errors:>6}  {exact}"
        )
    verdict = "met" if now.cpu_ms <= TARGET_MS[target] else "NOT met"
    print(
        f"{'':22} now / before: CPU {now.cpu_ms / before.cpu_ms:.2f}, "
        f"requests/s {(now.sent / now.wall_s) / (before.sent / before.wall_s):.2f}; "
        f"target {TARGET_MS[target]} ms: {verdict}"
    )


def bench_standin(seconds: float, rounds: int) -> None:
    call_command("migrate", verbosity=0)
    config = get_config()
    plan = build_plan(config)
    endpoint = next(e for e in plan.endpoints if e.name == "Get Lessons")
    seeding = Seeding(config["IDENTITY"], config["SEEDER"], None)
    identity = seeding.create_identities(1)[0]
    redactor = Redactor()

    def prepare(index: int, transport: Transport) -> WorkerSetup:
        """As a run's worker: log in on its own transport, then send with the token."""
        attempt, headers = log_in(transport, plan.login, identity, redactor)
        if headers is None:
            return WorkerSetup(None, 1, f"login failed ({attempt.reason})")
        return WorkerSetup({endpoint.name: endpoint_request(plan, endpoint, identity, headers)}, 1)

    try:
        with run_gunicorn(os.environ["DATABASE_URL"], workers=1, threads=2) as server:
            target = Target(STANDIN, server.base_url, endpoint, prepare, server.handled)
            print_rows(STANDIN, compare(target, seconds, rounds))
    finally:
        seeding.cleanup()


def bench_nginx(seconds: float, rounds: int) -> None:
    endpoint = Endpoint("Static", "GET", "/small.txt", 200, auth=False)

    def prepare(index: int, transport: Transport) -> WorkerSetup:
        return WorkerSetup({endpoint.name: RequestSpec(endpoint.name, "GET", endpoint.path)})

    with nginx(STATIC_FILE) as (base_url, access_log):
        target = Target(NGINX, base_url, endpoint, prepare, lambda: lines(access_log))
        print_rows(NGINX, compare(target, seconds, rounds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per level")
    parser.add_argument("--rounds", type=int, default=5, help="levels per transport and target")
    args = parser.parse_args()
    print(
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; Python "
        f"{sys.version.split()[0]}; {args.rounds} levels of {args.seconds:g} s per transport "
        "and target, one connection"
    )
    print(
        f"{'target':22} {'transport':17} {'CPU ms/r':>8} {'per level':>13} {'req/s':>8} "
        f"{'p50 ms':>8} {'bytes':>6} {'errors':>6}  count"
    )
    bench_standin(args.seconds, args.rounds)
    bench_nginx(args.seconds, args.rounds)


if __name__ == "__main__":
    main()
