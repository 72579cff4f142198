"""What the admin's run page shows around the run's own fields, read from a ``StoredRun``.

The page is for a person deciding what to look at: while the run is running, its progress
from what it has stored so far (``live``, refreshed in place); the run's verdict and the first
screen (``first_screen``: the answers in a few lines, linked to their evidence), then the
report's executive summary, then each kind of row as a table (figures formatted as the
reports format them), findings coloured by severity with their evidence, the thresholds with
a failed one in red, the capacity search's steps when the run searched, each endpoint's
history across the earlier runs of its target and plan (``endpoint_history``), the HTML
report's charts (the server's account of each level among them), the resource samples folded away,
and last, folded, how the run was made: the stored plan and environment (redacted when
stored). Nothing here re-runs the analysis: it shows the stored verdicts (a run stored before
verdicts were gets the one its stored findings add up to).
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from perftest.analysis import rebaseline, verdict
from perftest.analysis.capacity import search as capacity_search
from perftest.analysis.metrics import MAX, OK_THROUGHPUT, P50, P95, P99
from perftest.analysis.rules.base import BASELINE, BOTTLENECK, CONFIGURATION, THRESHOLD
from perftest.analysis.rules.baseline import REGRESSION
from perftest.analysis.thresholds import NOT_MEASURED
from perftest.reports import anchors, html
from perftest.reports.formats import FORMATS
from perftest.reports.sections import capacity, summary
from perftest.reports.sections import findings as finding_sections
from perftest.reports.sections.phrases import NONE, kind_word
from perftest.reports.web_words import without_flags
from perftest.store.read import Status, StoredRun
from perftest.store.vocabulary import unjudged
from perftest.text import MB, error_groups, level_label, mb, percent

from . import badges, drawing, endpoint_history, first_screen, live, stored_data
from .tables import Row, Table

#: The phases of the sequential rows, as the page names them.
PHASES = {"sequential": "sequential", "sequential-http": "sequential over HTTP"}


def _endpoint_row(endpoint: Any) -> Row:
    why = unjudged(endpoint)
    figures = (NONE,) * 4 if why else tuple(m.text(endpoint) for m in (P50, P95, P99, MAX))
    return Row(
        (
            PHASES.get(endpoint.phase, endpoint.phase),
            endpoint.label,
            f"{endpoint.method} {endpoint.path}",
            endpoint.requests,
            endpoint.ok,
            error_groups(endpoint.errors) or NONE,
            *figures,
            f"{endpoint.queries_mean:.1f}" if endpoint.sql_captured and not why else NONE,
            why or "yes",
        ),
        css="perftest-failed" if endpoint.requests != endpoint.ok else "",
    )


def endpoints(stored: StoredRun) -> Table:
    return Table(
        "Endpoint results",
        (
            "Phase",
            "Endpoint",
            "Request",
            "Requests",
            "As expected",
            "Errors",
            "p50",
            "p95",
            "p99",
            "max",
            "Queries/request",
            "Latency verdict",
        ),
        tuple(_endpoint_row(e) for e in (*stored.sequential, *stored.sequential_http)),
        empty="No endpoint was stored for this run.",
        right=frozenset({3, 4, 6, 7, 8, 9, 10}),
    )


def _level_row(level: Any) -> Row:
    judged = not unjudged(level)
    return Row(
        (
            level_label(level),
            level.transport,
            level.requests,
            level.ok,
            OK_THROUGHPUT.text(level),
            *(metric.text(level) if judged else NONE for metric in (P50, P95, P99)),
            error_groups(level.errors) or NONE,
            level.aborted or NONE,
        ),
        css="perftest-failed" if level.aborted or level.requests != level.ok else "",
    )


def levels(stored: StoredRun) -> Table:
    return Table(
        "Load levels",
        (
            "Level",
            "Transport",
            "Requests",
            "As expected",
            "Throughput as expected",
            "p50",
            "p95",
            "p99",
            "Errors",
            "Aborted",
        ),
        tuple(_level_row(level) for level in stored.levels),
        empty="No load level: the run measured the sequential pass only.",
        right=frozenset({2, 3, 4, 5, 6, 7}),
    )


def capacity_steps(stored: StoredRun) -> tuple[Table, ...]:
    """``--capacity``'s steps as the report's table, a failed step in red; none without a
    search (its answer opens the executive summary above)."""
    if capacity_search(stored) is None:
        return ()
    return (
        Table(
            "Capacity search",
            capacity.STEP_HEADERS,
            tuple(
                Row(tuple(cells), css="" if passed else "perftest-failed")
                for cells, passed in capacity.step_rows(stored)
            ),
            empty="No step of the search was stored.",
            right=capacity.STEP_RIGHT,
        ),
    )


def severity(finding: Any) -> str:
    """The colour class of a finding: a configuration problem or a regression is bad news, a
    bottleneck a warning, an improvement good, a key finding information."""
    if finding.kind == CONFIGURATION or (finding.kind == BASELINE and finding.rule == REGRESSION):
        return "bad"
    if finding.kind == BOTTLENECK:
        return "warn"
    return "good" if finding.kind == BASELINE else "info"


def _anchor(stored: StoredRun, finding: Any) -> str:
    """A bottleneck's row carries the id of its heading in the report (the first screen links
    to it); other findings share their report section's, so their rows have none."""
    return anchors.of_finding(stored, finding) if finding.kind == BOTTLENECK else ""


