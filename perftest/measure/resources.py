"""Resource sampling: a background thread reads a process and its children with psutil.

The sampler always takes a reading when it starts and when it stops, so even a run shorter
than one interval has a first and a last value to compute growth from. Beside the measured
process it reads the whole machine's CPU and, when the measured process is a server, perftest's
own CPU, so a report can tell the target's load from the generator's and from other programs'.

However long a run lasts (a soak runs for hours), the series stays small: at
``MAX_SAMPLES`` readings every other one is dropped and the interval doubles, so the readings
kept stay evenly spaced over the whole run; processes that have left the tree (a server's
recycled workers) are forgotten.

A process that is gone is gone: when the measured process has exited (or is a zombie, whose
memory reads as 0) sampling stops, the moment is kept in ``gone_s``, and no reading of it is
stored, since a 0 MB RSS would be read as a measurement ("RSS growth −133 MB"). A process it
cannot read ends the series with a sentence saying why, never an exception.
"""

from __future__ import annotations

import os
import threading
import time

import psutil

from .machine import busy_seconds
from .result import ResourceSample, ResourceSeries

#: Readings kept at most: one more halves them and doubles the interval (at the default
#: 0.5 s, after 17 minutes; a day's soak is then read every 64 s).
MAX_SAMPLES = 2_000


def _tree(root: psutil.Process, include_children: bool) -> list[psutil.Process]:
    if not include_children:
        return [root]
    try:
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return [root]


def _gone(process: psutil.Process) -> bool:
    """True when ``process`` has exited, including a zombie its parent has not reaped yet."""
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


class _MachineCpu:
    """The whole machine's CPU between two readings, percent of all cores."""

    def __init__(self) -> None:
        self._busy, self._total = busy_seconds(), sum(psutil.cpu_times())

    def percent(self) -> float:
        times = psutil.cpu_times()
        busy, total = busy_seconds(times), sum(times)
        spent = total - self._total
        share = 100 * (busy - self._busy) / spent if spent > 0 else 0.0
        self._busy, self._total = busy, total
        return max(0.0, min(100.0, share))


class ResourceSampler:
    """Samples RSS, CPU %, threads and open files of ``pid`` (and children) every interval."""

    def __init__(
        self, pid: int | None, interval_s: float, description: str, children: bool = False
    ):
        self.series = ResourceSeries(description, interval_s, psutil.cpu_count() or 1)
        self.pid = pid
        self._children = children
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="perftest-resources", daemon=True)
        self._processes: dict[int, psutil.Process] = {}
        self._root: psutil.Process | None = None
        # perftest's own process, read beside a server it measures (not when it is the target).
        self._generator = None if pid == os.getpid() else psutil.Process(os.getpid())
        self._machine: _MachineCpu | None = None
        self._start = 0.0
        #: The wall clock (``time.time``) when sampling started: a sample's ``offset_s`` is
        #: from then.
        self.started_unix_s = 0.0

    def start(self) -> ResourceSampler:
        if self.pid is None:
            self.series.unavailable = self.series.unavailable or "no process to sample"
            return self
        try:
            self._root = psutil.Process(self.pid)
        except psutil.Error as exc:
            self.series.unavailable = f"process {self.pid} could not be read: {exc}"
            return self
        self._start = time.monotonic()
        self.started_unix_s = time.time()
        self._machine = _MachineCpu()
        if self._generator is not None:
            self._generator.cpu_percent(None)
        self._read()
        self._thread.start()
        return self

    def stop(self) -> ResourceSeries:
        if self._thread.is_alive():
            self._stop.set()
            self._thread.join()
            self._read()
        if not self.series.samples and not self.series.unavailable:
            self.series.unavailable = "the run ended before resource sampling started"
        return self.series

    def _loop(self) -> None:
        while not self._stop.wait(self.series.interval_s):
            if not self._read():
                return

    def _ended(self) -> bool:
        """Record that the measured process went away, and when; always False (stop sampling)."""
        self.series.gone_s = round(time.monotonic() - self._start, 3)
        self.series.unavailable = (
            f"process {self.pid} ended {self.series.gone_s:.1f} s into sampling; "
            "nothing after that is a measurement of it"
        )
        return False

    def _read(self) -> bool:
        """Take one reading; False (with the reason stored) when the process is gone."""
        root = self._root
        if root is None or self.series.unavailable:
            return False
        if _gone(root):
            return self._ended()
        rss = threads = files = 0
        cpu = 0.0
        detail = []
        tree = _tree(root, self._children)
        self._forget_all_but({process.pid for process in tree})
        for process in tree:
            # Keep one Process object per pid: cpu_percent() measures since its last call.
            known = self._processes.setdefault(process.pid, process)
            try:
                if known is not root and _gone(known):
                    continue
                with known.oneshot():
                    process_rss = known.memory_info().rss
                    process_cpu = known.cpu_percent(None)
                    threads += known.num_threads()
                    files += len(known.open_files())
                    name = known.name()
                rss += process_rss
                cpu += process_cpu
                detail.append(
                    {
                        "pid": known.pid,
                        "name": name,
                        "rss_bytes": process_rss,
                        "cpu_percent": process_cpu,
                    }
                )
            except psutil.NoSuchProcess:
                if known is root:
                    return self._ended()
            except psutil.AccessDenied as exc:
                self.series.unavailable = f"no permission to read process {exc.pid}"
                return False
        if _gone(root):  # it went away while being read: this reading is not of it
            return self._ended()
        offset = round(time.monotonic() - self._start, 3)
        if len(self.series.samples) >= MAX_SAMPLES:
            self._thin()
        self.series.samples.append(
            ResourceSample(
                offset,
                rss,
                cpu,
                threads,
                files,
                detail,
                system_cpu_percent=self._machine.percent() if self._machine else None,
                generator_cpu_percent=(
                    self._generator.cpu_percent(None) if self._generator is not None else None
                ),
            )
        )
        return True

    def _forget_all_but(self, pids: set[int]) -> None:
        """Keep the Process objects of ``pids`` only: the ones that left the tree are gone."""
        for pid in [pid for pid in self._processes if pid not in pids]:
            del self._processes[pid]

    def _thin(self) -> None:
        """Every other reading dropped (the first kept) and the interval doubled: readings
        stay evenly spaced, and a run of any length keeps at most ``MAX_SAMPLES``. A new
        list, so a reader holding the old one (a checkpoint) reads it whole."""
        self.series.samples = self.series.samples[::2]
        self.series.interval_s *= 2


def own_process_sampler(interval_s: float) -> ResourceSampler:
    """The sampler for in-process runs: this process serves and measures every request."""
    return ResourceSampler(os.getpid(), interval_s, f"this process (pid {os.getpid()})")
