"""The load levels: each level's figures, the scaling curve, and where the time goes
(in-process against HTTP, for ``--mode both``)."""

from __future__ import annotations

from typing import Any

from perftest.analysis import summaries
from perftest.analysis.efficiency import EFFICIENCY_BOUND, littles_law
from perftest.analysis.generator_use import GENERATOR_MIN_WALL_S
from perftest.analysis.metrics import (
    ERROR_RATE,
    GENERATOR_CORES,
    MAX,
    OK_THROUGHPUT,
    P50,
    P90,
    P95,
    P99,
    STDEV,
    THROUGHPUT,
)
from perftest.analysis.rules import scaling as scaling_rules
from perftest.store.read import LevelModel, StoredRun
from perftest.store.vocabulary import unjudged
from perftest.text import cores, error_groups, growth, level_label, ms, quantity

from ..blocks import Block, Bullets, Heading, Paragraph, Table
from .phrases import (
    NONE,
    answers_otherwise,
    endpoint_cells,
    endpoint_headers,
    errors,
    latencies,
    level_name,
)

IN_PROCESS = (
    "in-process (one Python process, shared GIL): server and load generator share one interpreter"
)


def _transport(level: Any) -> str:
    return "in-process (shared GIL)" if level.transport == "in-process" else level.transport


def _late(level: Any) -> str:
    if level.model != LevelModel.OPEN:
        return NONE
    return f"{level.late} / {level.dropped} (max {ms(level.max_lateness_ms)} late)"


def _in_flight(level: Any) -> str:
    """Little's law's requests in flight against the level's workers: ``9.8 of 10``."""
    law = None if unjudged(level) else littles_law(level)
    if law is None:
        return NONE
    return f"{law.busy:.1f} of {law.concurrency}"


def _generator(level: Any) -> str:
    """The generator's CPU over the level, summed over its processes when there were several
    (Locust's master and local workers)."""
    if level.wall_s < GENERATOR_MIN_WALL_S:
        return NONE
    processes = level.generator_processes
    return GENERATOR_CORES.text(level) + (f" ({processes} processes)" if processes > 1 else "")


def _cores(value: float | None) -> str:
    return NONE if value is None else cores(value)


#: Columns shown only when some level of the run read them: (header, the level's field,
#: what the figure is).
_READ_WHEN_KNOWN = (
    ("Server CPU", "server_cores", "the measured server's processes"),
    ("Database CPU", "database_cores", "a database server on this machine"),
)


def _known(stored: StoredRun) -> list[tuple[str, str, str]]:
    """The optional CPU columns some level of ``stored`` has a figure for."""
    return [
        column
        for column in _READ_WHEN_KNOWN
        if any(getattr(level, column[1]) is not None for level in stored.levels)
    ]


def _level_row(level: Any, known: list[tuple[str, str, str]]) -> list[object]:
    return [
        level_name(level),
        _transport(level),
        level.requests,
        level.ok,
        error_groups(level.errors) or NONE,
        OK_THROUGHPUT.text(level),
        THROUGHPUT.text(level),
        *latencies(level, P50, P90, P95, P99, MAX),
        f"{level.window_s:.2f} s",
        _late(level),
        _generator(level),
        _in_flight(level),
        *(_cores(getattr(level, name)) for _, name, _ in known),
    ]


def _counted(level: Any) -> str:
    """What the level sent beyond the counted requests, so totals can be checked server-side."""
    logins = quantity(level.login_requests, "login")
    failed = f" ({level.login_failures} failed)" if level.login_requests else ""
    kinds = [f"{level.rampup_requests} ramp-up requests", f"{logins}{failed}"]
    if level.capture_requests:
        kinds.append(
            f"{quantity(level.capture_requests, 'capture request')} (at each worker's set-up, "
            "to read its path values from another endpoint's answer)"
        )
    return (
        f"Counted {level.requests} requests in a {level.window_s:.2f} s window; not counted: "
        f"{', '.join(kinds[:-1])} and {kinds[-1]}; {level.sent_total} sent in all."
    )


def _level_endpoints(stored: StoredRun, level: Any) -> list[Block]:
    by_role = stored.by_role
    rows = [
        [
            *endpoint_cells(e, by_role),
            e.requests,
            e.ok,
            *latencies(e, P50, P95, P99),
            errors(e) or NONE,
        ]
        for e in stored.endpoints_of(level)
    ]
    headers = [*endpoint_headers(by_role), "Requests", "OK", "p50", "p95", "p99", "Errors"]
    table = (
        Table(headers, rows)
        if rows
        else Paragraph("No per-endpoint rows are stored for this level.")
    )
    return [
        Heading(f"{level_label(level)}: per endpoint", 3),
        Paragraph(_counted(level)),
        table,
        *answers_otherwise((e.label, e) for e in stored.endpoints_of(level)),
    ]


