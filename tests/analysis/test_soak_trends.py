"""A soak's trends: Theil–Sen slopes with their interval, judged per process lifetime and
against material bounds (``analysis.trends``), and the findings the soak rules make of them.

Synthetic series: the shapes the rules must tell apart (steady growth, flat noise, a garbage
collector's sawtooth, workers recycled flat or leaking), then stored soaks read back.
"""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest

from perftest import models
from perftest.analysis.rules import soak as soak_rules
from perftest.analysis.trends import MIN_READINGS, fit, process_trends
from perftest.reports import html, markdown
from perftest.reports import json as json_report
from perftest.store.read import StoredRun
from perftest.text import MB
from tests.support.report_checks import validate
from tests.support.stored_rows import add_level, analyzed, load_run, of_rule, stored_windows

#: A reading every 10 s over the steady part of 20 min (the samples' frame).
STEP_S, READINGS = 10.0, 120


def noise(seed: int, size: float) -> list[float]:
    rng = random.Random(seed)
    return [rng.gauss(0, size) for _ in range(READINGS)]


def samples(*processes: tuple[int, list[float | None]]):
    """Resource samples whose processes are ``(pid, RSS in MB per reading, None: absent)``."""
    return [
        SimpleNamespace(
            offset_s=i * STEP_S,
            processes=[
                {"pid": pid, "name": "gunicorn", "rss_bytes": int(rss[i] * MB)}
                for pid, rss in processes
                if rss[i] is not None
            ],
        )
        for i in range(READINGS)
    ]


def judged(*processes):
    found, unjudged = process_trends(samples(*processes), 0.0, READINGS * STEP_S)
    return found, unjudged


def test_steady_growth_is_a_leak_with_a_positive_slope_and_an_interval_above_zero():
    rss = [100 + 0.2 * i + n for i, n in enumerate(noise(1, 0.5))]  # 24 MB over 20 min
    (trend,), _ = judged((41, rss))
    assert trend.grows and trend.fit.low > 0
    assert trend.fit.low <= trend.fit.slope <= trend.fit.high
    assert trend.fit.slope * 3600 / MB == pytest.approx(72, rel=0.1)  # 0.2 MB per 10 s


def test_flat_noise_is_not_a_leak():
    rss = [100 + n for n in noise(2, 2.0)]
    (trend,), _ = judged((41, rss))
    assert not trend.grows


def test_a_garbage_collectors_sawtooth_within_one_process_is_not_a_leak():
    # Rises 20 MB over 40 readings (400 s), then drops back: three teeth, tilting the slope.
    rss = [100 + 20 * (i % 40) / 40 + n for i, n in enumerate(noise(3, 0.3))]
    (trend,), _ = judged((41, rss))
    assert not trend.grows
    assert abs(trend.floor_rise) < 1 * MB


