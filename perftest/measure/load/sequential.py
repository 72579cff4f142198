"""Sequential schedule: one request at a time, warm-up excluded, then N measured iterations."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from perftest.measure.result import LevelResult

from .schedule import Clock, Schedule, Send, Step, WorkerState


class Sequential(Schedule):
    """``warmup`` unrecorded requests, then ``iterations`` recorded ones, by one worker."""

    model = "sequential"

    def __init__(
        self, iterations: int, warmup: int, tick: Callable[[str], None] | None = None
    ) -> None:
        super().__init__(workers=1)
        self.iterations, self.warmup, self.tick = iterations, warmup, tick

    @property
    def label(self) -> str:
        return "sequential"

    def describe(self) -> LevelResult:
        return LevelResult(self.model, 1, planned_requests=self.iterations)

    def _show(self, text: str) -> None:
        if self.tick:
            self.tick(text)

    def drive(self, clock: Clock, worker: WorkerState, send: Send, steps: Iterator[Step]) -> None:
        for done in range(self.warmup):
            spec, result = next(steps)
            send(spec)
            self._show(f"{result.name}: warmup {done + 1}/{self.warmup}")
        for done in range(self.iterations):
            result = worker.send_counted(send, steps)
            self._show(f"{result.name}: {done + 1}/{self.iterations}")
