"""A soak stored as it goes: each checkpoint of its level written as the run so far.

The measuring core hands a soak's level up every checkpoint interval (``measure.soak``); this is
the callback it is handed, the only place that joins those partial levels to storage. Each
checkpoint stores the run so far through ``store.write`` (the levels done, the level in
progress, and the resource samples read since the last checkpoint: their work stays the same
size however long the soak has run) and leaves it ``running``, so a crash or a SIGKILL hours in
loses at most one interval: the next run marks it abandoned and its report shows what the last
checkpoint stored.
"""

from __future__ import annotations

import dataclasses

from perftest.measure.resources import ResourceSampler
from perftest.measure.result import LevelResult, RunResult
from perftest.models import Run
from perftest.store import write


def place_warmup_end(level: LevelResult, sampler: ResourceSampler) -> None:
    """A soak's warm-up end in the frame of the run's resource samples too (seconds after
    sampling started), so the analysis can leave the warm-up's readings out."""
    ends_at = level.soak.get("warmup_ends_at")
    if ends_at is not None and sampler.started_unix_s:
        level.soak["resources_warmup_ends_s"] = round(ends_at - sampler.started_unix_s, 3)


class CheckpointStore:
    """``Session.checkpoint`` for a run: stores the run with the level in progress."""

    def __init__(self, run: Run, result: RunResult, sampler: ResourceSampler):
        self.run, self.result, self.sampler = run, result, sampler
        #: The offset of the last resource sample stored (-1: none yet).
        self._stored_to_s = -1.0

    def __call__(self, level: LevelResult) -> None:
        place_warmup_end(level, self.sampler)
        series = self.sampler.series
        samples = series.samples  # the sampler replaces the list when it thins it
        new = [sample for sample in samples if sample.offset_s > self._stored_to_s]
        so_far = dataclasses.replace(
            self.result, levels=[*self.result.levels, level], resources=series
        )
        write.checkpoint(self.run, so_far, new)
        if new:
            self._stored_to_s = new[-1].offset_s
