"""The Markdown report's load sections: levels, scaling curve, in-process vs HTTP, parameters.

Like ``markdown``, a pure function of stored rows: every figure is read from ``LoadLevel`` and
``EndpointResult`` rows or the run's configuration snapshot, and every sentence is chosen by
a rule over those figures. ``markdown.render`` places these sections.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from perftest import models
from perftest.analysis import concurrency, scaling, thresholds
from perftest.formatting import (
    cores,
    error_groups,
    errors,
    growth,
    latencies,
    level_label,
    markdown_table,
    ms,
    number,
    quantity,
)

Levels = Sequence[models.LoadLevel]

IN_PROCESS = (
    "in-process (one Python process, shared GIL): server and load generator share one interpreter"
)


def load_config(run: models.Run) -> dict[str, Any]:
    """The load knobs of the run's plan snapshot, by one name each.

    The runner stores the plan as ``{"load": {...}, "http": {...}}``; flat keys (``"rate"``,
    ``"duration"``, ``"base_url"``...) are read too, so either shape of snapshot reports.
    """
    config = run.config or {}
    load = config.get("load") if isinstance(config.get("load"), dict) else {}
    http = config.get("http") if isinstance(config.get("http"), dict) else {}
    flat_login = config.get("login") if isinstance(config.get("login"), str) else None

    def pick(source: dict, key: str, flat: str) -> Any:
        value = source.get(key)
        return config.get(flat) if value is None else value

    return {
        "concurrency": list(pick(load, "concurrency", "concurrency") or []),
        "rate": pick(load, "rate", "rate"),
        "duration": pick(load, "duration_s", "duration"),
        "requests": pick(load, "requests", "requests"),
        "ramp_up": pick(load, "ramp_up_s", "ramp_up"),
        "mix": pick(load, "mix", "mix"),
        "identities": pick(load, "identities", "identities"),
        "login": load.get("login_mode") or flat_login,
        "base_url": pick(http, "base_url", "base_url"),
        "server_pid": pick(http, "server_pid", "server_pid"),
    }


def _transport(level: models.LoadLevel) -> str:
    return "in-process (shared GIL)" if level.transport == "in-process" else level.transport


def _late(level: models.LoadLevel) -> str:
    if level.model != models.LoadLevel.Model.OPEN:
        return "—"
    return f"{level.late} / {level.dropped} (max {ms(level.max_lateness_ms)} late)"


def _level_row(level: models.LoadLevel) -> list[object]:
    figures = ("p50_ms", "p90_ms", "p95_ms", "p99_ms", "max_ms")
    return [
        level_label(level) + (" (interrupted)" if level.interrupted else ""),
        _transport(level),
        level.requests,
        level.ok,
        error_groups(level.errors) or "—",
        f"{level.throughput:.1f} req/s",
        *(ms(getattr(level, name)) if level.requests else "—" for name in figures),
        f"{level.window_s:.2f} s",
        _late(level),
        cores(level.generator_cores),
    ]


def _counted(level: models.LoadLevel) -> str:
    """What the level sent beyond the counted requests, so totals can be checked server-side."""
    logins = quantity(level.login_requests, "login")
    failed = f" ({level.login_failures} failed)" if level.login_requests else ""
    return (
        f"Counted {level.requests} requests in a {level.window_s:.2f} s window; not counted: "
        f"{level.rampup_requests} ramp-up requests and {logins}{failed}; "
        f"{level.sent_total} sent in all."
    )


def _level_endpoints(level: models.LoadLevel) -> str:
    parts = [f"### {level_label(level)}: per endpoint", _counted(level)]
    rows = [
        [e.name, e.requests, e.ok, *latencies(e, "p50_ms", "p95_ms", "p99_ms"), errors(e) or "—"]
        for e in level.endpoints.all()
    ]
    if rows:
        headers = ["Endpoint", "Requests", "OK", "p50", "p95", "p99", "Errors"]
        parts.append(markdown_table(headers, rows))
    else:
        parts.append("No per-endpoint rows are stored for this level.")
    return "\n\n".join(parts)


def concurrent_section(run: models.Run, levels: Levels) -> str:
    title = "## Concurrent request testing"
    if not levels:
        planned = load_config(run)["concurrency"]
        reason = (
            f"levels {', '.join(map(str, planned))} were planned but none was stored "
            f"(run {run.status})"
            if planned
            else "the run measured each endpoint sequentially only (no --concurrency or --rate)"
        )
        return f"{title}\n\nNo load level was run: {reason}."
    headers = [
        "Level",
        "Transport",
        "Requests",
        "OK",
        "Errors (reasons)",
        "Throughput",
        "p50",
        "p90",
        "p95",
        "p99",
        "max",
        "Window",
        "Late / dropped",
        "Generator CPU",
    ]
    parts = [title, markdown_table(headers, [_level_row(level) for level in levels])]
    if any(level.transport == "in-process" for level in levels):
        parts.append(
            f"Transport {IN_PROCESS}, so the throughput and generator CPU of in-process levels "
            "include the server's own work."
        )
    parts.append(
        "Throughput is counted requests per second of the window (first counted send to last "
        "completion); generator CPU is perftest's own CPU time over the level's wall time."
    )
    parts += [_level_endpoints(level) for level in levels]
    return "\n\n".join(parts)


def _curve_row(step: scaling.Step) -> list[object]:
    level = step.level
    return [
        level.concurrency,
        f"{level.throughput:.1f} req/s",
        growth(step.throughput_growth),
        ms(level.p95_ms),
        growth(step.p95_growth),
        f"{step.error_rate:.1f} %",
    ]


def scaling_section(levels: Levels) -> str:
    title = "## Scaling curve and saturation"
    steps = scaling.curve(levels)
    if len(steps) < 2:
        return (
            f"{title}\n\nThe scaling curve needs at least two closed-model levels with counted "
            f"requests; this run has {len(steps)}."
        )
    headers = ["Concurrency", "Throughput", "vs previous", "p95", "vs previous", "Error rate"]
    bend = scaling.knee(steps)
    start = scaling.error_start(levels)
    verdict = scaling.knee_sentence(bend) if bend is not None else scaling.no_knee_sentence(steps)
    onset = (
        scaling.error_start_sentence(start) if start is not None else "no closed level had errors"
    )
    parts = [
        title,
        markdown_table(headers, [_curve_row(step) for step in steps]),
        f"The knee is the first level where throughput grows by less than "
        f"{scaling.KNEE_THROUGHPUT_GROWTH:.0f} % while p95 grows by more than "
        f"{scaling.KNEE_P95_GROWTH:.0f} % over the previous level, or where errors appear.",
        f"- {verdict[:1].upper()}{verdict[1:]}.\n- {onset[:1].upper()}{onset[1:]}.",
    ]
    return "\n\n".join(parts)


def _overhead_row(pair: concurrency.Overhead) -> list[object]:
    inprocess = latencies(pair.inprocess, "p50_ms")[0]
    if not pair.comparable:
        http = "not measured" if pair.http is None else latencies(pair.http, "p50_ms")[0]
        return [pair.inprocess.name, inprocess, http, "—", "—"]
    difference = ms(pair.difference_ms)
    return [
        pair.inprocess.name,
        inprocess,
        ms(pair.http.p50_ms),
        difference if pair.difference_ms < 0 else f"+{difference}",
        f"{pair.share:.1f} %",
    ]


def time_section(run: models.Run, endpoints: Sequence[models.EndpointResult]) -> str:
    """In-process vs HTTP p50 per endpoint; absent unless the run compared the transports."""
    title = "## Where the time goes"
    if not any(e.phase == "sequential-http" for e in endpoints):
        if run.mode != "both":
            return ""
        return f"{title}\n\nNo endpoint was measured sequentially over HTTP, so nothing compares."
    pairs = concurrency.transport_overhead(endpoints)
    headers = [
        "Endpoint",
        "p50 in-process (view + ORM)",
        "p50 over HTTP",
        "Difference (server + network)",
        "Share of HTTP p50",
    ]
    parts = [
        title,
        "Each endpoint measured sequentially in-process (the view and the ORM, no server) and "
        "over HTTP (the same work plus the server stack and the network).",
        markdown_table(headers, [_overhead_row(pair) for pair in pairs]),
    ]
    compared = [pair for pair in pairs if pair.comparable]
    if compared:
        widest = max(compared, key=lambda pair: pair.share)
        parts.append(
            f"The largest share is {widest.inprocess.name}: the server and network add "
            f"{ms(widest.difference_ms)} to its p50, {widest.share:.1f} % of its HTTP p50."
        )
    parts += [_faster_over_http(pair) for pair in compared if pair.difference_ms < 0]
    return "\n\n".join(parts)


def _faster_over_http(pair: concurrency.Overhead) -> str:
    """A negative overhead is no saving: the two passes ran at different moments."""
    spread = max(pair.inprocess.stdev_ms, pair.http.stdev_ms)
    name, gap = pair.inprocess.name, ms(-pair.difference_ms)
    if -pair.difference_ms <= spread:
        return (
            f"{name} answered {gap} faster over HTTP than in-process: less than the spread of "
            f"its samples (standard deviation up to {ms(spread)}), so the two are the same "
            "within measurement noise."
        )
    return (
        f"{name} answered {gap} faster over HTTP than in-process, more than the spread of its "
        f"samples (standard deviation up to {ms(spread)}): the passes ran at different moments "
        "(caches, other load on the machine), so its overhead cannot be read from this run."
    )


def summary_lines(levels: Levels) -> list[str]:
    """Executive-summary bullets for the load levels, empty when none ran."""
    top = scaling.peak(levels)
    if top is None:
        return [f"- Load levels: {len(levels)}, none counted a request"] if levels else []
    steps = scaling.curve(levels)
    bend = scaling.knee(steps)
    lines = [
        f"- Load levels: {len(levels)}; peak throughput {top.throughput:.1f} req/s at "
        f"{level_label(top)}"
    ]
    if bend is not None:
        lines.append(f"- Scaling: {scaling.knee_sentence(bend)}")
    return lines


def _levels_lines(levels: Levels, load: dict[str, Any]) -> list[str]:
    closed = [lv.concurrency for lv in levels if lv.model == models.LoadLevel.Model.CLOSED]
    opened = [level_label(lv) for lv in levels if lv.model == models.LoadLevel.Model.OPEN]
    lines = []
    if closed:
        lines.append(
            "Closed model (each worker sends its next request when the previous one answers): "
            f"{', '.join(map(str, closed))} concurrent."
        )
    if opened:
        lines.append(
            "Open model (requests are due at a fixed rate whatever the answers; latency is "
            f"measured from the intended send time): {', '.join(opened)}."
        )
    planned = list(load["concurrency"] or [])
    if planned and planned != [lv.concurrency for lv in levels]:
        lines.append(f"Planned: concurrency {', '.join(map(str, planned))} (not all ran).")
    return lines


def _mix_line(load: dict[str, Any], levels: Levels) -> str:
    if load["mix"]:
        return f"Mix: {load['mix']}."
    names = [e.name for e in levels[0].endpoints.order_by("position")]
    listed = f": {', '.join(names)}" if names else ""
    return f"Mix: the default, every endpoint except login with equal weights{listed}."


def _length_line(load: dict[str, Any]) -> str:
    if load["requests"]:
        length = f"{load['requests']} counted requests per level"
    elif load["duration"]:
        length = f"{number(load['duration'])} s per level"
    else:
        length = "length per level not recorded"
    ramp = f"ramp-up {number(load['ramp_up'])} s, not counted" if load["ramp_up"] else "no ramp-up"
    return f"Level length: {length}; {ramp}."


def methodology_lines(run: models.Run, levels: Levels) -> list[str]:
    """The load parameters of the plan snapshot, when the run has load levels."""
    if not levels:
        return []
    load = load_config(run)
    identities = (
        quantity(int(load["identities"]), "identity", "identities")
        if load["identities"]
        else "one per worker (the default)"
    )
    login = load["login"] or levels[0].login_mode
    limit = thresholds.limits(run)
    lines = [
        *_levels_lines(levels, load),
        _length_line(load),
        _mix_line(load, levels),
        f"Identities: {identities}; login: {login}.",
        f"Concurrency thresholds: at {number(limit['CONCURRENCY_ALL_OK'])} concurrent all "
        f"requests succeed; at {number(limit['CONCURRENCY_MOSTLY_OK'])} concurrent "
        f"≥ {number(limit['CONCURRENCY_MOSTLY_OK_RATE'])}% succeed.",
    ]
    if load["base_url"]:
        pid = f" (server pid {load['server_pid']})" if load["server_pid"] else ""
        lines.append(f"Base URL: {load['base_url']}{pid}.")
    return lines


def resources_note(run: models.Run, levels: Levels) -> str:
    """Where perftest's own CPU is, when the sampled process may be a server's."""
    if run.mode not in ("http", "both") or not levels:
        return ""
    return (
        "perftest's own CPU per level is shown separately, as generator CPU under Concurrent "
        "request testing."
    )
