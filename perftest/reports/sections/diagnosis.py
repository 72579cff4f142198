"""Why it is slow: the stored profiles of the slow profiled endpoints (``--profile``) and the
query plans of each endpoint's costly statements (``--explain``), or why there are none.

The section appears only for runs that asked for a diagnosis. Which endpoints are "slow" is
the analysis's choice (``rules.diagnosis.slow_profiled``), so the section shows the profiles
the key findings name. In each profile the project's own functions come first: they are the
code the reader can change. Then the dispatch and middleware common to every request fold into
one line, and the table of the endpoint's own work starts below them (``rules.diagnosis.own_work``
decides where), each function with its share of the request.
"""

from __future__ import annotations

from typing import Any

from perftest.analysis.rules.diagnosis import OwnWork, own_work, reaches_threshold, slow_profiled
from perftest.store.read import StoredRun
from perftest.text import ms, number, percent, quantity

from ..blocks import Block, Bullets, Code, Heading, Paragraph, Table

#: The origins of profiled code, as the profile stores them, and how each reads.
ORIGINS = {
    "host": "project code",
    "django": "Django",
    "drf": "DRF",
    "stdlib": "standard library",
    "third-party": "other packages",
    "built-in": "built-ins",
    "perftest": "perftest",
}


def _in_process_only(what: str, stored: StoredRun) -> str:
    """Why a diagnosis over HTTP has nothing: the server's code and SQL are elsewhere."""
    return (
        f"{what} needs in-process access: this run measured {stored.row.target} over HTTP, "
        "where the server's code and SQL run in another process, so nothing was read."
    )


def _shares(profile: dict[str, Any]) -> str:
    shares, origins = profile["shares"], profile["origins"]
    by_origin = ", ".join(
        f"{words} {percent(100 * origins[name])}"
        for name, words in ORIGINS.items()
        if origins.get(name)
    )
    otherwise = f", {profile['unexpected']} answered otherwise" if profile["unexpected"] else ""
    return (
        f"{ms(profile['total_ms'])} over {profile['requests']} profiled requests{otherwise}: "
        f"SQL {percent(100 * shares['sql'])}, serialisation "
        f"{percent(100 * shares['serialisation'])}, the rest {percent(100 * shares['other'])}. "
        f"Own time by origin: {by_origin}."
    )


def _where(function: dict[str, Any]) -> str:
    return f"{function['file']}:{function['line']}" if function["file"] else "built-in"


def _row(function: dict[str, Any]) -> list[Any]:
    return [
        function["function"],
        ORIGINS.get(function["category"], function["category"]),
        _where(function),
        function["calls"],
        ms(function["own_ms"]),
        ms(function["cumulative_ms"]),
    ]


_COLUMNS = ["Origin", "Where", "Calls", "Own", "Cumulative"]


def _project_functions(functions: list[dict[str, Any]]) -> Table:
    return Table(
        ["Project function", *_COLUMNS], [_row(f) for f in functions], right=frozenset({3, 4, 5})
    )


def _and(words: list[str]) -> str:
    """``Django``, ``Django and DRF``, ``Django, DRF and project code``."""
    return " and ".join(filter(None, [", ".join(words[:-1]), words[-1]]))


def _folded(work: OwnWork) -> str:
    """The one line the chain above the endpoint's own work folds into."""
    if not work.folded:
        return (
            "No call chain is folded: nothing in the profiles tells the shared dispatch apart "
            "(a single profiled endpoint with none of the project's functions on its heaviest "
            "path), so the table starts at the framework's entry point."
        )
    origins = dict.fromkeys(ORIGINS[f["category"]] for f in work.folded if f["category"] in ORIGINS)
    return (
        f"{_and(list(origins))} dispatch and middleware: "
        f"{quantity(len(work.folded), 'function')}, {percent(100 * work.folded_share)} of "
        f"the request (from {work.folded[0]['function']} to {work.folded[-1]['function']})."
    )


def _own_work(work: OwnWork) -> Table:
    return Table(
        ["Function (the endpoint's own work)", *_COLUMNS, "Share of the request"],
        [[*_row(f), percent(100 * f["share"])] for f in work.functions],
        right=frozenset({3, 4, 5, 6}),
    )


