"""Rules over the sequential pass and the run as a whole: logins, answers, latency, SQL,
resources; the bottlenecks they find and the key facts of the run.

Each rule fires only when its condition holds on the stored numbers, and builds its sentence
from those numbers; nothing here is a canned conclusion.
"""

from __future__ import annotations

from collections import Counter
from functools import partial
from typing import Any

from perftest import sqlnorm
from perftest.store.read import Status, StoredRun, unmeasured
from perftest.text import mb, ms, number, percent, quantity

from .. import summaries
from ..metrics import (
    CPU_AVG,
    MAX,
    MEAN,
    P50,
    P95,
    P99,
    QUERIES_MAX,
    QUERIES_MEAN,
    RSS_GROWTH,
    SQL_SHARE,
    Metric,
    phrases,
)
from .base import (
    BOTTLENECK,
    ENDPOINT,
    ERROR_GROUP,
    KEY,
    RUN,
    Finding,
    bottleneck,
    key,
    retry_after,
    rule,
)

LOGIN_FAILED = "bottleneck.login_failed"
SERVER_ERROR = "bottleneck.server_error"
CLIENT_ERROR = "bottleneck.client_error"
RATE_LIMITED = "bottleneck.rate_limited"
UNEXPECTED_STATUS = "bottleneck.unexpected_status"
CONNECTION_ERROR = "bottleneck.connection_error"
SLOW_ENDPOINT = "bottleneck.slow_endpoint"
N_PLUS_ONE = "bottleneck.n_plus_one"
HEAVY_SQL = "bottleneck.heavy_sql"
MEMORY_GROWTH = "bottleneck.memory_growth"
CPU_HIGH = "bottleneck.cpu_high"
NOT_MEASURED = "bottleneck.not_measured"
INTERRUPTED = "key.interrupted"
FAILED = "key.failed"
TOTALS = "key.totals"
HIGHEST_P95 = "key.highest_p95"
LOWEST_P95 = "key.lowest_p95"
MOST_QUERIES = "key.most_queries"
RESOURCES = "key.resources"


_rule = partial(rule, family="endpoints")


@_rule(LOGIN_FAILED, BOTTLENECK, RUN, "failed logins")
def _login_failures(stored: StoredRun) -> list[Finding]:
    logins = stored.row.logins
    failed = [attempt for attempt in logins if not attempt["ok"]]
    if not failed:
        return []
    outcomes = Counter(
        (f"HTTP {a['status']}" if a["status"] is not None else "no response", a["reason"])
        for a in failed
    )
    evidence = "; ".join(f"{status}: {reason} (×{n})" for (status, reason), n in outcomes.items())
    return [
        bottleneck(
            LOGIN_FAILED,
            "login",
            f"Login failed for {len(failed)} of {len(logins)} attempts",
            evidence,
            f"Check PERFTEST['LOGIN'] (PATH, METHOD, BODY, TOKEN_PATH) against "
            f"{stored.login_endpoint}, and that perftest's identities can log in there.",
        )
    ]


def _error_rule(reason: str) -> str:
    """The rule an error group falls under, from its reason ("HTTP 503", "timeout", ...)."""
    if not reason.startswith("HTTP "):
        return CONNECTION_ERROR
    if reason.startswith("HTTP 5"):
        return SERVER_ERROR
    if reason.split()[1] == "429":
        return RATE_LIMITED
    if reason.startswith("HTTP 4"):
        return CLIENT_ERROR
    return UNEXPECTED_STATUS