def test_recycled_workers_each_flat_on_a_new_pid_with_less_memory_are_not_a_leak():
    # Each worker lives 30 readings at a flat RSS; its replacement starts lower.
    lives = [
        (100 + k, [150 - 10 * k if i // 30 == k else None for i in range(READINGS)])
        for k in range(4)
    ]
    found, unjudged = judged(*lives)
    assert len(found) == 4 and unjudged == 0
    assert not any(trend.grows for trend in found)
    # Read as one series, the drops at each recycling would slope down: per pid they don't.
    assert all(abs(trend.fit.slope) * 3600 / MB < 1 for trend in found)


def test_a_leak_in_every_recycled_worker_is_a_leak_each_worker_keeps_growing():
    lives = [
        (100 + k, [80 + 0.5 * (i - 30 * k) if i // 30 == k else None for i in range(READINGS)])
        for k in range(4)
    ]
    found, _ = judged(*lives)
    assert all(trend.grows and trend.fit.slope > 0 for trend in found)


def test_a_process_with_too_few_readings_is_not_judged():
    brief = [100.0 if i < MIN_READINGS - 1 else None for i in range(READINGS)]
    found, unjudged = judged((41, brief), (42, [100.0] * READINGS))
    assert [trend.subject for trend in found] == ["gunicorn (pid 42)"] and unjudged == 1


def test_the_fit_of_a_straight_line_is_its_slope_with_a_narrow_interval():
    line = fit([0, 1, 2, 3, 4, 5, 6, 7], [3, 5, 7, 9, 11, 13, 15, 17])
    assert (line.slope, line.start, line.span_s, line.growth) == (2, 3, 7, 14)
    assert line.low == line.high == 2


# Stored soaks, judged by the rules.
pytestmark = pytest.mark.django_db


def stored_soak(rss_mb: list[float], p95s: list[float], steady_s: float = 1200.0):
    """An HTTP soak: warm-up of 60 s, then ``steady_s``; the server's one process sampled
    every 10 s from the warm-up's end, its latency windows 1 s wide from the level's start."""
    run = load_run(status=models.Run.Status.COMPLETED)
    soak = {
        "steady_s": steady_s,
        "warmup_s": 60.0,
        "checkpoint_s": 60.0,
        "checkpoints": 21,
        "covered_s": 60.0 + steady_s,
        "warmup_ends_at": 1_000_060.0,
        "warmup_ends_s": 60.0,
        "resources_warmup_ends_s": 0.0,
    }
    add_level(
        run, 10, 20.0, 50.0, model="open", rate=20.0, soak=soak, windows=stored_windows(*p95s)
    )
    models.ResourceSample.objects.bulk_create(
        models.ResourceSample(
            run=run,
            offset_s=i * STEP_S,
            rss_bytes=int(rss * MB),
            cpu_percent=10.0,
            threads=4,
            open_files=3,
            processes=[
                {"pid": 41, "name": "gunicorn", "rss_bytes": int(rss * MB), "cpu_percent": 10.0}
            ],
        )
        for i, rss in enumerate(rss_mb)
    )
    return run


def test_a_stored_soak_whose_worker_leaks_gets_a_leak_finding_with_its_rate_and_projection():
    rss = [300 + 0.2 * i for i in range(READINGS)]  # 72 MB/h
    run = stored_soak(rss, [50.0] * 1260)
    (leak,) = of_rule(analyzed(run), soak_rules.MEMORY_LEAK)
    assert leak.title.startswith("RSS of gunicorn (pid 41) grows 72.0 MB/h (95 % interval ")
    assert "over 19 min 50 s of steady load: a leak; at this rate it reaches 1 GB in 9 h" in (
        leak.title
    )
    assert not of_rule(analyzed(run), soak_rules.LATENCY_CREEP)
    # A leak is what a soak is run to find: the run is red, the leak its reason.
    run.refresh_from_db()
    assert run.verdict == "RED" and f"FAIL: soak: {leak.title}" in run.verdict_reasons


def test_a_stored_soak_whose_p95_creeps_up_gets_a_latency_finding_and_no_leak():
    p95s = [50.0] * 60 + [50.0 + i / 20 for i in range(1200)]  # +60 ms over 20 min
    run = stored_soak([300.0] * READINGS, p95s)
    found = analyzed(run)
    (creep,) = of_rule(found, soak_rules.LATENCY_CREEP)
    assert creep.title.startswith("The p95 per window grows ")
    assert not of_rule(found, soak_rules.MEMORY_LEAK)
    # A creep may be the machine's (busier as the soak went on): reported, never a failure.
    run.refresh_from_db()
    assert not any(reason.startswith("FAIL: soak:") for reason in run.verdict_reasons)


def test_a_run_that_is_not_a_soak_gets_no_trend_finding():
    run = load_run(status=models.Run.Status.COMPLETED)
    add_level(run, 10, 20.0, 50.0, windows=stored_windows(*[50.0 + i for i in range(60)]))
    rules = {finding.rule for finding in analyzed(run)}
    assert not {rule for rule in rules if "soak" in rule}


def test_a_soak_too_short_to_fit_says_its_trends_were_not_judged():
    run = stored_soak([300.0, 400.0, 500.0], [50.0] * 63, steady_s=3.0)
    found = analyzed(run)
    assert not of_rule(found, soak_rules.MEMORY_LEAK)
    (said,) = of_rule(found, soak_rules.NOT_JUDGED)
    assert said.title == "The soak's trends were not judged: its steady part held too few readings"
    assert "p95: 3 steady readings, at least 8 needed" in said.evidence


def test_the_reports_list_each_series_with_its_slope_interval_and_judgement():
    rss = [300 + 0.2 * i for i in range(READINGS)]
    run = stored_soak(rss, [50.0] * 1260)
    analyzed(run)
    stored = StoredRun.of(run)
    report = markdown.render(stored)
    assert "## Trends over the soak" in report
    assert "| RSS of gunicorn (pid 41) | 120 | 72.0 MB/h |" in report
    assert report.count("| leak |") == 1
    assert "| p95 | 1200 | 0.00 ms/h | 0.00 to 0.00 ms/h | 50.0 ms to 50.0 ms | steady" in report
    assert "Database connections were not followed: no count was stored." in report
    assert "<td>RSS of gunicorn (pid 41)</td>" in html.render(stored)
    document = validate(json_report.render(stored))
    (process, p95, error_rate) = document["trends"]["series"]
    assert process["grows"] and process["slope_per_h"] == pytest.approx(72)
    assert process["low_per_h"] <= 72 <= process["high_per_h"] and process["unit"] == "MB"
    assert not p95["grows"] and not error_rate["grows"]


def test_a_run_that_is_not_a_soak_has_no_trends_in_its_reports():
    run = load_run(status=models.Run.Status.COMPLETED)
    add_level(run, 10, 20.0, 50.0, windows=stored_windows(50.0, 51.0))
    analyzed(run)
    stored = StoredRun.of(run)
    assert "Trends over the soak" not in markdown.render(stored)
    assert validate(json_report.render(stored))["trends"] is None


def test_a_stored_soak_whose_error_rate_and_connections_creep_up_gets_both_findings():
    run = stored_soak([300.0] * READINGS, [50.0] * 1260)
    level = run.levels.get()
    # From 0 % to 6 % of each window's 40 answers over the steady part; connections 4 -> 9.
    failed = [[60.0 + i, 1 + i // 400] for i in range(1200)]
    level.windows = {**level.windows, "errors": failed}
    level.database_connections = {
        "peak": 9,
        "mean": 6.0,
        "width_s": 20.0,
        "series": [[1_000_060.0 + 20 * i, 4 + i / 12, 9] for i in range(60)],
    }
    level.save()
    found = analyzed(run)
    (errors,) = of_rule(found, soak_rules.ERROR_CREEP)
    assert errors.title.startswith("The error rate per window grows ")
    (connections,) = of_rule(found, soak_rules.CONNECTION_LEAK)
    assert connections.title.startswith("The count of open database connections grows 15.0 ")
    assert connections.title.endswith("of steady load: a leak")
