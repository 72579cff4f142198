"""perftest's own memory over a soak: it must stay flat however long the soak runs.

A soak keeps nothing per request: latency windows merge (at most 60 per endpoint and level),
resource samples thin out past 2,000, database connection counts are a running peak and sum.
This bench proves it on a real soak: gunicorn (``tests.support.live_server.run_gunicorn``,
started here on 127.0.0.1 and stopped at the end) serves ``/test/sleep/`` (a view that only
sleeps, so the server's pace does not depend on the machine), the real command soaks it over
HTTP at ``--rate`` for ``--minutes``, storing a checkpoint every ``--checkpoint-s``, and a
thread samples this process's RSS (perftest is this process) every ``--every`` seconds. The
steady part starts where the stored level says its warm-up ended.

Goal (issue 21): a 10-minute soak whose generator RSS grows by less than 5 % over the steady
part (from its first reading to its last).

    .venv/bin/python bench/soak_memory.py [--minutes 10] [--rate 50] [--sleep-ms 5]
        [--checkpoint-s 60] [--every 2]
"""

from __future__ import annotations

import argparse
import io
import os
import tempfile
import threading
import time

import psutil
from targets import sleeping_view, use_temporary_database

use_temporary_database()

from django.core.management import call_command  # noqa: E402
from django.test import override_settings  # noqa: E402

from perftest.models import Run  # noqa: E402
from tests.support.live_server import run_gunicorn  # noqa: E402

#: The goal: the generator's RSS over the steady part grows by less than this share.
GROWTH_GOAL = 0.05


class OwnMemory:
    """This process's RSS every ``every`` seconds, with the wall clock of each reading."""

    def __init__(self, every: float):
        self.every, self.readings = every, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._process = psutil.Process(os.getpid())

    def _loop(self) -> None:
        while True:
            self.readings.append((time.time(), self._process.memory_info().rss))
            if self._stop.wait(self.every):
                return

    def __enter__(self) -> OwnMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="the soak's steady part")
    parser.add_argument("--rate", type=float, default=50.0, help="requests per second")
    parser.add_argument("--sleep-ms", type=int, default=5, help="what the view sleeps")
    parser.add_argument("--checkpoint-s", type=float, default=60.0)
    parser.add_argument("--every", type=float, default=2.0, help="seconds between RSS readings")
    options = parser.parse_args()
    call_command("migrate", verbosity=0)
    steady = f"{options.minutes * 60:g}s"
    print(
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; gunicorn, 2 sync "
        f"workers, a view sleeping {options.sleep_ms} ms; --soak {steady} --rate "
        f"{options.rate:g}, a checkpoint every {options.checkpoint_s:g} s",
        flush=True,
    )
    with (
        override_settings(
            **sleeping_view(options.sleep_ms, SOAK={"CHECKPOINT_S": options.checkpoint_s})
        ),
        run_gunicorn(os.environ["DATABASE_URL"], workers=2) as server,
        tempfile.TemporaryDirectory() as output,
        OwnMemory(options.every) as memory,
    ):
        call_command(
            "perftest",
            *("--base-url", server.base_url, "--iterations", "5", "--warmup", "0"),
            *("--soak", steady, "--rate", f"{options.rate:g}"),
            *("--output", output, "--exit-zero"),
            stdout=io.StringIO(),
        )
    run = Run.objects.latest("pk")
    level = run.levels.get()
    steady_rss = [rss for at, rss in memory.readings if at >= level.soak["warmup_ends_at"]]
    if len(steady_rss) < 2:
        print("fewer than two readings in the steady part: no growth to compute")
        return
    first, last, peak = steady_rss[0], steady_rss[-1], max(steady_rss)
    growth = (last - first) / first
    print(
        f"run #{run.pk} {run.status}: {level.requests:,} requests in {level.window_s:.0f} s "
        f"({level.throughput:.1f} req/s), {level.soak['checkpoints']} checkpoints, "
        f"{len(level.windows.get('windows', []))} latency windows of "
        f"{level.windows.get('width_s', 0):g} s, {run.resource_samples.count()} resource samples"
    )
    quarters = [steady_rss[round(i * (len(steady_rss) - 1) / 4)] / 2**20 for i in range(5)]
    print("RSS at each quarter of the steady part: " + ", ".join(f"{v:.1f}" for v in quarters))
    print(
        f"perftest's RSS over the steady part ({len(steady_rss)} readings): first "
        f"{first / 2**20:.1f} MB, last {last / 2**20:.1f} MB, peak {peak / 2**20:.1f} MB; "
        f"growth {growth:+.2%} ({'within' if growth < GROWTH_GOAL else 'beyond'} the "
        f"{GROWTH_GOAL:.0%} goal)"
    )


if __name__ == "__main__":
    main()
