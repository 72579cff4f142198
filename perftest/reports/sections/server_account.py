"""Where the time goes on the server: each HTTP level's latency split by the server's own
account (``analysis.server_account``) into outside the app, the app without its SQL, and SQL.

Only rows measured over HTTP can carry the account; in-process the client is the server, so
a run without HTTP rows has no section (and an in-process level no row). A run whose HTTP
answers carried no account gets one sentence: how to make the server time them.
"""

from __future__ import annotations

from typing import Any

from perftest.analysis import server_account
from perftest.analysis.metrics import P95
from perftest.store.read import StoredRun
from perftest.text import level_label, ms

from ..blocks import Block, Heading, Paragraph, Table
from .phrases import NONE, endpoint_cells, endpoint_headers, latencies, level_name

MIDDLEWARE_MISSING = (
    "The server did not time its answers: add perftest.middleware.ServerTimingMiddleware "
    "first in MIDDLEWARE (docs: Server timing)."
)

#: The figure columns of every row, after the row's name.
FIGURES = (
    "Answers timed by the server",
    "Outside the app (mean)",
    "App without SQL (mean)",
    "SQL (mean)",
    "Timed answers (mean)",
    "Outside p95",
    "App p95",
    "SQL p95",
    "Client p95",
    "Queries/request",
)


def timed(split: server_account.Account) -> str:
    """``1,234 of 1,240``: the answers that carried the server's account, of those as
    expected."""
    return f"{split.answers:,} of {split.ok:,}"


def _cells(row: Any) -> list[str]:
    split = server_account.account(row)
    if split is None:
        return [f"0 of {row.ok:,}", *(NONE,) * (len(FIGURES) - 1)]
    return [
        timed(split),
        ms(split.outside_mean_ms),
        ms(split.app_only_mean_ms),
        ms(split.sql_mean_ms),
        ms(split.total_mean_ms),
        ms(split.outside_p95_ms),
        ms(split.app_p95_ms),
        ms(split.sql_p95_ms),
        *latencies(row, P95),
        f"{split.queries_mean:.1f}",
    ]


def _endpoints(stored: StoredRun) -> list[Block]:
    """Each timed endpoint row: the sequential pass over HTTP, then each HTTP level's."""
    by_role = stored.by_role
    sequential = [("sequential over HTTP", e) for e in server_account.http_sequential(stored)]
    in_levels = [
        (level_label(level), e)
        for level in server_account.http_levels(stored)
        for e in stored.endpoints_of(level)
    ]
    rows = [
        [where, *endpoint_cells(e, by_role), *_cells(e)]
        for where, e in (*sequential, *in_levels)
        if server_account.account(e)
    ]
    if not rows:
        return []
    return [
        Heading("Per endpoint", 3),
        Table(["Phase or level", *endpoint_headers(by_role), *FIGURES], rows),
    ]


def section(stored: StoredRun) -> list[Block]:
    heading = Heading("The server's account: outside the app, app, SQL")
    if server_account.untimed(stored):
        return [heading, Paragraph(MIDDLEWARE_MISSING)]
    levels = server_account.http_levels(stored)
    endpoints = _endpoints(stored)
    if not endpoints and not any(server_account.account(level) for level in levels):
        return []
    blocks: list[Block] = [
        heading,
        Paragraph(
            "The server's own account of each answer as expected (perftest's "
            "ServerTimingMiddleware, Server-Timing header): the app's time inside Django and "
            "its SQL time, and outside the app, the client's latency less the app's time "
            "(waiting for a free server worker, the server's parsing, the network). The means "
            "add up: outside + app without SQL + SQL is the mean latency of the timed answers. "
            "Each p95 is its own part's, beside the client's p95 of every answer as expected; "
            "they do not add up."
        ),
    ]
    if levels:
        blocks.append(
            Table(["Level", *FIGURES], [[level_name(level), *_cells(level)] for level in levels])
        )
    return blocks + endpoints
