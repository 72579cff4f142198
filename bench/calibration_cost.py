"""What the machine calibration adds to a default run's wall time: target at most 2 %.

Runs ``manage.py perftest`` with its defaults against the stand-in (embedded settings, a
temporary SQLite database), in this process, ``ROUNDS`` times with calibration and as many
without (``Calibration.sample`` and ``Calibration.phase`` made no-ops), alternating so that a
machine drifting during the bench affects both alike. Two figures:

- side by side: the median wall time of a run with and without, and their ratio. On a shared
  machine the spread between runs is larger than the calibration, so this ratio is noisy;
- accounted: the time spent inside the calibration (every sample and phase window, timed
  around the calls) over the wall time of the same runs: the calibration's own share.

    .venv/bin/python bench/calibration_cost.py [rounds, default 5]
"""

from __future__ import annotations

import contextlib
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.targets import use_temporary_database  # noqa: E402

use_temporary_database()

from django.core.management import call_command  # noqa: E402

from perftest.measure.calibration import Calibration  # noqa: E402

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
_sample, _phase = Calibration.sample, Calibration.phase
#: Seconds spent inside the calibration during the current run, and its samples.
spent = {"seconds": 0.0, "samples": 0}


def timed_sample(self: Calibration) -> None:
    started = time.perf_counter()
    _sample(self)
    spent["seconds"] += time.perf_counter() - started
    spent["samples"] += 1


@contextlib.contextmanager
def timed_phase(self: Calibration, name: str, target_pid: int | None):
    started = time.perf_counter()
    with _phase(self, name, target_pid):
        spent["seconds"] += time.perf_counter() - started
        yield
        started = time.perf_counter()
    spent["seconds"] += time.perf_counter() - started


def skipped(self: Calibration, *args: object) -> None:
    """No calibration sample."""


def run(calibrated: bool, output: str) -> float:
    """Wall seconds of one default run."""
    Calibration.sample = timed_sample if calibrated else skipped
    Calibration.phase = timed_phase if calibrated else (lambda self, *a: contextlib.nullcontext())
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        call_command("perftest", "--output", output, "--format", "md")
    return time.perf_counter() - started


def main() -> None:
    call_command("migrate", verbosity=0)
    output = tempfile.mkdtemp(prefix="perftest-bench-")
    run(True, output)  # warm: imports, first connection, caches
    with_, without, shares, samples = [], [], [], []
    for _ in range(ROUNDS):
        spent.update(seconds=0.0, samples=0)
        wall = run(True, output)
        with_.append(wall)
        shares.append(spent["seconds"] / wall)
        samples.append(spent["samples"])
        without.append(run(False, output))
    median_with, median_without = statistics.median(with_), statistics.median(without)
    print(f"default run, {ROUNDS} alternating rounds each (stand-in, in-process, SQLite)")
    print(f"  with calibration:    median {median_with:.3f} s  ({samples[0]} samples a run)")
    print(f"  without calibration: median {median_without:.3f} s")
    print(f"  side by side: ratio {median_with / median_without:.4f}")
    print(
        f"  accounted: calibration {statistics.median(shares):.2%} of a run's wall time "
        f"(max {max(shares):.2%}); target at most 2 %"
    )


if __name__ == "__main__":
    main()