def _aborted(stored: StoredRun) -> list[Block]:
    """Which level an abort rule stopped, when and why, and the planned levels not run."""
    blocks: list[Block] = []
    for level in stored.levels:
        if not level.aborted:
            continue
        ran = {row.concurrency for row in stored.levels}
        skipped = [str(n) for n in stored.plan.load.concurrency if n not in ran]
        after = f"; levels {', '.join(skipped)} were not run" if skipped else ""
        blocks.append(
            Paragraph(
                f"{level_label(level)} was stopped early by an abort rule: {level.aborted}{after}."
            )
        )
    return blocks


def _database(stored: StoredRun) -> list[Block]:
    """Connections open to the run's database per level, beside the server's limit."""
    counted = [level for level in stored.levels if (level.database_connections or {}).get("peak")]
    if counted:
        rows = []
        for level in counted:
            use = level.database_connections
            limits = [use.get("server_limit"), use.get("database_limit")]
            known = [n for n in limits if n is not None]
            rows.append(
                [level_label(level), use["peak"], f"{use['mean']:.1f}", min(known, default=NONE)]
            )
        return [
            Paragraph(
                "Connections open to the run's database during each level "
                "(pg_stat_activity, polled; the limit is the lower of max_connections and the "
                "database's CONNECTION LIMIT):"
            ),
            Table(["Level", "DB connections (peak)", "Mean", "Limit"], rows),
        ]
    reasons = {
        use["unavailable"]
        for level in stored.levels
        if (use := level.database_connections or {}).get("unavailable")
    }
    return (
        [Paragraph(f"Database connections were not counted: {'; '.join(sorted(reasons))}.")]
        if reasons
        else []
    )


def concurrent(stored: StoredRun) -> list[Block]:
    heading = Heading("Concurrent request testing")
    if not stored.levels:
        planned = stored.plan.load.concurrency
        reason = (
            f"levels {', '.join(map(str, planned))} were planned but none was stored "
            f"(run {stored.status})"
            if planned
            else "the run measured each endpoint sequentially only (no --concurrency or --rate)"
        )
        return [heading, Paragraph(f"No load level was run: {reason}.")]
    headers = [
        "Level",
        "Transport",
        "Requests",
        "OK",
        "Errors (reasons)",
        "Throughput as expected",
        "Throughput (all answers)",
        *(metric.name for metric in (P50, P90, P95, P99, MAX)),
        "Window",
        "Late / dropped",
        "Generator CPU",
        "In flight (Little's law)",
    ]
    known = _known(stored)
    headers += [header for header, _, _ in known]
    rows = [_level_row(level, known) for level in stored.levels]
    blocks: list[Block] = [heading, Table(headers, rows)]
    if known:
        read = "; ".join(f"{header}: CPU time of {what}" for header, _, what in known)
        blocks.append(Paragraph(f"{read}, over the level's wall time (cores; — not read)."))
    blocks += _aborted(stored)
    blocks += _database(stored)
    if any(level.transport == "in-process" for level in stored.levels):
        blocks.append(
            Paragraph(
                f"Transport {IN_PROCESS}, so the throughput and generator CPU of in-process "
                "levels include the server's own work."
            )
        )
    blocks.append(
        Paragraph(
            "Throughput as expected is the answers with the expected status per second of the "
            "window (first counted send to last completion), the figure peak and knee "
            "are read from; throughput (all answers) counts every answer, failures included. "
            "Latency covers the answers as expected; generator CPU is the CPU time of every "
            "process that sent the load (the Locust engine's master and workers, summed) over "
            "the level's wall time. In flight is Little's law: throughput as expected × "
            "the mean latency of those answers, the requests open at once on average, against "
            "the level's workers; a closed level keeps about one per worker, so a figure well "
            "under its workers means they spent time outside requests (their own work, or "
            "answers not as expected)."
        )
    )
    blocks += _corrected(stored)
    for level in stored.levels:
        blocks += _level_endpoints(stored, level)
    return blocks


def _corrected(stored: StoredRun) -> list[Block]:
    """Raw beside coordinated-omission corrected latency, for closed levels that have both."""
    levels = [level for level in stored.levels if level.corrected.get("p99_ms") is not None]
    if not levels:
        return []
    names = ("p50", "p95", "p99", "max")
    rows = [
        [
            level_label(level),
            ms(level.corrected["expected_interval_ms"]),
            *(f"{ms(getattr(level, f'{n}_ms'))} / {ms(level.corrected[f'{n}_ms'])}" for n in names),
        ]
        for level in levels
    ]
    return [
        Heading("Closed levels corrected for coordinated omission", 3),
        Paragraph(
            "A closed-model worker waits for each answer before sending the next, so while the "
            "server stalls it sends nothing and the requests users would have sent meanwhile "
            "are never measured (coordinated omission). The corrected figures add them by "
            "HdrHistogram's reference rule, as wrk does: an answer longer than the expected "
            "interval (the level's p50) also counts the answers that would have waited behind "
            "it, its value less one interval, less two, ... while at least one interval."
        ),
        Table(["Level", "Expected interval", *(f"{n} raw / corrected" for n in names)], rows),
    ]


