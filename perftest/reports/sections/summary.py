"""The report's title and executive summary: what ran, how it ended, the headline figures."""

from __future__ import annotations

from perftest.analysis import summaries
from perftest.analysis.metrics import THROUGHPUT
from perftest.analysis.rules import levels
from perftest.analysis.rules.base import BOTTLENECK
from perftest.store.read import Status, StoredRun
from perftest.text import level_label

from ..blocks import Block, Bullets, Heading, Paragraph, Strong
from .phrases import of_kind, threshold_tally


def title(stored: StoredRun) -> list[Block]:
    run = stored.row
    heading = f"Performance report: run #{run.pk}" + (f", {run.label}" if run.label else "")
    started = run.started_at.isoformat(timespec="seconds")
    if run.finished_at is None:
        timing = f"Started {started}; no finish time stored."
    else:
        seconds = (run.finished_at - run.started_at).total_seconds()
        timing = (
            f"Started {started}, finished {run.finished_at.isoformat(timespec='seconds')} "
            f"({seconds:.1f} s)."
        )
    return [
        Heading(heading, 1),
        Paragraph(
            ["Status: ", Strong(run.status), f". Target: {run.target} ({run.mode}). {timing}"]
        ),
    ]


def _status_sentence(stored: StoredRun) -> str:
    """What the run's status means for the figures below it."""
    done = sum(e.requests for e in stored.sequential)
    planned = sum(e.planned for e in stored.sequential)
    if stored.status == Status.INTERRUPTED:
        return (
            f"The run was interrupted: the figures cover the {done} of {planned} planned "
            "requests made before it stopped."
        )
    if stored.status == Status.FAILED:
        return (
            f"The run failed: {stored.row.failure or 'no reason stored'}. The figures cover the "
            f"{done} of {planned} planned requests made before that."
        )
    if stored.status == Status.RUNNING:
        return "The run is still marked running: it stopped before its results were saved."
    return f"The run completed: {done} of {planned} planned requests were made."


def _load_lines(stored: StoredRun) -> list[str]:
    """The load levels' headline: peak throughput, and the knee when the rules found one."""
    top = summaries.peak(stored.levels)
    if top is None:
        return (
            [f"Load levels: {len(stored.levels)}, none counted a request"] if stored.levels else []
        )
    lines = [
        f"Load levels: {len(stored.levels)}; peak throughput {THROUGHPUT.text(top)} at "
        f"{level_label(top)}"
    ]
    lines += [
        f"Scaling: {f.title[:1].lower()}{f.title[1:]}"
        for f in stored.findings
        if f.rule == levels.KNEE
    ]
    return lines


def executive_summary(stored: StoredRun) -> list[Block]:
    endpoints = stored.sequential
    requests = sum(e.requests for e in endpoints)
    ok = sum(e.ok for e in endpoints)
    rate = f" ({ok / requests:.1%})" if requests else ""
    return [
        Heading("Executive summary"),
        Paragraph(_status_sentence(stored)),
        Bullets(
            [
                f"Endpoints measured: {len(stored.measured)} of {len(endpoints)}",
                f"Requests: {requests}; as expected: {ok}{rate}; errors: {requests - ok}",
                f"Thresholds: {threshold_tally(stored.findings)}",
                f"Bottlenecks found by the rules: {len(of_kind(stored.findings, BOTTLENECK))}",
                *_load_lines(stored),
            ]
        ),
    ]
