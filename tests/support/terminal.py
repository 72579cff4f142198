"""A ``manage.py perftest`` subprocess on a pseudo-terminal, so its progress line can be awaited.

perftest shows progress only on a terminal; a reader thread drains the terminal continuously
(a full pty buffer would block the run) and sets an event when the awaited text appears, so a
test waits for the run to reach a phase instead of sleeping.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import threading
from pathlib import Path

from tests.support.commands import SUBPROCESS_SETTINGS

ROOT = Path(__file__).resolve().parents[2]


class TerminalRun:
    """``manage.py perftest *args`` with its stdout on a pty and stderr captured."""

    def __init__(self, *args: str, database_url: str, awaited: str):
        self._awaited = awaited.encode()
        self.reached = threading.Event()
        self._output = bytearray()
        leader, follower = pty.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "perftest", *args],
            cwd=ROOT,
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": SUBPROCESS_SETTINGS,
                "DATABASE_URL": database_url,
            },
            stdin=subprocess.DEVNULL,
            stdout=follower,
            stderr=subprocess.PIPE,
        )
        os.close(follower)
        self._leader = leader
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self._leader, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            self._output += chunk
            if self._awaited in self._output:
                self.reached.set()
        os.close(self._leader)

    def finish(self, timeout: float = 120) -> tuple[int, str, str]:
        """Wait for the run to end: its exit code, terminal output and stderr."""
        _, stderr = self.process.communicate(timeout=timeout)
        self._reader.join(timeout)
        return self.process.returncode, self._output.decode(errors="replace"), stderr.decode()
