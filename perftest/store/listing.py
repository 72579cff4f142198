"""Stored runs as ``perftest_runs`` lists them: the newest first, three queries for the list.

A list shows each run's verdict, endpoints and findings, so reading it run by run through
``store.read.StoredRun`` would cost a query per table per run; here the rows a list shows are
fetched together.
"""

from __future__ import annotations

from dataclasses import dataclass

from perftest import models


@dataclass(frozen=True)
class RunListing:
    """One stored run as ``perftest_runs`` lists it, from three queries for the whole list."""

    row: models.Run
    endpoints: tuple[models.EndpointResult, ...]
    findings: tuple[models.Finding, ...]


def listing(target: str = "", label: str = "", limit: int = 20) -> list[RunListing]:
    """The newest ``limit`` stored runs whose target and label contain the given text (any
    case), with their sequential endpoints and findings: three queries whatever the count."""
    runs = models.Run.objects.order_by("-started_at", "-pk")
    if target:
        runs = runs.filter(target__icontains=target)
    if label:
        runs = runs.filter(label__icontains=label)
    rows = list(runs[:limit])
    ids = [row.pk for row in rows]
    endpoints: dict[int, list[models.EndpointResult]] = {pk: [] for pk in ids}
    for endpoint in models.EndpointResult.objects.filter(run_id__in=ids, phase="sequential"):
        endpoints[endpoint.run_id].append(endpoint)
    findings: dict[int, list[models.Finding]] = {pk: [] for pk in ids}
    for finding in models.Finding.objects.filter(run_id__in=ids):
        findings[finding.run_id].append(finding)
    return [RunListing(row, tuple(endpoints[row.pk]), tuple(findings[row.pk])) for row in rows]