def _error_group(rule_id: str):
    """The check of one error rule: a finding for each error group that falls under it."""

    def check(endpoint: Any, group: dict) -> list[Finding]:
        if _error_rule(group["reason"]) != rule_id:
            return []
        share = f"{group['count']} of {endpoint.requests} requests"
        example = f" Example: {group['example']}" if group["example"] else ""
        if rule_id == RATE_LIMITED:
            retry = retry_after(group["example"])
            asked = f" The server asked to retry after {retry}." if retry else ""
            title = f"{endpoint.name} was throttled: {group['reason']} for {share}"
            evidence = (
                f"The run measured the platform's rate limit, not the work of "
                f"{endpoint.method} {endpoint.path}.{asked}{example}"
            )
            return [bottleneck(rule_id, endpoint.name, title, evidence)]
        if rule_id == CONNECTION_ERROR:
            title = f"{endpoint.name} got no usable response for {share}: {group['reason']}"
        else:
            title = (
                f"{endpoint.name} answered {group['reason']} instead of HTTP "
                f"{endpoint.expected_status} for {share}"
            )
        evidence = f"{endpoint.method} {endpoint.path}: {share}.{example}"
        return [bottleneck(rule_id, endpoint.name, title, evidence)]

    return check


for _id, _looks_for, _recommendation in (
    (
        SERVER_ERROR,
        "server errors (HTTP 5xx)",
        "Fix the exception behind the HTTP 5xx answers; the example shows the response.",
    ),
    (
        CLIENT_ERROR,
        "unexpected client errors (HTTP 4xx other than 429)",
        "Check the endpoint's expected status, request body and the identity's permissions "
        "against what the endpoint requires.",
    ),
    (
        RATE_LIMITED,
        "rate limiting (HTTP 429)",
        "Disable throttling for the test environment (e.g. DRF's DEFAULT_THROTTLE_RATES) or "
        "lower the load; until then the figures measure the throttle, not the endpoint.",
    ),
    (
        UNEXPECTED_STATUS,
        "other unexpected statuses",
        "Check the endpoint's expected_status against what it answers.",
    ),
    (
        CONNECTION_ERROR,
        "connection-level errors",
        "Check that the target is up and reachable and that its timeouts suit it.",
    ),
):
    _rule(_id, BOTTLENECK, ERROR_GROUP, _looks_for, _recommendation)(_error_group(_id))


@_rule(
    SLOW_ENDPOINT,
    BOTTLENECK,
    ENDPOINT,
    "p95 response time at or above its threshold",
    "Profile the endpoint's request path (its queries in the Database section first) "
    "and cut the work done per request.",
)
def _slow(endpoint: Any, stored: StoredRun) -> list[Finding]:
    limit = stored.thresholds["RESPONSE_TIME_P95_MS"]
    if P95.of(endpoint) < limit:
        return []
    return [
        bottleneck(
            SLOW_ENDPOINT,
            endpoint.name,
            f"{endpoint.name} is slow: {P95.phrase(endpoint)} ≥ {number(limit)} ms",
            f"{phrases(endpoint, P50, P95, P99, MAX)} over {endpoint.requests} requests",
        )
    ]


@_rule(
    N_PLUS_ONE,
    BOTTLENECK,
    ENDPOINT,
    f"statements repeated {sqlnorm.DUPLICATE_THRESHOLD} or more times in one request (N+1)",
    "Load the related rows in bulk with select_related() (foreign keys) or "
    "prefetch_related() (many-valued relations) in the view's queryset.",
)
def _n_plus_one(endpoint: Any, stored: StoredRun) -> list[Finding]:
    return [
        bottleneck(
            N_PLUS_ONE,
            endpoint.name,
            f"{endpoint.name} runs one statement up to {group['max_per_request']} times in a "
            "request (N+1 suspect)",
            f"Up to {group['max_per_request']} times in one request; repeated in "
            f"{group['requests']} of {endpoint.requests} requests:\n{group['sql']}",
        )
        for group in endpoint.duplicate_queries
    ]


