"""The Markdown report: a pure function of the stored run.

Every figure is read from stored rows and every sentence from stored findings or from a rule
over stored figures, so ``perftest_report <id>`` reproduces the report written at the end of
the run byte for byte. Sections without data say why instead of showing empty tables.
"""

from __future__ import annotations

import pathlib
import re
from collections.abc import Sequence

from perftest import models, sqlnorm
from perftest.analysis import concurrency, thresholds
from perftest.analysis.findings import CHECKS
from perftest.analysis.resources import ResourceSummary, per_process, summarize
from perftest.formatting import (
    cell,
    errors,
    latencies,
    login_endpoint,
    markdown_table,
    mb,
    measured,
    number,
    percent,
    quantity,
    status_counts,
    threshold_tally,
    unmeasured,
)

from . import markdown_load

Endpoints = Sequence[models.EndpointResult]
Findings = Sequence[models.Finding]
Levels = Sequence[models.LoadLevel]

_VERDICTS = {True: "PASS", False: "FAIL", None: "NOT EVALUATED"}


_cell = cell
_table = markdown_table


def _fence(text: str, language: str = "") -> str:
    """A code block longer than any backtick run in ``text``, so stored text cannot escape it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{language}\n{text}\n{ticks}"


def _status_sentence(run: models.Run, endpoints: Endpoints) -> str:
    """What the run's status means for the figures below it."""
    done = sum(e.requests for e in endpoints)
    planned = sum(e.planned for e in endpoints)
    if run.status == models.Run.Status.INTERRUPTED:
        return (
            f"The run was interrupted: the figures cover the {done} of {planned} planned "
            "requests made before it stopped."
        )
    if run.status == models.Run.Status.FAILED:
        return (
            f"The run failed: {run.failure or 'no reason stored'}. The figures cover the "
            f"{done} of {planned} planned requests made before that."
        )
    if run.status == models.Run.Status.RUNNING:
        return "The run is still marked running: it stopped before its results were saved."
    return f"The run completed: {done} of {planned} planned requests were made."


def _title(run: models.Run) -> str:
    heading = f"# Performance report: run #{run.pk}" + (f", {run.label}" if run.label else "")
    started = run.started_at.isoformat(timespec="seconds")
    if run.finished_at is None:
        timing = f"Started {started}; no finish time stored."
    else:
        seconds = (run.finished_at - run.started_at).total_seconds()
        timing = (
            f"Started {started}, finished {run.finished_at.isoformat(timespec='seconds')} "
            f"({seconds:.1f} s)."
        )
    return f"{heading}\n\nStatus: **{run.status}**. Target: {run.target} ({run.mode}). {timing}"


def _executive_summary(
    run: models.Run, endpoints: Endpoints, findings: Findings, levels: Levels
) -> str:
    requests = sum(e.requests for e in endpoints)
    ok = sum(e.ok for e in endpoints)
    rate = f" ({ok / requests:.1%})" if requests else ""
    bottlenecks = sum(f.kind == models.Finding.Kind.BOTTLENECK for f in findings)
    return "\n".join(
        [
            "## Executive summary",
            "",
            _status_sentence(run, endpoints),
            "",
            f"- Endpoints measured: {len(measured(endpoints))} of {len(endpoints)}",
            f"- Requests: {requests}; as expected: {ok}{rate}; errors: {requests - ok}",
            f"- Thresholds: {threshold_tally(findings)}",
            f"- Bottlenecks found by the rules: {bottlenecks}",
            *markdown_load.summary_lines(levels),
        ]
    )


def _response_times(endpoints: Endpoints) -> str:
    if not endpoints:
        return "## Response times\n\nNo endpoint is stored for this run."
    headers = ["Endpoint", "Method & path", "Requests", "OK", "p50", "p95", "p99", "max", "mean"]
    rows = [
        [
            e.name,
            f"{e.method} {e.path}",
            e.requests,
            e.ok,
            *latencies(e, "p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms"),
            status_counts(e.status_counts) or "—",
            errors(e) or "—",
        ]
        for e in endpoints
    ]
    table = _table([*headers, "Status codes", "Errors/reason"], rows)
    return f"## Response times\n\n{table}\n\n{_distribution(endpoints)}"