def findings(stored: StoredRun) -> Table:
    found = [f for f in stored.findings if f.kind != THRESHOLD]
    return Table(
        "Findings",
        ("Kind", "Subject", "Finding", "Recommendation"),
        tuple(
            Row(
                (
                    kind_word(finding.kind) if finding.kind != BASELINE else finding.rule,
                    finding.subject or NONE,
                    without_flags(finding.title),
                    without_flags(finding.recommendation) or NONE,
                ),
                css=f"perftest-severity-{severity(finding)}",
                detail=finding.evidence,
                anchor=_anchor(stored, finding),
            )
            for finding in found
        ),
        empty="The rules found nothing to report.",
    )


def _threshold_css(check: Any) -> str:
    if check.passed is False or check.actual == NOT_MEASURED:
        return "perftest-failed"
    return "perftest-passed" if check.passed else ""


def thresholds(stored: StoredRun) -> Table:
    checks = [f for f in stored.findings if f.kind == THRESHOLD]
    return Table(
        "Thresholds",
        ("Subject", "Check", "Limit", "Actual", "Verdict"),
        tuple(
            Row(
                (
                    check.subject or NONE,
                    check.title,
                    check.target or NONE,
                    check.actual or NONE,
                    finding_sections.verdict(check),
                ),
                css=_threshold_css(check),
                detail=check.evidence,
            )
            for check in checks
        ),
        empty="No threshold was checked.",
    )


def samples(stored: StoredRun) -> Table:
    cores = max(stored.row.resource_cpu_count, 1)
    return Table(
        f"Resource samples ({len(stored.samples)})",
        ("Seconds in", "RSS", "CPU (% of all cores)", "Threads", "Open files"),
        tuple(
            Row(
                (
                    f"{sample.offset_s:.1f}",
                    mb(sample.rss_bytes / MB),
                    percent(sample.cpu_percent / cores),
                    sample.threads,
                    sample.open_files,
                )
            )
            for sample in stored.samples
        ),
        empty=stored.row.resource_unavailable or "No resource sample was stored.",
        collapsed=True,
        right=frozenset({0, 1, 2, 3, 4}),
    )


def _previous(stored: StoredRun) -> dict[str, str]:
    """The link to compare with the latest earlier run of the same target and plan, or why
    there is none."""
    try:
        row = rebaseline.latest_before(stored)
    except rebaseline.NotComparable as none:
        return {"url": "", "reason": str(none)}
    return {
        "url": reverse("admin:perftest_run_compare", args=[stored.pk, row.pk]),
        "reason": "",
        "baseline": str(row.pk),
    }


def _verdict(stored: StoredRun) -> dict[str, Any]:
    """The verdict line on top of the page and every reason (folded under it when the line
    quotes only the first ones); a run still running has none yet."""
    if stored.status == Status.RUNNING:
        line = format_html(
            "{} no verdict yet: the run has not ended", badges.badge(Status.RUNNING, "info")
        )
        return {"line": line, "reasons": ()}
    judged = verdict.stored_with(stored.row) or verdict.of(stored)
    folded = judged.reasons if len(judged.reasons) > summary.QUOTED_REASONS else ()
    return {"line": badges.verdict(judged), "reasons": folded}


def context(stored: StoredRun) -> dict[str, Any]:
    """The run page's template context for ``stored``: the verdict and the first screen on
    top, the results below the label and comment, how the run was made folded last."""
    found = findings(stored)
    report_url = reverse("admin:perftest_run_report", args=[stored.pk, "html"])
    here = [row.anchor for row in found.rows if row.anchor]
    return {
        "perftest_live": live.of(stored) if stored.status == Status.RUNNING else None,
        "perftest_verdict": _verdict(stored),
        "perftest_first_screen": first_screen.first_screen(stored, here, report_url),
        "perftest_summary": SafeString(html.section_html(summary.executive_summary(stored))),
        "perftest_tables": (
            endpoints(stored),
            levels(stored),
            *capacity_steps(stored),
            found,
        ),
        "perftest_thresholds": thresholds(stored),
        "perftest_samples": samples(stored),
        "perftest_charts": drawing.drawn(stored),
        "perftest_plan": stored_data.as_html(stored.row.config),
        "perftest_environment": stored_data.as_html(stored.row.environment),
        "perftest_reports": [
            {
                "name": name,
                "file": FORMATS[name].file_name(stored),
                "url": reverse("admin:perftest_run_report", args=[stored.pk, name]),
            }
            for name in ("html", "md", "json", "junit")
        ],
        "perftest_previous": _previous(stored),
        "perftest_history": endpoint_history.of(stored, endpoint_history.PAGE_RUNS),
    }
