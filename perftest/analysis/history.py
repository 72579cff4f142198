"""An endpoint's history, run by run: its p95 and queries per request, and what each run
said of it against its own baseline.

Nothing is judged again here: a mark is what the run stored when it ended. An endpoint
*regressed* in a run when that run stored a regression finding about it (its sequential row,
its HTTP pass, or its row at a load level: ``rules.baseline.subject`` names them all); it
*improved* when it stored an improvement and no regression. A run whose comparison withheld
the endpoint's p95 verdict (the machine was busy, its calibration drifted, no answer as
expected on one side) is marked *not judged*, with the stored reason, so that a quiet trend
is never mistaken for a judged one; a run with no baseline has no mark at all. The login is
left out unless the plan puts it under test (``login.under_test``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from perftest.store.history import HistoryRun
from perftest.store.read import StoredRun
from perftest.store.vocabulary import unjudged

from . import login, metrics
from .noise import IMPROVEMENT, NOT_COMPARED, NOT_JUDGED, REGRESSION
from .rules.baseline import subject

#: The marks a point can carry ("" for none): what its run stored against its baseline.
MARKS = (REGRESSION, IMPROVEMENT, NOT_JUDGED, NOT_COMPARED)

#: Why a point has no figures when its run has no row for the endpoint.
ABSENT = "not in this run"

#: The figures a history shows, by their names in a stored comparison.
P95 = metrics.P95.name
QUERIES = "queries_mean"


@dataclass(frozen=True)
class Column:
    """One run of the history as its column heads it: when, what it was compared with
    (None: nothing) and how many regressions that comparison found."""

    pk: int
    started_at: dt.datetime
    baseline: int | None
    regressions: int


@dataclass(frozen=True)
class Point:
    """One endpoint in one run: its p95 and queries per request (None when the run has no
    such figure: ``why`` says why), the run's mark for it with its reason, and which of the
    two figures the mark is about in the sequential pass (``P95``, ``QUERIES``; none when
    it is about the endpoint at a load level only)."""

    run: int
    p95_ms: float | None
    queries: float | None
    mark: str
    why: str
    figures: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Trend:
    """One endpoint across the history's runs, a point per run, oldest first."""

    endpoint: str
    points: tuple[Point, ...]


def columns(runs: Sequence[HistoryRun]) -> list[Column]:
    """Each run's column, in the history's order."""
    return [
        Column(
            run.pk,
            run.row.started_at,
            (run.row.comparison.get("baseline") or {}).get("id"),
            sum(1 for finding in run.changes if finding.rule == REGRESSION),
        )
        for run in runs
    ]


def _sequential(rows: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """The endpoint's compared figures in the sequential pass, by name; a statement newly
    repeated there counts as its queries regressing."""
    for row in rows:
        if row.get("phase") == "sequential" and row.get("level") is None:
            found = {metric["metric"]: metric for metric in row.get("metrics", ())}
            if row.get("new_repeated"):
                found[QUERIES] = {**found.get(QUERIES, {}), "verdict": REGRESSION}
            return found
    return {}


def _mark(run: HistoryRun, label: str, why: str) -> tuple[str, str, frozenset[str]]:
    """The run's mark for the endpoint ``label``, its reason and the figures it is about: its
    stored regressions (each finding's title), else its improvements, else a withheld p95
    verdict."""
    rows = [row for row in run.row.comparison.get("rows", ()) if row.get("endpoint") == label]
    subjects = {subject(row) for row in rows}
    compared = _sequential(rows)
    for kind in (REGRESSION, IMPROVEMENT):
        titles = [f.title for f in run.changes if f.rule == kind and f.subject in subjects]
        if titles:
            about = frozenset(
                n for n in (P95, QUERIES) if compared.get(n, {}).get("verdict") == kind
            )
            return kind, "; ".join(titles), about
    p95 = compared.get(P95, {})
    if p95.get("verdict") in (NOT_JUDGED, NOT_COMPARED):
        word = p95["verdict"]
        return word, p95["why"].removeprefix(f"{word}: "), frozenset({P95})
    return "", why, frozenset()


def _point(run: HistoryRun, label: str) -> Point:
    endpoint = next((row for row in run.endpoints if row.label == label), None)
    if endpoint is None:
        return Point(run.pk, None, None, "", ABSENT)
    why = unjudged(endpoint)
    p95 = None if why else endpoint.p95_ms
    queries = endpoint.queries_mean if endpoint.sql_captured and not why else None
    return Point(run.pk, p95, queries, *_mark(run, label, why))


def trends(stored: StoredRun, runs: Sequence[HistoryRun]) -> list[Trend]:
    """Each endpoint under test of ``stored`` (and of the earlier runs, newest first, for an
    endpoint it no longer has) across ``runs``."""
    labels: dict[str, None] = {}
    for run in reversed(runs):
        for endpoint in login.under_test(run.endpoints, stored):
            labels.setdefault(endpoint.label)
    return [Trend(label, tuple(_point(run, label) for run in runs)) for label in labels]