def _distribution(endpoints: Endpoints) -> str:
    """The rest of each endpoint's figures: spread and the percentiles between."""
    fields = ("min_ms", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms", "stdev_ms")
    rows = [[e.name, *latencies(e, *fields)] for e in endpoints if not unmeasured(e)]
    if not rows:
        return "No latency distribution: no endpoint was measured."
    headers = ["Endpoint", "min", "p50", "p90", "p95", "p99", "max", "mean", "stdev"]
    return (
        "Latency distribution (percentiles from an HDR histogram with 3 significant digits; "
        "min, max, mean and stdev exact):\n\n" + _table(headers, rows)
    )


def _database_gap(run: models.Run, endpoints: Endpoints) -> str:
    """Why there are no query figures at all."""
    if not measured(endpoints):
        return "No endpoint was measured, so no SQL was captured."
    if run.mode == "http":
        return "SQL is not captured in HTTP mode: the server runs in another process."
    return "No measured request ran with SQL capture, so there are no query figures."


def _database_row(e: models.EndpointResult) -> list[object]:
    if unmeasured(e):
        return [e.name, "not measured", "—", "—", "—"]
    if not e.sql_captured:
        return [e.name, "not captured", "—", "—", f"{e.mean_bytes:.0f}"]
    return [
        e.name,
        f"{e.queries_mean:.1f}",
        e.queries_max,
        f"{e.sql_share:.1%}",
        f"{e.mean_bytes:.0f}",
    ]


def _database(run: models.Run, endpoints: Endpoints) -> str:
    if not any(e.sql_captured for e in endpoints):
        return f"## Database\n\n{_database_gap(run, endpoints)}"
    headers = [
        "Endpoint",
        "Queries/request (mean)",
        "Queries/request (max)",
        "SQL time share",
        "Mean response bytes",
    ]
    return f"## Database\n\n{_table(headers, [_database_row(e) for e in endpoints])}"


def _n_plus_one(endpoints: Endpoints) -> str:
    if not any(e.sql_captured for e in endpoints):
        return "## N+1 suspects\n\nSQL was not captured (see Database), so none could be found."
    parts = ["## N+1 suspects"]
    for e in endpoints:
        for group in e.duplicate_queries:
            parts.append(
                f"**{e.name}** ({e.method} {e.path}): up to {group['max_per_request']} times in "
                f"one request; repeated in {group['requests']} of {e.requests} requests.\n\n"
                + _fence(group["sql"], "sql")
            )
    if len(parts) == 1:
        parts.append(
            f"No statement ran {sqlnorm.DUPLICATE_THRESHOLD} or more times within one request."
        )
    return "\n\n".join(parts)


def _resource_table(run: models.Run, summary: ResourceSummary, gap: str) -> str:
    rows = [
        ["Samples", f"{summary.samples} over {summary.duration_s:.1f} s"],
        [
            "RSS min / mean / max",
            f"{mb(summary.rss_min_mb)} / {mb(summary.rss_mean_mb)} / {mb(summary.rss_max_mb)}",
        ],
    ]
    if not gap:
        rows += [
            ["RSS growth (last − first)", f"{summary.rss_growth_mb:+.1f} MB"],
            ["RSS trend (least squares)", f"{summary.rss_slope_mb_per_min:+.2f} MB/min"],
            [
                f"CPU mean / max (% of {quantity(run.resource_cpu_count, 'core')})",
                f"{percent(summary.cpu_mean_pct)} / {percent(summary.cpu_max_pct)}",
            ],
        ]
    rows += [
        ["Threads (max)", summary.threads_max],
        ["Open files (max)", summary.open_files_max],
    ]
    return _table(["Metric", "Value"], rows)


def _resources(run: models.Run, summary: ResourceSummary | None, levels: Levels) -> str:
    note = markdown_load.resources_note(run, levels)
    if summary is None:
        reason = run.resource_unavailable or "no samples were recorded"
        return f"## Resource usage\n\nNo resource figures: {reason}." + (f" {note}" if note else "")
    gap = thresholds.resource_gap(run, summary)
    parts = [
        "## Resource usage",
        f"Measured: {run.resource_description or 'the measured process'}, sampled every "
        f"{number(run.resource_interval_s)} s.",
        _resource_table(run, summary, gap),
    ]
    processes = per_process(run.resource_samples.all(), run.resource_cpu_count)
    if processes:
        parts.append(
            "Per process (the figures above are their sums):\n\n"
            + _table(
                ["Process", "Samples", "RSS max", "CPU mean (% of all cores)"],
                [
                    [
                        f"{p.name} (pid {p.pid})",
                        p.samples,
                        mb(p.rss_max_mb),
                        percent(p.cpu_mean_pct),
                    ]
                    for p in processes
                ],
            )
        )
    if gap:
        parts.append(f"Growth, trend and CPU are not evaluated: {gap}.")
    elif run.resource_unavailable:
        parts.append(f"Sampling stopped early: {run.resource_unavailable}.")
    if note:
        parts.append(note)
    return "\n\n".join(parts)


def _of_kind(findings: Findings, kind: str) -> list[models.Finding]:
    return [f for f in findings if f.kind == kind]


def _bottlenecks(findings: Findings, levels: Levels) -> str:
    found = _of_kind(findings, models.Finding.Kind.BOTTLENECK)
    if not found:
        checked = [*CHECKS.values(), *(concurrency.CHECKS.values() if levels else ())]
        return f"## Bottlenecks\n\nNone found by the rules: checked {', '.join(checked)}."
    parts = ["## Bottlenecks"]
    for index, f in enumerate(found, 1):
        parts.append(f"### {index}. {f.title}\n\n{_fence(f.evidence, 'text')}")
    return "\n\n".join(parts)


def _recommendations(findings: Findings) -> str:
    """Each distinct recommendation once, naming every subject it applies to."""
    subjects: dict[str, list[str]] = {}
    for f in findings:
        if f.recommendation:
            names = subjects.setdefault(f.recommendation, [])
            if f.subject not in names:
                names.append(f.subject)
    if not subjects:
        return "## Recommendations\n\nNone: no bottleneck rule fired."
    lines = [f"- **{', '.join(names)}**: {text}" for text, names in subjects.items()]
    return "## Recommendations\n\n" + "\n".join(lines)


def _key_findings(findings: Findings) -> str:
    found = _of_kind(findings, models.Finding.Kind.KEY)
    if not found:
        return "## Key findings\n\nNo key findings are stored for this run."
    lines = [f"- {f.title}" + (f" ({f.evidence})" if f.evidence else "") for f in found]
    return "## Key findings\n\n" + "\n".join(lines)


def _thresholds(findings: Findings) -> str:
    checks = _of_kind(findings, models.Finding.Kind.THRESHOLD)
    if not checks:
        return "## Thresholds\n\nNo threshold checks are stored for this run."
    rows = [
        [
            f.title,
            f.target,
            f.actual if f.passed is not None else f"{f.actual}: {f.evidence}",
            _VERDICTS[f.passed],
        ]
        for f in checks
    ]
    return "## Thresholds\n\n" + _table(["Check", "Target", "Actual", "Result"], rows)


def _iterations_line(run: models.Run) -> str:
    warmup = (
        f"after {quantity(run.warmup, 'warm-up request')}, not counted"
        if run.warmup
        else "no warm-up"
    )
    return f"Iterations per endpoint: {run.iterations}, {warmup}."


def _login_line(run: models.Run) -> str:
    where = login_endpoint(run)
    if not run.logins:
        return f"Login: {where}; no login was attempted."
    identities = quantity(len({a["identity"] for a in run.logins}), "identity", "identities")
    succeeded = sum(bool(attempt["ok"]) for attempt in run.logins)
    return (
        f"Login: {identities} through {where}; {succeeded} of {len(run.logins)} attempts succeeded."
    )


#: Environment facts the methodology names, with how each reads in the sentence.
_ENVIRONMENT = (
    ("python", "Python {}"),
    ("django", "Django {}"),
    ("database_vendor", "database {}"),
    ("database_version", "version {}"),
    ("cpu_count", "{} CPUs"),
    ("host", "host {}"),
)


def _environment_line(environment: dict) -> str:
    """The stored environment facts; a fact the snapshot lacks is left out, not guessed."""
    parts = [text.format(environment[key]) for key, text in _ENVIRONMENT if key in environment]
    return "Environment: " + (", ".join(parts) if parts else "not recorded") + "."


def _mode_note(mode: str) -> str:
    if mode == "in-process":
        return (
            "In-process mode: requests go through Django's handler in the measuring process, so "
            "latency excludes the network and the resource figures include the client."
        )
    if mode == "http":
        return "HTTP mode: latency includes the network round trip to the target."
    if mode == "both":
        return (
            "Both modes: each endpoint is measured sequentially in-process (view and ORM) and "
            "again over HTTP (see Where the time goes); response times, database figures and "
            "endpoint thresholds are the in-process ones."
        )
    return f"Mode {mode!r}."


def _methodology(run: models.Run, levels: Levels) -> str:
    limit = thresholds.limits(run)
    sampling = (
        f"Resource sampling: {run.resource_description}, every {number(run.resource_interval_s)} s."
        if run.resource_description
        else f"Resource sampling: {run.resource_unavailable or 'not recorded'}."
    )
    lines = [
        f"Mode: {run.mode}; target: {run.target}.",
        _iterations_line(run),
        _login_line(run),
        _environment_line(run.environment),
        sampling,
        f"Thresholds: p95 < {number(limit['RESPONSE_TIME_P95_MS'])} ms per endpoint, RSS "
        f"growth < {number(limit['MEMORY_GROWTH_MB'])} MB, CPU average < "
        f"{number(limit['CPU_PERCENT_AVG'])}% of all cores.",
        _mode_note(run.mode),
        *markdown_load.methodology_lines(run, levels),
    ]
    return "## Methodology\n\n" + "\n".join(f"- {line}" for line in lines)


def _notes(run: models.Run) -> str:
    if not run.notes:
        return ""
    return "## Notes\n\n" + "\n".join(f"- {note}" for note in run.notes)


def render(run: models.Run) -> str:
    """The whole report for a stored run; the same stored run always gives the same text."""
    every_endpoint = list(run.endpoints.all())
    endpoints = [e for e in every_endpoint if e.phase == "sequential"]
    levels = list(run.levels.all())
    findings = list(run.findings.all())
    summary = summarize(run.resource_samples.all(), run.resource_cpu_count)
    sections = [
        _title(run),
        _executive_summary(run, endpoints, findings, levels),
        _response_times(endpoints),
        _database(run, endpoints),
        _n_plus_one(endpoints),
        markdown_load.concurrent_section(run, levels),
        markdown_load.scaling_section(levels),
        markdown_load.time_section(run, every_endpoint),
        _resources(run, summary, levels),
        _bottlenecks(findings, levels),
        _recommendations(findings),
        _key_findings(findings),
        _thresholds(findings),
        _methodology(run, levels),
        _notes(run),
    ]
    return "\n\n".join(section for section in sections if section) + "\n"


def write(run: models.Run, output_dir: str) -> pathlib.Path:
    """Write ``run-<id>.md`` into ``output_dir`` (created if missing); OSError propagates."""
    folder = pathlib.Path(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"run-{run.pk}.md"
    path.write_text(render(run), encoding="utf-8")
    return path