def _which(stored: StoredRun, shown: list[Any]) -> str:
    """Which endpoints the profiles below are, and what was done to get them."""
    limit = stored.thresholds["RESPONSE_TIME_P95_MS"]
    every = f"{quantity(stored.plan.profile, 'extra request')} per endpoint under cProfile"
    if reaches_threshold(shown[0], stored):
        chosen = f"the endpoints at or above the p95 threshold of {number(limit)} ms"
    else:
        chosen = (
            f"the {quantity(len(shown), 'slowest profiled endpoint')} by p95 (none reached the "
            f"p95 threshold of {number(limit)} ms)"
        )
    return (
        f"Profiles of {chosen}: {every}, after the measured ones and not counted in any figure "
        "above. The project's own functions come first, by own time. Then the call chain "
        "common to every profiled endpoint (the framework's dispatch and middleware, found by "
        "comparing their profiles) is one line, and the table starts where the endpoint's own "
        "work starts, with each function's cumulative time as a share of the request "
        "(perftest's own frames left out; a function that also ran outside the own work for "
        "longer than the own work took is left out of its table)."
    )


def _profiles(stored: StoredRun) -> list[Block]:
    if stored.row.mode == "http":
        return [Paragraph(_in_process_only("Profiling (--profile)", stored))]
    shown = slow_profiled(stored)
    if not shown:
        return [Paragraph("No endpoint was profiled: none answered as expected.")]
    blocks: list[Block] = [Paragraph(_which(stored, shown))]
    for endpoint in shown:
        profile = endpoint.profile
        blocks += [Heading(f"{endpoint.label}: profile", 3), Paragraph(_shares(profile))]
        if profile["host"]:
            blocks.append(_project_functions(profile["host"]))
        else:
            blocks.append(Paragraph("No function of the project's own code ran."))
        work = own_work(endpoint, stored)
        if work is not None:
            blocks += [Paragraph(_folded(work)), _own_work(work)]
    return blocks


def _scan(scan: dict[str, Any]) -> str:
    if "index" in scan:
        return f"{scan['node']} on {scan['relation']} using {scan['index']}"
    source = "table statistics" if scan["rows_from"] == "pg_class" else "the plan's estimate"
    text = f"Seq Scan on {scan['relation']}, {scan['table_rows']:,} rows ({source})"
    if scan["filter"]:
        text += f"; filter {scan['filter']}"
    if scan["columns"]:
        text += f"; reads {', '.join(scan['columns'])}"
    return text


def _plan(plan: dict[str, Any]) -> list[Block]:
    if plan.get("unavailable"):
        why = f"No plan: {plan['unavailable']}."
        if not plan["sql"]:
            return [Paragraph(why)]
        return [Paragraph(f"{plan['reason'].capitalize()}. {why}"), Code(plan["sql"], "sql")]
    blocks: list[Block] = [
        Paragraph(
            f"{plan['reason'].capitalize()}: {plan['node']}, estimated cost "
            f"{plan['cost']:,.1f}, {quantity(int(plan['rows']), 'row')} estimated."
        ),
        Code(plan["sql"], "sql"),
    ]
    scans = [_scan(scan) for scan in (*plan["seq_scans"], *plan["index_scans"])]
    if scans:
        blocks.append(Bullets(scans))
    return blocks


def _plans(stored: StoredRun) -> list[Block]:
    if stored.row.mode == "http":
        return [Paragraph(_in_process_only("Reading query plans (--explain)", stored))]
    vendor = stored.row.environment.get("database_vendor")
    if vendor != "postgresql":
        return [
            Paragraph(
                f"Query plans (--explain) are read on PostgreSQL only; this run's database is "
                f"{vendor or 'not recorded'}, so no plan was read."
            )
        ]
    explained = [e for e in stored.sequential if e.explain]
    if not explained:
        return [Paragraph("No query plan was read: no endpoint answered as expected.")]
    blocks: list[Block] = [
        Paragraph(
            "Query plans (EXPLAIN, FORMAT JSON, never ANALYZE) of each endpoint's most "
            "expensive SELECT and of each SELECT repeated in one request, from one extra "
            "request not counted in any figure; literal values are shown as ?."
        )
    ]
    for endpoint in explained:
        blocks.append(Heading(f"{endpoint.label}: query plans", 3))
        for plan in endpoint.explain:
            blocks += _plan(plan)
    return blocks


def section(stored: StoredRun) -> list[Block]:
    """The section, for runs that asked for ``--profile`` or ``--explain``."""
    plan = stored.plan
    if not (plan.profile or plan.explain):
        return []
    return [
        Heading("Why it is slow"),
        *(_profiles(stored) if plan.profile else ()),
        *(_plans(stored) if plan.explain else ()),
    ]
