"""Findings chosen by rules from a stored run's figures: thresholds, bottlenecks, key facts.

Each rule fires only when its condition holds on the stored numbers, and builds its sentence
from those numbers; nothing here is a canned conclusion. ``CHECKS`` names every bottleneck
rule, so a report with no bottleneck can say what was looked for.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from perftest import models, sqlnorm
from perftest.formatting import (
    login_endpoint,
    mb,
    measured,
    ms,
    number,
    percent,
    quantity,
    unmeasured,
)

from . import bottleneck, concurrency, key, thresholds
from .resources import ResourceSummary, summarize

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

#: What each bottleneck rule looks for, in the words a report uses when none fired.
CHECKS: dict[str, str] = {
    LOGIN_FAILED: "failed logins",
    SERVER_ERROR: "server errors (HTTP 5xx)",
    CLIENT_ERROR: "unexpected client errors (HTTP 4xx other than 429)",
    RATE_LIMITED: "rate limiting (HTTP 429)",
    UNEXPECTED_STATUS: "other unexpected statuses",
    CONNECTION_ERROR: "connection-level errors",
    SLOW_ENDPOINT: "p95 response time at or above its threshold",
    N_PLUS_ONE: (
        f"statements repeated {sqlnorm.DUPLICATE_THRESHOLD} or more times in one request (N+1)"
    ),
    HEAVY_SQL: "SQL taking half or more of the response time",
    MEMORY_GROWTH: "RSS growth at or above its threshold",
    CPU_HIGH: "average CPU at or above its threshold",
    NOT_MEASURED: "endpoints that were not measured",
}

RECOMMENDATIONS: dict[str, str] = {
    SERVER_ERROR: "Fix the exception behind the HTTP 5xx answers; the example shows the response.",
    CLIENT_ERROR: (
        "Check the endpoint's expected status, request body and the identity's permissions "
        "against what the endpoint requires."
    ),
    RATE_LIMITED: (
        "Disable throttling for the test environment (e.g. DRF's DEFAULT_THROTTLE_RATES) or "
        "lower the load; until then the figures measure the throttle, not the endpoint."
    ),
    UNEXPECTED_STATUS: "Check the endpoint's expected_status against what it answers.",
    CONNECTION_ERROR: "Check that the target is up and reachable and that its timeouts suit it.",
    SLOW_ENDPOINT: (
        "Profile the endpoint's request path (its queries in the Database section first) "
        "and cut the work done per request."
    ),
    N_PLUS_ONE: (
        "Load the related rows in bulk with select_related() (foreign keys) or "
        "prefetch_related() (many-valued relations) in the view's queryset."
    ),
    HEAVY_SQL: (
        "Run EXPLAIN on its queries: add indexes for the filters used, fetch fewer rows and "
        "columns (pagination, only()), or cache the result."
    ),
    MEMORY_GROWTH: (
        "Look for data kept between requests (module-level caches, growing lists); rerun with "
        "more iterations to see whether the growth levels off."
    ),
    CPU_HIGH: (
        "Profile the busiest endpoints (cProfile, py-spy); in in-process mode the figure "
        "includes the client's own work."
    ),
    NOT_MEASURED: "Fix the reason shown, then run again to measure these endpoints.",
}

_RETRY_AFTER = concurrency.RETRY_AFTER


def _bottleneck(rule: str, subject: str, title: str, evidence: str, recommendation: str = ""):
    return bottleneck(rule, subject, title, evidence, recommendation or RECOMMENDATIONS[rule])


def _login_failures(run: models.Run) -> list[models.Finding]:
    failed = [attempt for attempt in run.logins if not attempt["ok"]]
    if not failed:
        return []
    outcomes = Counter(
        (f"HTTP {a['status']}" if a["status"] is not None else "no response", a["reason"])
        for a in failed
    )
    evidence = "; ".join(f"{status}: {reason} (×{n})" for (status, reason), n in outcomes.items())
    return [
        _bottleneck(
            LOGIN_FAILED,
            "login",
            f"Login failed for {len(failed)} of {len(run.logins)} attempts",
            evidence,
            f"Check PERFTEST['LOGIN'] (PATH, METHOD, BODY, TOKEN_PATH) against "
            f"{login_endpoint(run)}, and that perftest's identities can log in there.",
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


def _error_finding(endpoint: models.EndpointResult, group: dict) -> models.Finding:
    rule = _error_rule(group["reason"])
    share = f"{group['count']} of {endpoint.requests} requests"
    example = f" Example: {group['example']}" if group["example"] else ""
    if rule == RATE_LIMITED:
        retry = _RETRY_AFTER.search(group["example"])
        asked = f" The server asked to retry after {retry.group(1)}." if retry else ""
        return _bottleneck(
            rule,
            endpoint.name,
            f"{endpoint.name} was throttled: {group['reason']} for {share}",
            f"The run measured the platform's rate limit, not the work of {endpoint.method} "
            f"{endpoint.path}.{asked}{example}",
        )
    if rule == CONNECTION_ERROR:
        title = f"{endpoint.name} got no usable response for {share}: {group['reason']}"
    else:
        title = (
            f"{endpoint.name} answered {group['reason']} instead of HTTP "
            f"{endpoint.expected_status} for {share}"
        )
    return _bottleneck(
        rule, endpoint.name, title, f"{endpoint.method} {endpoint.path}: {share}.{example}"
    )


def _slow(endpoint: models.EndpointResult, limit: float) -> list[models.Finding]:
    if endpoint.p95_ms < limit:
        return []
    return [
        _bottleneck(
            SLOW_ENDPOINT,
            endpoint.name,
            f"{endpoint.name} is slow: p95 {ms(endpoint.p95_ms)} ≥ {number(limit)} ms",
            f"p50 {ms(endpoint.p50_ms)}, p95 {ms(endpoint.p95_ms)}, p99 {ms(endpoint.p99_ms)}, "
            f"max {ms(endpoint.max_ms)} over {endpoint.requests} requests",
        )
    ]


def _n_plus_one(endpoint: models.EndpointResult) -> list[models.Finding]:
    return [
        _bottleneck(
            N_PLUS_ONE,
            endpoint.name,
            f"{endpoint.name} runs one statement up to {group['max_per_request']} times in a "
            "request (N+1 suspect)",
            f"Up to {group['max_per_request']} times in one request; repeated in "
            f"{group['requests']} of {endpoint.requests} requests:\n{group['sql']}",
        )
        for group in endpoint.duplicate_queries
    ]


def _heavy_sql(endpoint: models.EndpointResult) -> list[models.Finding]:
    if not (endpoint.sql_share >= 0.5 and endpoint.queries_mean >= 1):
        return []
    return [
        _bottleneck(
            HEAVY_SQL,
            endpoint.name,
            f"{endpoint.name} spends {endpoint.sql_share:.0%} of its response time in SQL",
            f"{ms(endpoint.sql_ms_total / endpoint.requests)} of SQL in a mean response of "
            f"{ms(endpoint.mean_ms)}; {endpoint.queries_mean:.1f} queries per request "
            f"(max {endpoint.queries_max})",
        )
    ]


def _endpoint_bottlenecks(endpoint: models.EndpointResult, limit: float) -> list[models.Finding]:
    """Every bottleneck rule that reads one measured endpoint's figures."""
    return [
        *(_error_finding(endpoint, group) for group in endpoint.errors),
        *_slow(endpoint, limit),
        *_n_plus_one(endpoint),
        *_heavy_sql(endpoint),
    ]


