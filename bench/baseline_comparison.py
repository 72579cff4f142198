"""The baseline comparison of two large stored runs: how long ``analysis.compare`` takes.

Stores two runs of 50 endpoints × 10 closed load levels (``synthetic_run.py``, different
seeds, so the figures differ as two real runs would) in a temporary SQLite database, then
times reading both runs (``read.load``) and ``compare`` on them, ``ROUNDS`` times each: first
on the pooled HDR histograms (no windows stored), then with ten one-second windows written on
every row (the block bootstrap), each a tenth of the row's answers on 3 % buckets. Target:
``compare`` well under 1 s.

    .venv/bin/python bench/baseline_comparison.py [answers per endpoint, default 2000]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thebot_settings.settings")
os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.core.management import call_command  # noqa: E402

from bench.synthetic_run import store, synthetic_run  # noqa: E402
from perftest.analysis.compare import compare  # noqa: E402
from perftest.analysis.noise import SAMPLES, histogram_unit, latency  # noqa: E402
from perftest.models import EndpointResult, LoadLevel  # noqa: E402
from perftest.store import read  # noqa: E402

LEVELS, ENDPOINTS, ROUNDS, WINDOWS = 10, 50, 3, 10


def _windows(histogram: str) -> dict:
    """The row's answers dealt round-robin into ``WINDOWS`` one-second windows, on buckets
    3 % wide as stored windows keep them."""
    windows = [{"offset_s": float(i), "count": 0, "values_us": []} for i in range(WINDOWS)]
    coarse = latency([histogram_unit(histogram)], SAMPLES, resolution=0.03)
    values, counts = np.rint(coarse.values_ms * 1000).tolist(), coarse.counts[0].tolist()
    dealt = 0
    for value, count in zip(values, counts, strict=True):
        for i, window in enumerate(windows):
            share = len(range((i - dealt) % WINDOWS, count, WINDOWS))
            if share:
                window["values_us"].append([value, share])
                window["count"] += share
        dealt += count
    return {"width_s": 1.0, "windows": windows}


def add_windows(pk: int) -> None:
    for model in (EndpointResult, LoadLevel):
        for row in model.objects.filter(run_id=pk).exclude(histogram=""):
            row.windows = _windows(row.histogram)
            if model is LoadLevel:
                row.window_s = float(WINDOWS)
            row.save(update_fields=["windows", "window_s"] if model is LoadLevel else ["windows"])


def timed(before: int, after: int) -> tuple[float, float, dict]:
    """Median seconds to read both runs, and to compare them once read."""
    reading, comparing = [], []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        runs = read.load(before), read.load(after)
        read_at = time.perf_counter()
        result = compare(*runs)
        reading.append(read_at - started)
        comparing.append(time.perf_counter() - read_at)
    return statistics.median(reading), statistics.median(comparing), result


def main() -> None:
    answers = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    call_command("migrate", verbosity=0)
    before = store(synthetic_run(LEVELS, ENDPOINTS, answers))
    after = store(synthetic_run(LEVELS, ENDPOINTS, answers + 1))
    print(f"{ENDPOINTS} endpoints × {LEVELS} levels, {answers} answers per endpoint row")
    for basis in ("samples", "windows"):
        if basis == "windows":
            add_windows(before)
            add_windows(after)
        reading, comparing, result = timed(before, after)
        rows = len(result["rows"])
        bases = {m["basis"] for row in result["rows"] for m in row["metrics"] if m["basis"]}
        print(
            f"{basis:>8}: compare {comparing * 1000:5.0f} ms (reading both runs "
            f"{reading * 1000:5.0f} ms), median of {ROUNDS}, {rows} rows "
            f"(bases {', '.join(sorted(bases))}; {result['regressions']} regressions, "
            f"{result['improvements']} improvements)"
        )


if __name__ == "__main__":
    main()
