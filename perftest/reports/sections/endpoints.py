"""The sequential pass, endpoint by endpoint: response times, latency distribution, database
figures and N+1 suspects."""

from __future__ import annotations

from typing import Any

from perftest import sqlnorm
from perftest.analysis import login, metrics
from perftest.analysis.rules.base import THRESHOLD
from perftest.analysis.rules.endpoints import HIGHEST_P95, LOWEST_P95
from perftest.store.read import StoredRun
from perftest.store.vocabulary import unjudged, unmeasured
from perftest.text import ms, status_counts

from .. import anchors
from ..blocks import Block, Code, Heading, Paragraph, Strong, Table
from .phrases import NONE, answers_otherwise, endpoint_cells, endpoint_headers, errors, latencies


def _distribution(stored: StoredRun) -> list[Block]:
    """The rest of each endpoint's figures: spread and the percentiles between."""
    by_role = stored.by_role
    rows = [
        [*endpoint_cells(e, by_role), *latencies(e, *metrics.DISTRIBUTION)] for e in stored.judged
    ]
    if not rows:
        missing = "answered as expected" if stored.measured else "was measured"
        return [Paragraph(f"No latency distribution: no endpoint {missing}.")]
    return [
        Paragraph(
            "Latency distribution (percentiles from an HDR histogram with 3 significant digits; "
            "min, max, mean and stdev exact):"
        ),
        Table([*endpoint_headers(by_role), *(m.name for m in metrics.DISTRIBUTION)], rows),
    ]


def login_line(stored: StoredRun) -> list[Block]:
    """The login's own line when it is set apart from the endpoints under test: its times and
    how much of them is one password hash, slow on purpose, which is why "slowest" and "worst
    p95" leave it out."""
    if not login.set_apart(stored):
        return []
    found = next((e for e in stored.judged if login.is_login(e, stored)), None)
    if found is None:
        return []
    share = login.hash_share(found, stored)
    hashed = login.password_hash(stored)
    cost = (
        f"; one password hash takes {ms(hashed['ms'])}, {share:.0%} of its median time"
        if hashed and share is not None
        else ""
    )
    left_out = _left_out(found, stored)
    return [
        Paragraph(
            [
                Strong(f"Login ({found.method} {found.path})"),
                f": p50 {metrics.P50.text(found)}, p95 {metrics.P95.text(found)}{cost}. "
                "Logging in checks a password hash, slow on purpose, so the login is set apart "
                "from the endpoints under test"
                + (f": {', '.join(left_out)}" if left_out else "")
                + " (PERFTEST['LOGIN']['UNDER_TEST'] = True measures it as one of them).",
            ]
        )
    ]


def _left_out(found: Any, stored: StoredRun) -> list[str]:
    """What this stored run left the login out of, as its stored findings and rows say (a
    run analysed before the login was set apart ranked and checked it as any endpoint)."""
    about = [f for f in stored.findings if f.subject == found.label]
    left_out = []
    if not any(f.rule in (HIGHEST_P95, LOWEST_P95) for f in about):
        left_out.append("it is never ranked the slowest or fastest endpoint")
    if found.set_apart:
        left_out.append("the run lists' worst p95 leaves it out")
    if not any(f.kind == THRESHOLD and "response time" in f.title for f in about):
        left_out.append("no latency threshold checks it unless it names it")
    return left_out


def response_times(stored: StoredRun) -> list[Block]:
    heading = Heading(anchors.RESPONSE_TIMES_HEADING)
    if not stored.sequential:
        return [heading, Paragraph("No endpoint is stored for this run.")]
    figures = (metrics.P50, metrics.P95, metrics.P99, metrics.MAX, metrics.MEAN)
    by_role = stored.by_role
    headers = [
        *endpoint_headers(by_role),
        "Method & path",
        "Requests",
        "OK",
        *(metric.name for metric in figures),
        "Status codes",
        "Errors/reason",
    ]
    rows = [
        [
            *endpoint_cells(e, by_role),
            f"{e.method} {e.path}",
            e.requests,
            e.ok,
            *latencies(e, *figures),
            status_counts(e.status_counts) or NONE,
            errors(e) or NONE,
        ]
        for e in stored.sequential
    ]
    return [
        heading,
        Table(headers, rows),
        *login_line(stored),
        *_distribution(stored),
        *answers_otherwise((e.label, e) for e in stored.sequential),
    ]


def _database_gap(stored: StoredRun) -> str:
    """Why there are no query figures at all."""
    if not stored.measured:
        return "No endpoint was measured, so no SQL was captured."
    if stored.row.mode == "http":
        return "SQL is not captured in HTTP mode: the server runs in another process."
    return "No measured request ran with SQL capture, so there are no query figures."


def _database_row(e: Any, by_role: bool) -> list[object]:
    first = endpoint_cells(e, by_role)
    if unmeasured(e):
        return [*first, "not measured", NONE, NONE, NONE]
    if unjudged(e):
        return [*first, "no answer as expected", NONE, NONE, f"{e.mean_bytes:.0f}"]
    if not e.sql_captured:
        return [*first, "not captured", NONE, NONE, f"{e.mean_bytes:.0f}"]
    return [
        *first,
        metrics.QUERIES_MEAN.text(e),
        metrics.QUERIES_MAX.text(e),
        metrics.SQL_SHARE.text(e),
        f"{e.mean_bytes:.0f}",
    ]


def database(stored: StoredRun) -> list[Block]:
    heading = Heading("Database")
    if not any(e.sql_captured for e in stored.sequential):
        return [heading, Paragraph(_database_gap(stored))]
    by_role = stored.by_role
    headers = [
        *endpoint_headers(by_role),
        "Queries/request (mean)",
        "Queries/request (max)",
        "SQL time share",
        "Mean response bytes",
    ]
    return [heading, Table(headers, [_database_row(e, by_role) for e in stored.sequential])]


def n_plus_one(stored: StoredRun) -> list[Block]:
    heading = Heading("N+1 suspects")
    if not any(e.sql_captured for e in stored.sequential):
        return [
            heading,
            Paragraph("SQL was not captured (see Database), so none could be found."),
        ]
    blocks: list[Block] = [heading]
    for e in stored.sequential:
        for group in e.duplicate_queries:
            blocks += [
                Paragraph(
                    [
                        Strong(e.label),
                        f" ({e.method} {e.path}): up to {group['max_per_request']} times in one "
                        f"request; repeated in {group['requests']} of {e.requests} requests.",
                    ]
                ),
                Code(group["sql"], "sql"),
            ]
    if len(blocks) == 1:
        blocks.append(
            Paragraph(
                f"No statement ran {sqlnorm.DUPLICATE_THRESHOLD} or more times within one request."
            )
        )
    return blocks