def _notmeasured(endpoints: Sequence[models.EndpointResult]) -> list[models.Finding]:
    """One finding per reason, naming the endpoints it kept from being measured."""
    by_reason: dict[str, list[str]] = {}
    for endpoint in endpoints:
        reason = unmeasured(endpoint)
        if reason:
            by_reason.setdefault(reason, []).append(endpoint.name)
    return [
        _bottleneck(
            NOT_MEASURED,
            ", ".join(names),
            f"{len(names)} of {len(endpoints)} endpoints not measured: {reason}",
            f"Not measured: {', '.join(names)}",
        )
        for reason, names in by_reason.items()
    ]


def _resource_bottlenecks(
    summary: ResourceSummary, limit: dict[str, float], cpu_count: int
) -> list[models.Finding]:
    found = []
    if summary.rss_growth_mb >= limit["MEMORY_GROWTH_MB"]:
        found.append(
            _bottleneck(
                MEMORY_GROWTH,
                "process",
                f"RSS grew {mb(summary.rss_growth_mb)} during the run "
                f"(threshold {number(limit['MEMORY_GROWTH_MB'])} MB)",
                f"min {mb(summary.rss_min_mb)}, max {mb(summary.rss_max_mb)}, trend "
                f"{summary.rss_slope_mb_per_min:+.2f} MB/min over {summary.duration_s:.1f} s "
                f"({summary.samples} samples)",
            )
        )
    if summary.cpu_mean_pct >= limit["CPU_PERCENT_AVG"]:
        found.append(
            _bottleneck(
                CPU_HIGH,
                "process",
                f"CPU averaged {percent(summary.cpu_mean_pct)} of {quantity(cpu_count, 'core')} "
                f"(threshold {number(limit['CPU_PERCENT_AVG'])}%)",
                f"mean {percent(summary.cpu_mean_pct)}, max {percent(summary.cpu_max_pct)} "
                f"over {quantity(summary.samples - 1, 'reading')}",
            )
        )
    return found