@_rule(
    HEAVY_SQL,
    BOTTLENECK,
    ENDPOINT,
    "SQL taking half or more of the response time",
    "Run EXPLAIN on its queries: add indexes for the filters used, fetch fewer rows "
    "and columns (pagination, only()), or cache the result.",
)
def _heavy_sql(endpoint: Any, stored: StoredRun) -> list[Finding]:
    if not (SQL_SHARE.of(endpoint) >= 0.5 and QUERIES_MEAN.of(endpoint) >= 1):
        return []
    return [
        bottleneck(
            HEAVY_SQL,
            endpoint.name,
            f"{endpoint.name} spends {SQL_SHARE.of(endpoint):.0%} of its response time in SQL",
            f"{ms(endpoint.sql_ms_total / endpoint.requests)} of SQL in a mean response of "
            f"{MEAN.text(endpoint)}; {QUERIES_MEAN.text(endpoint)} queries per request "
            f"(max {QUERIES_MAX.text(endpoint)})",
        )
    ]


def _judged_resources(stored: StoredRun) -> summaries.ResourceSummary | None:
    """The resource summary when it can be judged (two readings or more), else None."""
    summary = summaries.resources(stored)
    return None if summaries.resource_gap(stored, summary) else summary


def _reached(
    stored: StoredRun, metric: Metric, limit_key: str
) -> tuple[summaries.ResourceSummary | None, float]:
    """The judged resource summary when ``metric`` reached its limit (else None), and the limit."""
    summary, limit = _judged_resources(stored), stored.thresholds[limit_key]
    return (summary if summary is not None and metric.of(summary) >= limit else None), limit


@_rule(
    MEMORY_GROWTH,
    BOTTLENECK,
    RUN,
    "RSS growth at or above its threshold",
    "Look for data kept between requests (module-level caches, growing lists); rerun "
    "with more iterations to see whether the growth levels off.",
)
def _memory_growth(stored: StoredRun) -> list[Finding]:
    summary, limit = _reached(stored, RSS_GROWTH, "MEMORY_GROWTH_MB")
    if summary is None:
        return []
    return [
        bottleneck(
            MEMORY_GROWTH,
            "process",
            f"RSS grew {RSS_GROWTH.text(summary)} during the run (threshold {number(limit)} MB)",
            f"min {mb(summary.rss_min_mb)}, max {mb(summary.rss_max_mb)}, trend "
            f"{summary.rss_slope_mb_per_min:+.2f} MB/min over {summary.duration_s:.1f} s "
            f"({summary.samples} samples)",
        )
    ]


@_rule(
    CPU_HIGH,
    BOTTLENECK,
    RUN,
    "average CPU at or above its threshold",
    "Profile the busiest endpoints (cProfile, py-spy); in in-process mode the figure "
    "includes the client's own work.",
)
def _cpu_high(stored: StoredRun) -> list[Finding]:
    summary, limit = _reached(stored, CPU_AVG, "CPU_PERCENT_AVG")
    if summary is None:
        return []
    cpu_count = stored.row.resource_cpu_count
    return [
        bottleneck(
            CPU_HIGH,
            "process",
            f"CPU averaged {CPU_AVG.text(summary)} of {quantity(cpu_count, 'core')} "
            f"(threshold {number(limit)}%)",
            f"mean {CPU_AVG.text(summary)}, max {percent(summary.cpu_max_pct)} "
            f"over {quantity(summary.samples - 1, 'reading')}",
        )
    ]


@_rule(
    NOT_MEASURED,
    BOTTLENECK,
    RUN,
    "endpoints that were not measured",
    "Fix the reason shown, then run again to measure these endpoints.",
)
def _not_measured(stored: StoredRun) -> list[Finding]:
    """One finding per reason, naming the endpoints it kept from being measured."""
    by_reason: dict[str, list[str]] = {}
    for endpoint in stored.sequential:
        reason = unmeasured(endpoint)
        if reason:
            by_reason.setdefault(reason, []).append(endpoint.name)
    return [
        bottleneck(
            NOT_MEASURED,
            ", ".join(names),
            f"{len(names)} of {len(stored.sequential)} endpoints not measured: {reason}",
            f"Not measured: {', '.join(names)}",
        )
        for reason, names in by_reason.items()
    ]


