"""Whose CPU a level's window counts where: perftest's own processes, the server, the others."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import psutil
import pytest

from perftest.measure.machine import CpuWindow

#: A process that keeps a core busy until it is stopped.
BURN = "while True: pass"
#: How long a window lasts: long enough for the burning process to be scheduled.
WINDOW_S = 0.5
#: psutil reads a process's CPU in clock ticks (10 ms).
TICK_S = 0.02

pytestmark = pytest.mark.slow


@pytest.fixture
def burner() -> Iterator[subprocess.Popen]:
    process = subprocess.Popen([sys.executable, "-c", BURN])
    try:
        yield process
    finally:
        process.kill()
        process.wait()


def window_over(burner: subprocess.Popen, **roles) -> tuple[object, float]:
    """A window of WINDOW_S with ``burner`` in the given role, and the CPU it used within the
    window (read inside it, so the window holds at least that much, a tick's rounding aside)."""
    process = psutil.Process(burner.pid)
    window = CpuWindow(**roles)
    window.start()
    before = sum(process.cpu_times()[:2])
    time.sleep(WINDOW_S)
    burned = sum(process.cpu_times()[:2]) - before
    return window.stop(), burned


def test_a_generator_process_beside_this_one_counts_as_perftests_never_as_other(burner):
    use, burned = window_over(burner, generator_pids=[burner.pid])
    assert burned > 0
    assert use.generator_cpu_s >= burned - TICK_S
    assert burner.pid not in {other["pid"] for other in use.others}
    assert use.server_cores is None


def test_the_servers_process_tree_is_counted_apart_as_server_cores(burner):
    use, burned = window_over(burner, target_pid=burner.pid)
    assert use.server_cores is not None
    assert use.server_cores * use.wall_s >= burned - TICK_S
    assert burner.pid not in {other["pid"] for other in use.others}
    assert use.generator_cpu_s < burned, "the server's CPU is not perftest's"


def test_a_process_of_nobodys_is_other_load(burner):
    use, burned = window_over(burner)
    assert use.other_cores * use.wall_s >= burned - TICK_S
    assert use.server_cores is None
