"""The report's title and executive summary: the verdict first, what ran, how it ended, the
headline figures."""

from __future__ import annotations

import dataclasses

from perftest.analysis import summaries, verdict
from perftest.analysis.metrics import OK_THROUGHPUT, THROUGHPUT
from perftest.analysis.rules import scaling
from perftest.analysis.rules.base import BOTTLENECK
from perftest.store.read import Status, StoredRun
from perftest.text import level_label, quantity, span

from ..blocks import Block, Bullets, Heading, Inline, Paragraph, Strong
from .phrases import of_kind, threshold_tally

#: The reasons a verdict line quotes before "and N more"; every reason has its own line in the
#: console's output, the JSON's ``verdict`` and the sections (thresholds, findings) below.
QUOTED_REASONS = 3


def verdict_reasons(judged: verdict.Verdict, quoted: int = QUOTED_REASONS) -> str:
    """What follows the verdict's word: ``— 13 reasons: FAIL: …; FAIL: …; FAIL: …; and 10
    more``, the count being that of the reason lines (``— 0 reasons`` when there is none)."""
    count = quantity(len(judged.reasons), "reason")
    if not judged.reasons:
        return f"— {count}"
    more = len(judged.reasons) - quoted
    shown = "; ".join(judged.reasons[:quoted]) + (f"; and {more} more" if more > 0 else "")
    return f"— {count}: {shown}"


def verdict_line(judged: verdict.Verdict, quoted: int = QUOTED_REASONS) -> Inline:
    """The verdict as every surface shows it first: the word stressed, then its reasons."""
    return [Strong(judged.word), f" {verdict_reasons(judged, quoted)}"]


def title(stored: StoredRun) -> list[Block]:
    """The title, the verdict right under it, then the run's status, target and times."""
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
        Paragraph(verdict_line(verdict.of(stored))),
        Paragraph(
            ["Status: ", Strong(run.status), f". Target: {run.target} ({run.mode}). {timing}"]
        ),
    ]


def _status_sentence(stored: StoredRun) -> str:
    """What the run's status means for the figures below it (the sequential pass's count:
    every phase is counted in the bullets)."""
    sequential = summaries.phases(stored)[0]
    done, planned = sequential.requests, sequential.planned
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
        return (
            "The run is still marked running: the figures below are those it has stored so far "
            "(a soak stores them at each checkpoint, any other run when it ends), and a run "
            "whose process died stays so until the next run on its database marks it abandoned."
        )
    if stored.status == Status.ABANDONED:
        return _abandoned_sentence(stored, done, planned)
    return f"The run completed: {done} of {planned} planned requests were made."


def _abandoned_sentence(stored: StoredRun, done: int, planned: int) -> str:
    """An abandoned run (its process died) keeps what was stored before: a soak, its last
    checkpoint; any other run, what was saved before its results were."""
    reason = stored.row.failure.removeprefix("abandoned: ") or "no reason stored"
    soak = next((level.soak for level in stored.levels if level.soak), None)
    if soak is None:
        return (
            f"The run ended without finishing and was abandoned ({reason}): the figures are "
            f"what was stored before that, {done} of {planned} planned sequential requests."
        )
    planned_s = soak["warmup_s"] + soak["steady_s"]
    return (
        f"The run ended without finishing and was abandoned ({reason}): the figures are those "
        f"its last checkpoint stored ({quantity(soak['checkpoints'], 'checkpoint')}, one every "
        f"{span(soak['checkpoint_s'])}), covering {span(soak['covered_s'])} of the soak's "
        f"planned {span(planned_s)} ({span(soak['warmup_s'])} of warm-up, then "
        f"{span(soak['steady_s'])} steady)."
    )


def _load_lines(stored: StoredRun) -> list[str]:
    """The load levels' headline: peak throughput, and the knee when the rules found one."""
    top = summaries.peak(stored.levels)
    if top is None:
        counted = any(level.requests for level in stored.levels)
        none = "none had an answer as expected" if counted else "none counted a request"
        return [f"Load levels: {len(stored.levels)}, {none}"] if stored.levels else []
    lines = [
        f"Load levels: {len(stored.levels)}; peak throughput as expected "
        f"{OK_THROUGHPUT.text(top)} at {level_label(top)}"
        + (f" ({THROUGHPUT.text(top)} counting every answer)" if top.errors_total else "")
    ]
    lines += [
        f"Scaling: {f.title[:1].lower()}{f.title[1:]}"
        for f in stored.findings
        if f.rule == scaling.KNEE
    ]
    return lines


def _requests(phase: summaries.Phase) -> str:
    """``sequential: 140 of 140 planned; as expected: 138 (98.6%); errors: 2``."""
    planned = f" of {phase.planned} planned" if phase.planned is not None else ""
    rate = f" ({phase.ok / phase.requests:.1%})" if phase.requests else ""
    return (
        f"{phase.label}: {phase.requests}{planned}; as expected: {phase.ok}{rate}; "
        f"errors: {phase.requests - phase.ok}"
    )


def _request_lines(stored: StoredRun) -> list[str]:
    """One line for a run of one phase; else the total, then each phase labelled; then every
    request sent to the target."""
    phases = summaries.phases(stored)
    if len(phases) == 1:
        counted = [_requests(dataclasses.replace(phases[0], label="Requests", planned=None))]
    else:
        total = summaries.Phase(
            "Requests in all phases",
            sum(p.requests for p in phases),
            sum(p.ok for p in phases),
            None,
        )
        counted = [_requests(total), *(f"Requests, {_requests(phase)}" for phase in phases)]
    lines = [*counted, sent_line(summaries.sent(stored))]
    over_http = summaries.sent_over_http(stored)
    if stored.row.mode == "both" and over_http is not None:
        lines.append(
            f"Sent over HTTP, which the server's access log counts: {over_http.total} (the "
            "in-process requests never reach it)"
        )
    return lines


def sent_line(sent: summaries.Sent) -> str:
    """``Sent to the target in all: 125 (119 counted, 4 logins, 2 capture requests …)``: what
    the server's access log counts, with what each kind of request not counted was for."""
    kinds = [
        (sent.logins, quantity(sent.logins, "login"), ""),
        (sent.warmup, quantity(sent.warmup, "warm-up request"), ""),
        (sent.rampup, quantity(sent.rampup, "ramp-up request"), ""),
        (
            sent.captures,
            quantity(sent.captures, "capture request"),
            " (each load worker's, or with Locust each identity's, one request at set-up to "
            "each endpoint a path value is captured from)",
        ),
        (
            sent.diagnostic,
            quantity(sent.diagnostic, "diagnostic request"),
            " (--profile, --explain)",
        ),
    ]
    extra = [f"{text}{why}" for n, text, why in kinds if n]
    parts = [f"{sent.counted} counted"] + (["not counted: " + ", ".join(extra)] if extra else [])
    return f"Sent to the target in all: {sent.total} ({'; '.join(parts)})"


def executive_summary(stored: StoredRun) -> list[Block]:
    """How the run went and its headline figures (the capacity is on the first screen above,
    ``answer``)."""
    endpoints = stored.sequential
    return [
        Heading("Executive summary"),
        Paragraph(_status_sentence(stored)),
        Bullets(
            [
                f"Endpoints measured: {len(stored.measured)} of {len(endpoints)}",
                *_request_lines(stored),
                f"Thresholds: {threshold_tally(stored.findings)}",
                f"Bottlenecks found by the rules: {len(of_kind(stored.findings, BOTTLENECK))}",
                *_load_lines(stored),
            ]
        ),
    ]
