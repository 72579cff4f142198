"""How repeatable ``--capacity`` is: the same search run several times on the stand-in.

The stand-in (gunicorn serving ``thebot_settings`` with the embedded default, two sync
workers, a SQLite file with the sample data seeded) is started here on 127.0.0.1 and stopped
by its pid at the end. The real command searches the capacity of the default mix (every
endpoint but the login) under an expression, ``--rounds`` times in a row on the same server;
each search is printed with its steps, then the spread of the capacities found.

Goal: every capacity within ±10 % of their mean on an idle machine (the search itself stops
within 5 %; the rest is the machine). The stand-in's views are CPU-bound, so on a machine
other programs share its capacity follows their load. ``--sleep-ms N`` searches a view that
only sleeps N ms instead (``/test/sleep/``, served with ``tests.support.http_settings``; two
workers serve 2000 / N requests a second whatever the machine does): what is left of the
spread there is the search's own.

``--split-cores`` gives the server the machine's last core and perftest the others (CPU
affinity, inherited by gunicorn's workers and Locust's): the generator then no longer takes
CPU from the server it measures, as when it runs on another machine.

    .venv/bin/python bench/capacity.py [--expression 'p95 < 300ms'] [--rounds 3]
        [--duration S] [--workers 2] [--engine threads|locust] [--sleep-ms N] [--split-cores]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import tempfile
import time
from collections.abc import Iterator

from targets import sleeping_view, use_temporary_database

use_temporary_database()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import override_settings  # noqa: E402

from perftest.models import Run  # noqa: E402
from tests.support.live_server import run_gunicorn  # noqa: E402

SEEDER = "thebot_settings.standin.seed.seed_sample_data"
#: The goal: each capacity within this share of the mean of the rounds.
SPREAD_GOAL = 0.10


def search(base_url: str, options: argparse.Namespace) -> Run:
    """One ``--capacity`` run of the real command; the stored run. Exit codes are left aside
    (``--exit-zero``): this bench reads the search's record."""
    duration = ["--duration", f"{options.duration:g}"] if options.duration else []
    engine = ["--engine", options.engine] + (
        ["--processes", "1"] if options.engine == "locust" else []
    )
    with tempfile.TemporaryDirectory() as output:
        call_command(
            "perftest",
            "--base-url",
            base_url,
            "--capacity",
            options.expression,
            *duration,
            *engine,
            "--output",
            output,
            "--exit-zero",
            stdout=io.StringIO(),
        )
    return Run.objects.latest("pk")


def target(sleep_ms: int | None) -> dict:
    """The settings the command runs with: the stand-in's with its sample data, or one
    endpoint that sleeps ``sleep_ms`` (no login, no data)."""
    if not sleep_ms:
        return {"PERFTEST": {**settings.PERFTEST, "SEEDER": SEEDER}}
    return sleeping_view(sleep_ms)


@contextlib.contextmanager
def server_cores(split: bool) -> Iterator[str]:
    """While the server starts, this process runs on the last core only, so the server (and
    every worker it forks) inherits that core; then this process takes the other cores. Yields
    how the cores were split, for the heading."""
    everything = os.sched_getaffinity(0)
    if not split or len(everything) < 2:
        yield "cores shared"
        return
    server = {max(everything)}
    os.sched_setaffinity(0, server)
    try:
        yield f"server on core {max(everything)}, perftest on the other {len(everything) - 1}"
    finally:
        os.sched_setaffinity(0, everything - server)


def server_ms_per_answer(run: Run, record: dict) -> float | None:
    """The server's CPU per answer at the capacity's step (its processes' CPU over the step,
    divided by the step's answers): what one request cost the machine in that round. When the
    machine's own speed moves (a shared host), this moves with it, and capacity × this stays
    put; when the search is what moves, it does not."""
    passed = [step for step in record["steps"] if step["rate"] == record["capacity_rps"]]
    if not passed:
        return None
    level = list(run.levels.order_by("position"))[passed[-1]["level"]]
    if not (level.server_cores and level.requests):
        return None
    return level.server_cores * level.wall_s * 1000 / level.requests


