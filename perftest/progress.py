"""Progress while a run measures: one rewritten line on a terminal, plain lines elsewhere.

On a terminal the line is redrawn in place. Without one (a CI log, a pipe, a file) a redrawn
line would be noise, and silence leaves a CI log empty for minutes, so each new phase or level
gets a plain line when it starts, a long one a line every ``PLAIN_INTERVAL_S`` seconds, and
each phase its last line when it ends: the line written when a level starts says "0 counted
requests", true only of that moment, so the level's final count follows it.
A phase is the text before the first ": " (``level 1/3 10 concurrent: 2.1s, ...``).
"""

from __future__ import annotations

import time
from typing import TextIO

#: Without a terminal, a phase still running gets a line this often (seconds).
PLAIN_INTERVAL_S = 5.0


class Progress:
    def __init__(self, stream: TextIO, terminal: bool | None = None):
        self._stream = stream
        self._terminal = stream.isatty() if terminal is None else terminal
        self._start = time.monotonic()
        self._last = 0.0
        self._width = 0
        self._phase: str | None = None
        #: Without a terminal: the phase's latest line, not written yet.
        self._unwritten = ""

    def show(self, text: str, *, force: bool = False) -> None:
        now = time.monotonic()
        line = f"[{now - self._start:6.1f}s] {text}"
        if not self._terminal:
            self._plain(line, text.split(": ", 1)[0], now)
            return
        phase = text.split(": ", 1)[0]
        # Redrawn at most every 0.1 s within a phase; a new phase is drawn at once, so the
        # line never skips a phase that began and ended between two redraws.
        if not force and phase == self._phase and now - self._last < 0.1:
            return
        self._last, self._phase = now, phase
        self._stream.write("\r" + line.ljust(self._width))
        self._stream.flush()
        self._width = len(line)

    def _plain(self, line: str, phase: str, now: float) -> None:
        if phase == self._phase and now - self._last < PLAIN_INTERVAL_S:
            self._unwritten = line
            return
        if phase != self._phase:
            self._write_unwritten()  # how the phase before ended
        self._phase, self._last, self._unwritten = phase, now, ""
        self._stream.write(line + "\n")
        self._stream.flush()

    def _write_unwritten(self) -> None:
        if self._unwritten:
            self._stream.write(self._unwritten + "\n")
            self._stream.flush()
            self._unwritten = ""

    def done(self) -> None:
        if not self._terminal:
            self._write_unwritten()
        if self._terminal and self._width:
            self._stream.write("\r" + " " * self._width + "\r")
            self._stream.flush()
            self._width = 0
