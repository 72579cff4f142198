"""perftest's Locust engine against plain Locust, side by side against the same nginx.

Both sides run a master and two local worker processes against nginx serving a small static
file on 127.0.0.1 (started here with a temporary configuration on a free port, stopped by its
pid at the end):

- **perftest**: ``LocustEngine`` with ``--engine locust --processes 2`` (perftest's master and
  workers, perftest's users and recording, the level merged from every worker's histograms);
  only the database and the login are left out, since nginx has neither;
- **plain Locust**: ``locust --headless --processes 2`` with a ``FastHttpUser`` that GETs the
  same file with no wait.

Each side is measured over the same steady-state window, the same way: nginx's access log
counts the requests it answered (throughput), and the generator's CPU is the user + system time
of its whole process tree (master and workers) over that window, per request answered. The
sides alternate (perftest, plain, perftest, plain, ...) so a change in the machine's load hits
both. The perftest side also checks that nginx answered exactly the requests its level sent.

Targets: throughput ≥ 0.9× plain Locust's, CPU per request ≤ 1.2× plain Locust's.

    .venv/bin/python bench/locust_vs_plain.py [--users 20] [--duration 10] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thebot_settings.settings")

import django  # noqa: E402

django.setup()

from targets import STATIC_FILE, lines, nginx  # noqa: E402

from perftest.conf import get_config  # noqa: E402
from perftest.measure.auth import request_for  # noqa: E402
from perftest.measure.load.engine import schedule_for  # noqa: E402
from perftest.measure.load.locust_engine.driver import LocustEngine, handover  # noqa: E402
from perftest.plan.build import build_plan  # noqa: E402
from perftest.redact import Redactor  # noqa: E402

SMALL_FILE = "/small.txt"
SMALL_BODY = b"perftest " * 14 + b"\n"  # 127 bytes
PLAIN_LOCUSTFILE = """\
from locust import FastHttpUser, constant, task


class Plain(FastHttpUser):
    wait_time = constant(0)

    @task
    def small_file(self):
        self.client.get("{path}")
"""
THROUGHPUT_TARGET, CPU_TARGET = 0.9, 1.2
#: After the first request reaches nginx: seconds before the window opens (users spawning).
WARM_S = 1.5


@dataclass
class Figures:
    per_second: float
    cpu_ms_per_request: float
    answered: int
    note: str = ""


def cpu_of(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def window(tree: Callable[[], list[psutil.Process]], log: Path, before: int, span_s: float):
    """Throughput and CPU per request of the generator ``tree`` over ``span_s`` of steady load."""
    deadline = time.monotonic() + 60
    while lines(log) == before:
        if time.monotonic() > deadline:
            sys.exit("no request reached nginx within 60 s")
        time.sleep(0.02)
    time.sleep(WARM_S)
    processes = tree()
    cpu0, n0, t0 = cpu_of(processes), lines(log), time.perf_counter()
    time.sleep(span_s)
    cpu1, n1, t1 = cpu_of(processes), lines(log), time.perf_counter()
    answered = n1 - n0
    return Figures(answered / (t1 - t0), (cpu1 - cpu0) * 1000 / max(answered, 1), answered)


def perftest_side(base_url: str, log: Path, users: int, duration: float, span_s: float) -> Figures:
    config = {
        **get_config(),
        "ENDPOINTS": [{"name": "Small file", "method": "GET", "path": SMALL_FILE, "auth": False}],
        "THRESHOLDS": [],
    }
    plan = build_plan(
        config,
        base_url=base_url,
        engine="locust",
        processes=2,
        concurrency=str(users),
        duration=duration,
        ramp_up=0,
    )
    endpoints = {e.name: e for e in plan.endpoints}
    specs = [{name: request_for(endpoint) for name, endpoint in endpoints.items()}]
    engine = LocustEngine(plan, handover(plan, plan.load.mix, specs, endpoints, []), [], Redactor())
    levels = []

    def run() -> None:
        with engine:
            levels.append(engine.run_level(schedule_for(plan.load, users), lambda text: None))

    before = lines(log)
    thread = threading.Thread(target=run)
    thread.start()
    try:
        figures = window(
            lambda: [psutil.Process(p.pid) for p in engine.processes], log, before, span_s
        )
    finally:
        thread.join()
    level = levels[0]
    time.sleep(0.2)  # nginx logs a request after answering it
    handled = lines(log) - before
    figures.note = (
        f"level: {level.overall.requests} counted, {level.overall.ok} as expected, "
        f"{'handled = sent' if handled == level.sent_total else f'handled {handled} ≠ sent {level.sent_total}'}"  # noqa: E501
    )
    return figures


def plain_side(base_url: str, log: Path, users: int, duration: float, span_s: float) -> Figures:
    with tempfile.TemporaryDirectory(prefix="perftest-plain-locust-") as workdir:
        locustfile = Path(workdir) / "plain.py"
        locustfile.write_text(PLAIN_LOCUSTFILE.format(path=SMALL_FILE))
        command = [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless"]
        command += ["--processes", "2", "-u", str(users), "-r", str(users * 10)]
        command += ["-t", f"{duration:g}s", "--host", base_url, "--only-summary"]
        command += ["--loglevel", "WARNING"]
        before = lines(log)
        with (Path(workdir) / "locust.log").open("w") as output:
            process = subprocess.Popen(
                command, cwd=workdir, stdout=output, stderr=subprocess.STDOUT
            )
        try:
            root = psutil.Process(process.pid)
            figures = window(lambda: [root, *root.children(recursive=True)], log, before, span_s)
        finally:
            process.wait(duration + 60)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2)
    options = parser.parse_args()
    span_s = options.duration - WARM_S - 2.5
    if span_s < 2:
        sys.exit("--duration must be at least 6 s (warm-up, window, end)")
    ours, theirs = [], []
    serving = nginx(STATIC_FILE, body=SMALL_BODY, connections=1024, keepalive_requests=1_000_000)
    with serving as (base_url, log):
        for round_ in range(1, options.rounds + 1):
            for name, side, into in (
                ("perftest", perftest_side, ours),
                ("plain Locust", plain_side, theirs),
            ):
                figures = side(base_url, log, options.users, options.duration, span_s)
                into.append(figures)
                print(
                    f"round {round_} {name:>12}: {figures.per_second:8.0f} req/s, "
                    f"{figures.cpu_ms_per_request:.3f} ms CPU/request over "
                    f"{figures.answered} answers {figures.note}",
                    flush=True,
                )
    rps = statistics.median(f.per_second for f in ours) / statistics.median(
        f.per_second for f in theirs
    )
    cpu = statistics.median(f.cpu_ms_per_request for f in ours) / statistics.median(
        f.cpu_ms_per_request for f in theirs
    )
    print(
        f"median throughput ratio perftest/plain: {rps:.2f} (target ≥ {THROUGHPUT_TARGET}); "
        f"CPU per request ratio: {cpu:.2f} (target ≤ {CPU_TARGET})"
    )


if __name__ == "__main__":
    main()