@_rule(INTERRUPTED, KEY, RUN, "an interrupted run")
def _interrupted(stored: StoredRun) -> list[Finding]:
    if stored.status != Status.INTERRUPTED:
        return []
    done = sum(e.requests for e in stored.sequential)
    planned = sum(e.planned for e in stored.sequential)
    return [
        key(
            INTERRUPTED,
            "run",
            f"The run was interrupted: {done} of {planned} planned requests were made",
        )
    ]


@_rule(FAILED, KEY, RUN, "a failed run")
def _failed(stored: StoredRun) -> list[Finding]:
    if stored.status != Status.FAILED:
        return []
    return [key(FAILED, "run", f"The run failed: {stored.row.failure or 'no reason stored'}")]


@_rule(TOTALS, KEY, RUN, "the requests made and how many answered as expected")
def _totals(stored: StoredRun) -> list[Finding]:
    endpoints = stored.sequential
    requests = sum(e.requests for e in endpoints)
    if not requests:
        return [key(TOTALS, "run", f"No request was measured ({len(endpoints)} planned)")]
    ok = sum(e.ok for e in endpoints)
    return [
        key(
            TOTALS,
            "run",
            f"{requests} requests to {len(stored.measured)} of {len(endpoints)} endpoints; {ok} "
            f"({ok / requests:.1%}) answered as expected",
            f"{requests - ok} requests answered otherwise",
        )
    ]


def _extreme(rule_id: str, word: str, endpoint: Any) -> Finding:
    return key(
        rule_id,
        endpoint.name,
        f"{word} endpoint by p95: {endpoint.name} at {P95.text(endpoint)}",
        f"{phrases(endpoint, P50, P99)} over {endpoint.requests} requests",
    )


def _ranked(stored: StoredRun) -> list[Any]:
    """The judgeable endpoints, slowest p95 first (a router root is never ranked)."""
    return sorted(stored.judgeable, key=P95.of, reverse=True)


@_rule(HIGHEST_P95, KEY, RUN, "the slowest endpoint by p95")
def _slowest(stored: StoredRun) -> list[Finding]:
    ranked = _ranked(stored)
    return [_extreme(HIGHEST_P95, "Slowest", ranked[0])] if ranked else []


@_rule(LOWEST_P95, KEY, RUN, "the fastest endpoint by p95")
def _fastest(stored: StoredRun) -> list[Finding]:
    """The fastest endpoint, when two or more were measured."""
    ranked = _ranked(stored)
    return [_extreme(LOWEST_P95, "Fastest", ranked[-1])] if len(ranked) >= 2 else []


@_rule(MOST_QUERIES, KEY, RUN, "the endpoint with most queries per request")
def _most_queries(stored: StoredRun) -> list[Finding]:
    captured = [e for e in stored.judgeable if e.sql_captured and e.queries_total]
    if not captured:
        return []
    top = max(captured, key=QUERIES_MEAN.of)
    return [
        key(
            MOST_QUERIES,
            top.name,
            f"Most queries per request: {top.name} with {QUERIES_MEAN.text(top)} on average "
            f"(max {QUERIES_MAX.text(top)})",
        )
    ]


@_rule(RESOURCES, KEY, RUN, "the trend of memory and CPU")
def _resource_trend(stored: StoredRun) -> list[Finding]:
    summary = _judged_resources(stored)
    if summary is None:
        return []
    return [
        key(
            RESOURCES,
            "process",
            f"RSS changed by {summary.rss_growth_mb:+.1f} MB "
            f"({summary.rss_slope_mb_per_min:+.2f} MB/min) over {summary.duration_s:.1f} s; "
            f"CPU averaged {CPU_AVG.text(summary)} of "
            f"{quantity(stored.row.resource_cpu_count, 'core')}",
            f"RSS {mb(summary.rss_min_mb)} to {mb(summary.rss_max_mb)}, "
            f"CPU max {percent(summary.cpu_max_pct)}, {summary.samples} samples",
        )
    ]
