"""Resource sampling: a background thread reads a process and its children with psutil.

The sampler always takes a reading when it starts and when it stops, so even a run shorter
than one interval has a first and a last value to compute growth from. A process it cannot
read (gone, or not ours) ends the series with a sentence saying why, never an exception.
"""

from __future__ import annotations

import os
import threading
import time

import psutil

from .result import ResourceSample, ResourceSeries


def _tree(root: psutil.Process, include_children: bool) -> list[psutil.Process]:
    if not include_children:
        return [root]
    try:
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return [root]


class ResourceSampler:
    """Samples RSS, CPU %, threads and open files of ``pid`` (and children) every interval."""

    def __init__(self, pid: int, interval_s: float, description: str, children: bool = False):
        self.series = ResourceSeries(description, interval_s, psutil.cpu_count() or 1)
        self._pid = pid
        self._children = children
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="perftest-resources", daemon=True)
        self._processes: dict[int, psutil.Process] = {}
        self._root: psutil.Process | None = None
        self._start = 0.0

    def start(self) -> ResourceSampler:
        try:
            self._root = psutil.Process(self._pid)
        except psutil.Error as exc:
            self.series.unavailable = f"process {self._pid} could not be read: {exc}"
            return self
        self._start = time.monotonic()
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

    def _read(self) -> bool:
        """Take one reading; False (with the reason stored) when the process is gone."""
        root = self._root
        if root is None or self.series.unavailable:
            return False
        rss = threads = files = 0
        cpu = 0.0
        detail = []
        for process in _tree(root, self._children):
            # Keep one Process object per pid: cpu_percent() measures since its last call.
            known = self._processes.setdefault(process.pid, process)
            try:
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
                    self.series.unavailable = f"process {self._pid} ended during the run"
                    return False
            except psutil.AccessDenied as exc:
                self.series.unavailable = f"no permission to read process {exc.pid}"
                return False
        offset = round(time.monotonic() - self._start, 3)
        self.series.samples.append(ResourceSample(offset, rss, cpu, threads, files, detail))
        return True


def own_process_sampler(interval_s: float) -> ResourceSampler:
    """The sampler for in-process runs: this process serves and measures every request."""
    return ResourceSampler(os.getpid(), interval_s, f"this process (pid {os.getpid()})")
