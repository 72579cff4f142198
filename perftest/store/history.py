"""A run and the earlier runs of its target and plan, read together: the rows the admin's
endpoint history shows.

A person asking "has this endpoint been getting slower?" would otherwise open run after run,
or rebuild the trend in a spreadsheet. The runs are those a run could be compared with
(``baselines.comparable``: completed, same target, same plan fingerprint) that started
before it, the run itself last; read with three queries whatever their number (the runs,
their sequential endpoint rows, their stored changes against their baselines), and without
the columns a history never shows (histograms, windows, statements, profiles, plans).
"""

from __future__ import annotations

from dataclasses import dataclass

from perftest import models
from perftest.store.baselines import comparable
from perftest.store.read import StoredRun

#: The most runs a history shows (the run itself and the newest earlier ones).
RUNS = 20

#: The run columns a history never reads: large, and read run by run elsewhere.
_RUN_UNREAD = ("config", "environment", "logins", "capacity", "verdict_reasons", "notes")
#: The endpoint columns a history never reads.
_ENDPOINT_UNREAD = (
    "histogram",
    "windows",
    "statements",
    "profile",
    "explain",
    "server_timing",
    "duplicate_queries",
    "status_counts",
)


@dataclass(frozen=True)
class HistoryRun:
    """One run of a history: its row (with its stored comparison), its sequential endpoint
    rows in stored order, and the findings it stored against its baseline (regressions and
    improvements, ``analysis.rules.baseline``)."""

    row: models.Run
    endpoints: tuple[models.EndpointResult, ...]
    changes: tuple[models.Finding, ...]

    @property
    def pk(self) -> int:
        return self.row.pk


def earlier_runs(stored: StoredRun, limit: int = RUNS) -> tuple[HistoryRun, ...]:
    """``stored`` and up to ``limit - 1`` completed runs of its target and plan that started
    before it, oldest first (``stored`` last, whatever its status): three queries."""
    this = stored.row
    before = (
        comparable(this.target, stored.plan)
        .filter(started_at__lte=this.started_at)
        .exclude(pk=this.pk)
        .defer(*_RUN_UNREAD)
        .order_by("-started_at", "-pk")
    )
    rows = [*reversed(before[: max(limit - 1, 0)]), this]
    ids = [row.pk for row in rows]
    endpoints: dict[int, list[models.EndpointResult]] = {pk: [] for pk in ids}
    for endpoint in (
        models.EndpointResult.objects.filter(run_id__in=ids, phase="sequential")
        .defer(*_ENDPOINT_UNREAD)
        .order_by("run_id", "position")
    ):
        endpoints[endpoint.run_id].append(endpoint)
    changes: dict[int, list[models.Finding]] = {pk: [] for pk in ids}
    for finding in models.Finding.objects.filter(
        run_id__in=ids, kind=models.Finding.Kind.BASELINE
    ).order_by("run_id", "position"):
        changes[finding.run_id].append(finding)
    return tuple(HistoryRun(row, tuple(endpoints[row.pk]), tuple(changes[row.pk])) for row in rows)