def _curve_row(step: summaries.Step) -> list[object]:
    return [
        step.level.concurrency,
        OK_THROUGHPUT.text(step.level),
        growth(step.throughput_growth),
        *latencies(step.level, P95),
        growth(step.p95_growth),
        ERROR_RATE.text(step.level),
    ]


def _stored_title(stored: StoredRun, rules: tuple[str, ...], otherwise: str) -> str:
    """The title of the first stored finding of ``rules``, or ``otherwise``."""
    return next((f.title for f in stored.findings if f.rule in rules), otherwise)


def scaling(stored: StoredRun) -> list[Block]:
    heading = Heading("Scaling curve and saturation")
    steps = summaries.curve(stored.levels)
    if len(steps) < 2:
        return [
            heading,
            Paragraph(
                "The scaling curve needs at least two closed-model levels with counted "
                f"requests; this run has {len(steps)}."
            ),
        ]
    headers = [
        "Concurrency",
        "Throughput as expected",
        "vs previous",
        "p95",
        "vs previous",
        "Error rate",
    ]
    verdict = _stored_title(
        stored, (scaling_rules.KNEE, scaling_rules.NO_KNEE), "No scaling verdict is stored"
    )
    onset = _stored_title(stored, (scaling_rules.ERROR_START,), "No closed level had errors")
    return [
        heading,
        Table(headers, [_curve_row(step) for step in steps]),
        Paragraph(
            "The knee is the first level whose scaling efficiency (the share of the workers "
            "added over the previous level that became throughput as expected) is below "
            f"{100 * EFFICIENCY_BOUND:.0f} %, or where errors first appear (no lower level had "
            "them)."
        ),
        Bullets([f"{verdict}.", f"{onset}."]),
    ]


def _overhead_row(pair: summaries.Overhead) -> list[object]:
    [inprocess] = latencies(pair.inprocess, P50)
    if not pair.comparable:
        http = "not measured" if pair.http is None else latencies(pair.http, P50)[0]
        return [pair.inprocess.label, inprocess, http, NONE, NONE]
    difference = ms(pair.difference_ms)
    return [
        pair.inprocess.label,
        inprocess,
        P50.text(pair.http),
        difference if pair.difference_ms < 0 else f"+{difference}",
        f"{pair.share:.1f} %",
    ]


def _faster_over_http(pair: summaries.Overhead) -> Paragraph:
    """A negative overhead is no saving: the two passes ran at different moments."""
    spread = max(STDEV.of(pair.inprocess), STDEV.of(pair.http))
    name, gap = pair.inprocess.label, ms(-pair.difference_ms)
    if -pair.difference_ms <= spread:
        return Paragraph(
            f"{name} answered {gap} faster over HTTP than in-process: less than the spread of "
            f"its samples (standard deviation up to {ms(spread)}), so the two are the same "
            "within measurement noise."
        )
    return Paragraph(
        f"{name} answered {gap} faster over HTTP than in-process, more than the spread of its "
        f"samples (standard deviation up to {ms(spread)}): the passes ran at different moments "
        "(caches, other load on the machine), so its overhead cannot be read from this run."
    )


def where_the_time_goes(stored: StoredRun) -> list[Block]:
    """In-process vs HTTP p50 per endpoint; absent unless the run compared the transports."""
    heading = Heading("Where the time goes")
    if not stored.sequential_http:
        if stored.row.mode != "both":
            return []
        return [
            heading,
            Paragraph("No endpoint was measured sequentially over HTTP, so nothing compares."),
        ]
    pairs = summaries.transport_overhead(stored)
    headers = [
        "Endpoint",
        "p50 in-process (view + ORM)",
        "p50 over HTTP",
        "Difference (server + network)",
        "Share of HTTP p50",
    ]
    blocks: list[Block] = [
        heading,
        Paragraph(
            "Each endpoint measured sequentially in-process (the view and the ORM, no server) "
            "and over HTTP (the same work plus the server stack and the network)."
        ),
        Table(headers, [_overhead_row(pair) for pair in pairs]),
    ]
    compared = [pair for pair in pairs if pair.comparable]
    slower = [pair for pair in compared if pair.difference_ms > 0]
    if slower:  # a negative difference adds nothing: those pairs are explained below
        widest = max(slower, key=lambda pair: pair.share)
        blocks.append(
            Paragraph(
                f"The largest share is {widest.inprocess.name}: the server and network add "
                f"{ms(widest.difference_ms)} to its p50, {widest.share:.1f} % of its HTTP p50."
            )
        )
    blocks += [_faster_over_http(pair) for pair in compared if pair.difference_ms < 0]
    return blocks
