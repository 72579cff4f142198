"""A soak is stored as it goes: every checkpoint interval the run so far (the level in
progress, the resource samples, the counts) is in the database, the run still ``running``;
when it ends, its level says where the warm-up ended in both its windows' and its samples'
frames. One real in-process soak of a few seconds, a checkpoint every 0.3 s."""

from __future__ import annotations

import gc

import pytest

from perftest.models import LoadLevel, Run
from perftest.store import write

# The level's workers log in on connections of their own: the seeded rows must be committed.
pytestmark = pytest.mark.django_db(transaction=True)

CHECKPOINT_S = 0.3


@pytest.fixture
def soak(run_perftest, settings, monkeypatch):
    """A 3 s soak (1 s warm-up, 2 s steady) at 20 req/s; the stored run and, read back
    from the database right after each checkpoint, what it held then."""
    settings.PERFTEST = {**settings.PERFTEST, "SOAK": {"CHECKPOINT_S": CHECKPOINT_S}}
    seen: list[dict] = []
    store = write.checkpoint

    def reading_back(run: Run, result, new_samples) -> Run:
        stored = store(run, result, new_samples)
        row = Run.objects.get(pk=run.pk)
        level = LoadLevel.objects.get(run=row)
        seen.append(
            {
                "status": row.status,
                "finished_at": row.finished_at,
                "requests": level.requests,
                "interrupted": level.interrupted,
                "checkpoints": level.soak["checkpoints"],
                "windows": sum(w["count"] for w in level.windows.get("windows", [])),
                "samples": row.resource_samples.count(),
                "sample_offsets": list(row.resource_samples.values("offset_s")),
                "sequential": row.endpoints.filter(phase="sequential").count(),
                "set_aside": gc.get_freeze_count(),
            }
        )
        return stored

    monkeypatch.setattr(write, "checkpoint", reading_back)
    run, report = run_perftest(
        *("--endpoints", "Get Profile", "--iterations", "2", "--warmup", "0"),
        *("--soak", "2s", "--soak-warmup", "1s", "--rate", "20", "--concurrency", "2"),
    )
    return run, seen


def test_a_soak_stores_each_checkpoint_as_it_goes_then_the_whole_level_with_its_warm_up_end(soak):
    run, seen = soak
    # About ten intervals in 3 s; at least several, whatever the machine's pace.
    assert len(seen) >= 3, seen
    assert [s["checkpoints"] for s in seen] == list(range(1, len(seen) + 1))
    for before, after in zip(seen, seen[1:], strict=False):
        assert after["requests"] >= before["requests"]
        # Each checkpoint adds the samples read since the one before, never one twice.
        assert after["samples"] >= before["samples"]
    assert seen[-1]["samples"] == len({s["offset_s"] for s in seen[-1]["sample_offsets"]})
    for stored in seen:
        assert stored["status"] == Run.Status.RUNNING and stored["finished_at"] is None
        # The level in progress is stored whole so far: marked cut short, its windows
        # holding every counted answer, beside the sequential pass and the samples.
        assert stored["interrupted"] and stored["windows"] == stored["requests"]
        assert stored["sequential"] == 1 and stored["samples"] >= 1
    assert seen[-1]["requests"] > seen[0]["requests"] > 0
    # While it ran, what was alive at its start was set aside from garbage collection (each
    # checkpoint's pass stays short); when it ended, it was put back.
    assert all(stored["set_aside"] > 0 for stored in seen) and gc.get_freeze_count() == 0
    # Then the finished soak replaces its checkpoints with the whole level.
    run.refresh_from_db()
    level = run.levels.get()
    assert run.status == Run.Status.COMPLETED and not level.interrupted
    assert level.model == "open" and level.rate == 20 and level.duration_s == 3
    # Every slot of 3 s at 20 req/s is accounted for: sent, or dropped when both workers were
    # still waiting on the server (a busy machine slows it).
    assert level.requests + level.dropped == 60 and level.requests > 0
    assert level.soak["checkpoints"] == len(seen)
    assert (level.soak["steady_s"], level.soak["warmup_s"]) == (2, 1)
    assert level.soak["checkpoint_s"] == CHECKPOINT_S
    # The warm-up ends about 1 s into the level: in the windows' frame (after the first
    # window's start, at most one window width earlier than the release) and in the
    # samples' (sampling started before seeding and the sequential pass).
    width = level.windows["width_s"]
    assert 1 <= level.soak["warmup_ends_s"] <= 1 + width
    assert level.soak["resources_warmup_ends_s"] > 1
    last_offset = run.resource_samples.order_by("-offset_s").first().offset_s
    assert level.soak["resources_warmup_ends_s"] < last_offset
