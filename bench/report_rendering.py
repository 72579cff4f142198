"""Report rendering of a large stored run: time per format and queries per level count.

Builds runs of 50 endpoints × 1, 5 and 10 closed load levels (``synthetic_run.py``) in a
temporary SQLite database through ``store.write``, then renders each report format of the
10-level run ``ROUNDS`` times from a fresh read of the stored rows, as ``perftest_report``
does; then times ``manage.py perftest_report`` writing every format against the same
command's ``--help`` (Django's start-up). Target: all formats under 1 s beyond Django's
start-up, and the same number of queries for 1, 5 and 10 levels.

    .venv/bin/python bench/report_rendering.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thebot_settings.settings")
os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench.synthetic_run import store, synthetic_run  # noqa: E402
from perftest.reports import formats  # noqa: E402
from perftest.store import read  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ENDPOINTS = 50
LEVELS = (1, 5, 10)
ROUNDS = 5


def queries(pk: int, report: formats.Format) -> int:
    with CaptureQueriesContext(connection) as captured:
        report.render(read.load(pk))
    return len(captured)


def seconds(pk: int, report: formats.Format) -> list[float]:
    """Wall time of a read and a render, ``ROUNDS`` times."""
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        report.render(read.load(pk))
        times.append(time.perf_counter() - started)
    return times


def command_seconds(*args: str) -> float:
    """Wall time of ``manage.py *args`` in a new process, on the bench's database."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - started


def beyond_start_up(pk: int) -> tuple[float, float]:
    """Median wall time of ``perftest_report --help`` (Django's start-up and the command's
    imports) and of writing every format of run ``pk``, over ``ROUNDS`` alternations."""
    every = ",".join(formats.FORMATS)
    output = tempfile.mkdtemp()
    start_up, report = [], []
    for _ in range(ROUNDS):
        start_up.append(command_seconds("perftest_report", "--help"))
        report.append(
            command_seconds("perftest_report", str(pk), "--format", every, "--output", output)
        )
    return statistics.median(start_up), statistics.median(report)


def main() -> None:
    call_command("migrate", verbosity=0)
    runs = {levels: store(synthetic_run(levels, ENDPOINTS)) for levels in LEVELS}
    largest = runs[max(LEVELS)]
    print(f"{ENDPOINTS} endpoints; queries by level count {', '.join(map(str, LEVELS))}")
    print("| format | queries | median s | max s | bytes |")
    print("| --- | --- | --: | --: | --: |")
    for report in formats.FORMATS.values():
        counts = "/".join(str(queries(runs[levels], report)) for levels in LEVELS)
        times = seconds(largest, report)
        size = len(report.render(read.load(largest)).encode())
        print(
            f"| {report.name} | {counts} | {statistics.median(times):.3f} | {max(times):.3f} "
            f"| {size} |"
        )
    start_up, report = beyond_start_up(largest)
    print(
        f"perftest_report --format {','.join(formats.FORMATS)}: {report:.3f} s, "
        f"start-up alone {start_up:.3f} s, beyond start-up {report - start_up:.3f} s (medians)"
    )


if __name__ == "__main__":
    main()
