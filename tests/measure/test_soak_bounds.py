"""A soak keeps perftest's own memory flat: what the resource sampler keeps is bounded, however
long it samples. Past ``MAX_SAMPLES`` readings every other one is dropped and the interval
doubles, the first reading kept (growth is computed from it)."""

from __future__ import annotations

import time

from perftest.measure import resources
from perftest.measure.resources import own_process_sampler


def test_resource_samples_thin_out_past_the_maximum_and_the_interval_doubles(monkeypatch):
    monkeypatch.setattr(resources, "MAX_SAMPLES", 4)
    sampler = own_process_sampler(0.01).start()
    deadline = time.monotonic() + 30
    # Thinned twice: at least 4 + 2 + … readings were taken, at most 4 are kept.
    while sampler.series.interval_s < 0.04 and time.monotonic() < deadline:
        time.sleep(0.01)
    series = sampler.stop()
    assert series.interval_s >= 0.04, "the sampler never thinned its readings"
    assert 2 <= len(series.samples) <= 4
    offsets = [sample.offset_s for sample in series.samples]
    # The first reading (taken at start, before one interval passed) is still there.
    assert offsets[0] < 0.01 and offsets == sorted(offsets)