def spread(values: list[float]) -> float:
    """How far the farthest value is from their mean, as a share of it."""
    mean = statistics.mean(values)
    return max(abs(value - mean) / mean for value in values)


def steps(record: dict) -> str:
    """``19✓ 38✓ 76✗ …``: each step's rate and whether every bound held."""
    return " ".join(f"{s['rate']:g}{'✓' if s['passed'] else '✗'}" for s in record["steps"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--expression", default="p95 < 300ms")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, help="seconds per step (default: automatic)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--engine", choices=["threads", "locust"], default="threads")
    parser.add_argument("--sleep-ms", type=int, help="search a view that sleeps N ms instead")
    parser.add_argument(
        "--split-cores", action="store_true", help="the server on one core, perftest on the rest"
    )
    options = parser.parse_args()
    call_command("migrate", verbosity=0)
    print(
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; stand-in, "
        f"{options.workers} gunicorn sync workers"
        + (f", a view sleeping {options.sleep_ms} ms" if options.sleep_ms else ", default mix")
        + f"; --capacity {options.expression!r}, "
        f"--engine {options.engine}"
    )
    found: list[float] = []
    # Per round: the cores the server's capacity stands for (capacity × CPU per answer).
    cores_at_capacity: list[float] = []
    with override_settings(**target(options.sleep_ms)), contextlib.ExitStack() as stack:
        with server_cores(options.split_cores) as cores:
            server = stack.enter_context(
                run_gunicorn(
                    os.environ["DATABASE_URL"],
                    workers=options.workers,
                    settings="tests.support.http_settings"
                    if options.sleep_ms
                    else "thebot_settings.settings",
                )
            )
        print(cores, flush=True)
        for round_ in range(1, options.rounds + 1):
            started = time.monotonic()
            run = search(server.base_url, options)
            record = run.capacity
            took = time.monotonic() - started
            print(
                f"round {round_}: capacity {record['capacity_rps']} req/s, failed at "
                f"{record['failed_rps']} req/s ({record['failed']}: {record['value']}), ended "
                f"{record['ended']}, start {record['start_rps']:g}, {len(record['steps'])} "
                f"steps in {took:.0f} s (load average {os.getloadavg()[0]:.2f}): {steps(record)}",
                flush=True,
            )
            if record["generator_max_rps"] is not None:
                print(f"         the generator sent at most {record['generator_max_rps']} req/s")
                print(*(f"         {note}" for note in run.notes if "--capacity" in note))
            if record["capacity_rps"] is not None:
                found.append(record["capacity_rps"])
                cpu_ms = server_ms_per_answer(run, record)
                if cpu_ms is not None:
                    cores_at_capacity.append(record["capacity_rps"] * cpu_ms / 1000)
                    print(
                        f"         the server's CPU per answer at the capacity: {cpu_ms:.2f} ms "
                        f"({cores_at_capacity[-1]:.2f} cores at the capacity)"
                    )
    if len(found) < 2:
        print("fewer than two capacities found: no spread")
        return
    farthest = spread(found)
    verdict = "within" if farthest <= SPREAD_GOAL else "beyond"
    print(
        f"capacities {', '.join(f'{v:g}' for v in found)} req/s: "
        f"mean {statistics.mean(found):.1f}, "
        f"min {min(found):g}, max {max(found):g}; the farthest is {farthest:.1%} from the mean "
        f"({verdict} the ±{SPREAD_GOAL:.0%} goal); load average now {os.getloadavg()[0]:.2f}"
    )
    if len(cores_at_capacity) == len(found):
        print(
            f"cores at the capacity {', '.join(f'{v:.2f}' for v in cores_at_capacity)}: the "
            f"farthest is {spread(cores_at_capacity):.1%} from the mean (the capacities' spread "
            "with the machine's own speed taken out)"
        )


if __name__ == "__main__":
    main()
