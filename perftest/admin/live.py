"""A running run's progress, from what it has stored so far: the run page's "Live" panel.

Only a soak (``--soak``) stores its figures while it runs: every checkpoint interval its level
so far (counts, errors, latency per time window, ``LoadLevel.soak``: how much of the plan it
has covered) and the resource samples read since the one before. The panel shows those rows
and nothing else: the requests, the errors, p50 and p95 so far and over time, the measured
processes' RSS, the share of the planned soak covered and the time left (the plan's warm-up
and steady part less what the last checkpoint covered). Any other run stores its figures when
it ends, so the panel says so and waits. ``views.live`` serves the same panel, rendered by the
same template, to the page's script (``static/perftest/live.js``), which polls it every
``Live.poll_s`` while the run is running and stops once it is not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils.safestring import SafeString

from perftest.analysis.metrics import ERROR_RATE, OK_THROUGHPUT, P50, P95
from perftest.reports.sections.phrases import NONE
from perftest.store.read import Status, StoredRun
from perftest.store.vocabulary import unjudged
from perftest.text import MB, error_groups, mb, number, percent, span

from . import live_chart

#: How often the page asks for the panel again: a soak's checkpoint interval, within these
#: bounds (a new figure shows at most ``POLL_MAX_S`` after its checkpoint); a run that stores
#: nothing while it runs is asked every ``POLL_WAITING_S``, only to see it end.
POLL_MIN_S, POLL_MAX_S, POLL_WAITING_S = 1.0, 10.0, 5.0

#: Why a run other than a soak shows no progress while it runs.
STORED_AT_THE_END = (
    "This run stores its figures when it ends (only a soak, --soak, stores them as it goes): "
    "they show here once it has finished."
)


@dataclass(frozen=True)
class Figure:
    """One figure of the panel: ``key`` names it for the page's script and tests."""

    key: str
    label: str
    value: str
    detail: str = ""


@dataclass(frozen=True)
class Live:
    """The panel: whether the run is still running, one sentence on where it is, its
    figures and chart, and where and how often the page asks for it again."""

    pk: int
    status: str
    headline: str
    figures: tuple[Figure, ...] = ()
    chart: SafeString = SafeString("")
    #: The share of the planned soak covered (0 to 1); None when nothing says.
    covered: float | None = None
    poll_s: float = POLL_WAITING_S
    url: str = ""

    @property
    def running(self) -> bool:
        return self.status == Status.RUNNING

    @property
    def covered_percent(self) -> str:
        return "" if self.covered is None else f"{100 * self.covered:.0f}"

    @property
    def poll_ms(self) -> int:
        return round(1000 * self.poll_s)


def soak_level(stored: StoredRun) -> Any:
    """The soak's level as its last checkpoint stored it; None before the first."""
    return next((level for level in stored.levels if level.soak), None)


def _poll_s(checkpoint_s: float) -> float:
    return min(max(checkpoint_s, POLL_MIN_S), POLL_MAX_S)


def _rss(stored: StoredRun) -> Figure:
    """The latest reading and the first, so growth reads at a glance."""
    if not stored.samples:
        return Figure(
            "rss", "Server RSS", NONE, stored.row.resource_unavailable or "No sample yet."
        )
    first, latest = stored.samples[0], stored.samples[-1]
    return Figure(
        "rss",
        "Server RSS",
        mb(latest.rss_bytes / MB),
        f"{stored.row.resource_description or 'the measured processes'}; "
        f"{mb(first.rss_bytes / MB)} at the first of {len(stored.samples)} samples",
    )


def _level_figures(level: Any) -> tuple[Figure, ...]:
    errors = level.requests - level.ok
    judged = not unjudged(level)
    planned = f"of {level.planned_requests} planned " if level.planned_requests else ""
    return (
        Figure("requests", "Requests", str(level.requests), f"{planned}at {number(level.rate)}/s"),
        Figure(
            "errors",
            "Errors",
            f"{errors} ({ERROR_RATE.text(level)})",
            error_groups(level.errors) if errors else "",
        ),
        Figure("p50", "p50 so far", P50.text(level) if judged else NONE),
        Figure("p95", "p95 so far", P95.text(level) if judged else NONE),
        Figure("throughput", "Throughput as expected", OK_THROUGHPUT.text(level)),
    )


def _soak(stored: StoredRun, level: Any, url: str) -> Live:
    soak = level.soak
    planned_s = soak["warmup_s"] + soak["steady_s"]
    covered_s = min(soak["covered_s"], planned_s)
    part = "warm-up" if covered_s < soak["warmup_s"] else "steady load"
    every = span(soak["checkpoint_s"])
    headline = (
        f"Soak in its {part}: {span(covered_s)} of its planned {span(planned_s)} "
        f"({span(soak['warmup_s'])} of warm-up, then {span(soak['steady_s'])} steady) covered, "
        f"as its checkpoint {soak['checkpoints']} stored (one every {every})."
    )
    progress = (
        Figure("covered", "Covered", percent(100 * covered_s / planned_s), f"{span(covered_s)} in"),
        Figure("left", "Time left", span(planned_s - covered_s), f"of {span(planned_s)}"),
    )
    return Live(
        stored.pk,
        stored.status,
        headline,
        (*progress, *_level_figures(level), _rss(stored)),
        live_chart.chart(stored, level),
        covered_s / planned_s if planned_s else None,
        _poll_s(soak["checkpoint_s"]),
        url,
    )


def _before_first_checkpoint(stored: StoredRun, url: str) -> Live:
    """A soak whose level has not stored its first checkpoint: the sequential pass runs
    first, so all of the planned soak is ahead."""
    plan = stored.plan.load.soak
    headline = (
        f"Soak planned for {span(plan.total_s)} ({span(plan.warmup_s)} of warm-up, then "
        f"{span(plan.steady_s)} steady): no checkpoint stored yet. Its level starts after the "
        f"sequential pass and stores the first {span(plan.checkpoint_s)} in."
    )
    left = Figure("left", "Time left", span(plan.total_s), "the whole soak, after the pass")
    return Live(
        stored.pk,
        stored.status,
        headline,
        (left,),
        covered=0.0,
        poll_s=_poll_s(plan.checkpoint_s),
        url=url,
    )


def of(stored: StoredRun) -> Live:
    """The live panel of ``stored`` as its rows stand now."""
    url = reverse("admin:perftest_run_live", args=[stored.pk])
    if stored.status != Status.RUNNING:
        return Live(
            stored.pk,
            stored.status,
            f"Run #{stored.pk} finished ({stored.status}): reload the page for its full report.",
            url=url,
        )
    if stored.plan.load.soak is None:
        return Live(stored.pk, stored.status, STORED_AT_THE_END, url=url)
    level = soak_level(stored)
    if level is None:
        return _before_first_checkpoint(stored, url)
    return _soak(stored, level, url)