def _bottlenecks(
    run: models.Run, endpoints: Sequence[models.EndpointResult], summary: ResourceSummary | None
) -> list[models.Finding]:
    limit = thresholds.limits(run)
    found = _login_failures(run)
    for endpoint in measured(endpoints):
        found += _endpoint_bottlenecks(endpoint, limit["RESPONSE_TIME_P95_MS"])
    if not thresholds.resource_gap(run, summary):
        found += _resource_bottlenecks(summary, limit, run.resource_cpu_count)
    return found + _notmeasured(endpoints)


def _totals(endpoints: Sequence[models.EndpointResult]) -> models.Finding:
    measured_count = len(measured(endpoints))
    requests = sum(e.requests for e in endpoints)
    if not requests:
        return key("key.totals", "run", f"No request was measured ({len(endpoints)} planned)")
    ok = sum(e.ok for e in endpoints)
    return key(
        "key.totals",
        "run",
        f"{requests} requests to {measured_count} of {len(endpoints)} endpoints; {ok} "
        f"({ok / requests:.1%}) answered as expected",
        f"{requests - ok} requests answered otherwise",
    )


def _extreme(rule: str, word: str, endpoint: models.EndpointResult) -> models.Finding:
    return key(
        rule,
        endpoint.name,
        f"{word} endpoint by p95: {endpoint.name} at {ms(endpoint.p95_ms)}",
        f"p50 {ms(endpoint.p50_ms)}, p99 {ms(endpoint.p99_ms)} over {endpoint.requests} requests",
    )


def _latency_extremes(endpoints: Sequence[models.EndpointResult]) -> list[models.Finding]:
    """The slowest endpoint by p95 and, when two or more were measured, the fastest."""
    ranked = sorted(measured(endpoints), key=lambda e: e.p95_ms, reverse=True)
    if not ranked:
        return []
    found = [_extreme("key.highest_p95", "Slowest", ranked[0])]
    if len(ranked) >= 2:
        found.append(_extreme("key.lowest_p95", "Fastest", ranked[-1]))
    return found


def _most_queries(endpoints: Sequence[models.EndpointResult]) -> list[models.Finding]:
    captured = [e for e in measured(endpoints) if e.sql_captured and e.queries_total]
    if not captured:
        return []
    top = max(captured, key=lambda e: e.queries_mean)
    return [
        key(
            "key.most_queries",
            top.name,
            f"Most queries per request: {top.name} with {top.queries_mean:.1f} on average "
            f"(max {top.queries_max})",
        )
    ]


def _resource_trend(run: models.Run, summary: ResourceSummary | None) -> list[models.Finding]:
    if thresholds.resource_gap(run, summary):
        return []
    return [
        key(
            "key.resources",
            "process",
            f"RSS changed by {summary.rss_growth_mb:+.1f} MB "
            f"({summary.rss_slope_mb_per_min:+.2f} MB/min) over {summary.duration_s:.1f} s; "
            f"CPU averaged {percent(summary.cpu_mean_pct)} of "
            f"{quantity(run.resource_cpu_count, 'core')}",
            f"RSS {mb(summary.rss_min_mb)} to {mb(summary.rss_max_mb)}, "
            f"CPU max {percent(summary.cpu_max_pct)}, {summary.samples} samples",
        )
    ]


def _status(run: models.Run, endpoints: Sequence[models.EndpointResult]) -> list[models.Finding]:
    if run.status == models.Run.Status.INTERRUPTED:
        done = sum(e.requests for e in endpoints)
        planned = sum(e.planned for e in endpoints)
        return [
            key(
                "key.interrupted",
                "run",
                f"The run was interrupted: {done} of {planned} planned requests were made",
            )
        ]
    if run.status == models.Run.Status.FAILED:
        return [key("key.failed", "run", f"The run failed: {run.failure or 'no reason stored'}")]
    return []


def _key_findings(
    run: models.Run, endpoints: Sequence[models.EndpointResult], summary: ResourceSummary | None
) -> list[models.Finding]:
    return [
        *_status(run, endpoints),
        _totals(endpoints),
        *_latency_extremes(endpoints),
        *_most_queries(endpoints),
        *_resource_trend(run, summary),
    ]


def analyze(run: models.Run) -> list[models.Finding]:
    """Threshold checks, then bottlenecks, then key findings, unsaved and in report order.

    The endpoint rules read the sequential pass only (phase "sequential"); the load levels
    have their own rules in ``concurrency``, which follow the endpoint rules of each kind.
    """
    endpoints = list(run.endpoints.filter(phase="sequential"))
    levels = list(run.levels.all())
    summary = summarize(run.resource_samples.all(), run.resource_cpu_count)
    return [
        *thresholds.evaluate(run),
        *_bottlenecks(run, endpoints, summary),
        *concurrency.bottlenecks(levels),
        *_key_findings(run, endpoints, summary),
        *concurrency.key_findings(levels),
    ]
