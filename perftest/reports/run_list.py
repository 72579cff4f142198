"""The list of stored runs ``perftest_runs`` prints: one row per run, newest first.

Each row answers "is this run worth opening?": how it ended and its verdict (the word, the
count of reasons and the first one, as stored when its analysis ended), how many endpoints
answered only as expected, the slowest p95 of the endpoints under test (the login set apart:
its password hash is slow on purpose), how many figures regressed against its baseline, how
many thresholds made it red, and its findings by kind, the most serious first (configuration
problems, regressions, bottlenecks, then facts).
"""

from __future__ import annotations

import datetime
from collections import Counter

from perftest.analysis import verdict
from perftest.analysis.metrics import P95
from perftest.analysis.noise import REGRESSION
from perftest.analysis.rules.base import BASELINE, BOTTLENECK, CONFIGURATION, KEY, THRESHOLD
from perftest.analysis.thresholds import NOT_MEASURED
from perftest.store.listing import RunListing
from perftest.store.vocabulary import judged

from . import console
from .blocks import Block, Paragraph, Table
from .sections.phrases import NONE, kind_word

HEADERS = (
    "Run",
    "Started (UTC)",
    "Label",
    "Mode",
    "Target",
    "Status",
    "Verdict",
    "Endpoints ok",
    "Worst p95",
    "Regressions",
    "Thresholds failed",
    "Findings",
)

#: Finding kinds in the Findings column, most serious first (a baseline finding counts as a
#: regression when it is one; improvements are not listed).
SEVERITY = (CONFIGURATION, REGRESSION, BOTTLENECK, KEY)


def _verdict(listing: RunListing) -> str:
    """``RED — 13 reasons: FAIL: …; and 12 more`` as stored when the run's analysis ended;
    ``—`` for a run never judged (running, abandoned, or stored before verdicts were)."""
    judged = verdict.stored_with(listing.row)
    return console.verdict_line(judged, quoted=1) if judged else NONE


def _endpoints_ok(listing: RunListing) -> str:
    """Endpoints judged whose every answer was as expected, of all configured."""
    fine = [e for e in judged(listing.endpoints) if e.ok == e.requests]
    return f"{len(fine)}/{len(listing.endpoints)}"


def _worst_p95(listing: RunListing) -> str:
    """The slowest p95 of the endpoints under test: the login's rows are stored set apart
    unless its plan put it under test."""
    under_test = [e for e in judged(listing.endpoints) if not e.set_apart]
    slowest = max(under_test, key=P95.of, default=None)
    return f"{P95.text(slowest)} ({slowest.label})" if slowest else NONE


def _regressions(listing: RunListing) -> str:
    """``3 vs run #12``: the figures worse than the baseline's beyond noise, as stored; ``—``
    for a run compared with no baseline."""
    baseline = listing.row.baseline_id
    if baseline is None:
        return NONE
    count = sum(1 for f in listing.findings if f.kind == BASELINE and f.rule == REGRESSION)
    return f"{count} vs run #{baseline}"


def _thresholds_failed(listing: RunListing) -> str:
    """Failed and not measured checks (both make the run red), of all checks."""
    checks = [f for f in listing.findings if f.kind == THRESHOLD]
    red = [f for f in checks if f.passed is False or f.actual == NOT_MEASURED]
    return f"{len(red)} of {len(checks)}" if checks else NONE


def _findings(listing: RunListing) -> str:
    kinds = Counter(
        f.rule if f.kind == BASELINE and f.rule == REGRESSION else f.kind for f in listing.findings
    )
    counted = [f"{kinds[kind]} {kind_word(kind)}" for kind in SEVERITY if kinds[kind]]
    return ", ".join(counted) or "none"


def _row(listing: RunListing) -> list[object]:
    run = listing.row
    return [
        run.pk,
        run.started_at.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        run.label or NONE,
        run.mode,
        run.target,
        run.status,
        _verdict(listing),
        _endpoints_ok(listing),
        _worst_p95(listing),
        _regressions(listing),
        _thresholds_failed(listing),
        _findings(listing),
    ]


def blocks(listings: list[RunListing], asked: str) -> list[Block]:
    """A table of the runs, or one sentence saying none is stored (and for which filter)."""
    if not listings:
        return [Paragraph(f"No stored runs{asked}.")]
    return [Table(HEADERS, [_row(listing) for listing in listings], right=frozenset({0}))]
