"""Rules over the sequential pass and the run as a whole: logins, answers, latency, SQL; the
bottlenecks they find and the key facts of the run (resources have ``rules.resources``).

Each rule fires only when its condition holds on the stored numbers, and builds its sentence
from those numbers; nothing here is a canned conclusion.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from perftest import sqlnorm
from perftest.store.read import Status, StoredRun
from perftest.store.vocabulary import unmeasured
from perftest.text import ms, number

from .. import summaries
from ..login import hash_share, is_login, password_hash, under_test
from ..metrics import (
    MAX,
    MEAN,
    MIN,
    P50,
    P95,
    P99,
    QUERIES_MAX,
    QUERIES_MEAN,
    SQL_SHARE,
    covered,
    phrases,
)
from .base import (
    BOTTLENECK,
    ENDPOINT,
    ERROR_GROUP,
    KEY,
    REGISTRY,
    RUN,
    Finding,
    asked_to_wait,
    bottleneck,
    endpoint_rule,
    key,
    own_throttles,
    retry_afters,
    throttle_advice,
    throttle_text,
)
from .configuration import refused_token

LOGIN_FAILED = "bottleneck.login_failed"
SERVER_ERROR = "bottleneck.server_error"
CLIENT_ERROR = "bottleneck.client_error"
RATE_LIMITED = "bottleneck.rate_limited"
UNEXPECTED_STATUS = "bottleneck.unexpected_status"
CONNECTION_ERROR = "bottleneck.connection_error"
SLOW_ENDPOINT = "bottleneck.slow_endpoint"
N_PLUS_ONE = "bottleneck.n_plus_one"
HEAVY_SQL = "bottleneck.heavy_sql"
NOT_MEASURED = "bottleneck.not_measured"
INTERRUPTED = "key.interrupted"
FAILED = "key.failed"
TOTALS = "key.totals"
HIGHEST_P95 = "key.highest_p95"
LOWEST_P95 = "key.lowest_p95"
MOST_QUERIES = "key.most_queries"
LOGIN_HASH = "key.login_hash"


def _login_outcome(attempt: dict) -> str:
    """``HTTP 401: <reason>``, naming the status once: a reason may start with it already."""
    status = f"HTTP {attempt['status']}" if attempt["status"] is not None else "no response"
    reason = attempt["reason"]
    return reason if reason.startswith(status) else f"{status}: {reason}"


@endpoint_rule(LOGIN_FAILED, BOTTLENECK, RUN, "failed logins")
def _login_failures(stored: StoredRun) -> list[Finding]:
    logins = stored.row.logins
    failed = [attempt for attempt in logins if not attempt["ok"]]
    if not failed:
        return []
    outcomes = Counter(_login_outcome(attempt) for attempt in failed)
    evidence = "; ".join(f"{outcome} (×{n})" for outcome, n in outcomes.items())
    return [
        bottleneck(
            LOGIN_FAILED,
            "login",
            f"Login failed for {len(failed)} of {len(logins)} attempts",
            evidence,
            _login_advice(stored),
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


def _login_advice(stored: StoredRun) -> str:
    return (
        f"Check PERFTEST['LOGIN'] (PATH, METHOD, BODY, TOKEN_PATH) against "
        f"{stored.login_endpoint}, and that perftest's identities can log in there."
    )


def _throttled(endpoint: Any, group: dict, share: str, stored: StoredRun) -> Finding:
    """An endpoint's 429s, named as its view's own throttle when one can have sent them."""
    waits = retry_afters(endpoint, [group["reason"]])
    own = " or ".join(map(throttle_text, own_throttles(stored, endpoint.name, waits)))
    by = f" by its view's own throttle {own}" if own else ""
    limit = f"its view's own throttle {own}" if own else "the platform's rate limit"
    asked = asked_to_wait(waits)
    example = f" Example: {group['example']}" if group["example"] else ""
    return bottleneck(
        RATE_LIMITED,
        endpoint.label,
        f"{endpoint.label} was throttled{by}: {group['reason']} for {share}",
        f"The run measured {limit}, not the work of {endpoint.method} {endpoint.path}."
        + (f" {asked}" if asked else "")
        + example,
    )


def _error_group(rule_id: str):
    """The check of one error rule: a finding for each error group that falls under it.

    A client error of the login endpoint itself is a login problem, and gets the login
    advice, so the report recommends it once for both.
    """

    def check(endpoint: Any, group: dict, stored: StoredRun) -> list[Finding]:
        if _error_rule(group["reason"]) != rule_id:
            return []
        share = f"{group['count']} of {endpoint.requests} requests"
        example = f" Example: {group['example']}" if group["example"] else ""
        if rule_id == RATE_LIMITED:
            return [_throttled(endpoint, group, share, stored)]
        if rule_id == CONNECTION_ERROR:
            title = f"{endpoint.label} got no usable response for {share}: {group['reason']}"
        else:
            title = (
                f"{endpoint.label} answered {group['reason']} instead of HTTP "
                f"{endpoint.expected_status} for {share}"
            )
        evidence = f"{endpoint.method} {endpoint.path}: {share}.{example}"
        advice = ""
        if rule_id == CLIENT_ERROR and is_login(endpoint, stored):
            advice = _login_advice(stored)
        elif rule_id == CLIENT_ERROR and (refused := refused_token(stored)) is not None:
            # Not this endpoint's permissions: the token every endpoint sends was refused.
            advice = refused.advice()
        return [bottleneck(rule_id, endpoint.label, title, evidence, advice)]

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
        throttle_advice("the endpoint"),
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
    endpoint_rule(_id, BOTTLENECK, ERROR_GROUP, _looks_for, _recommendation)(_error_group(_id))


@endpoint_rule(
    SLOW_ENDPOINT,
    BOTTLENECK,
    ENDPOINT,
    "p95 response time at or above its threshold",
)
def _slow(endpoint: Any, stored: StoredRun) -> list[Finding]:
    limit = stored.thresholds["RESPONSE_TIME_P95_MS"]
    if P95.of(endpoint) < limit:
        return []
    return [
        bottleneck(
            SLOW_ENDPOINT,
            endpoint.label,
            f"{endpoint.label} is slow: {P95.phrase(endpoint)} ≥ {number(limit)} ms",
            f"{phrases(endpoint, P50, P95, P99, MAX)} over {covered(endpoint)}",
            _slow_advice(endpoint),
        )
    ]


def _slow_advice(endpoint: Any) -> str:
    """Where a slow endpoint's time went, as far as its stored SQL says: a repeated statement,
    SQL most of the time, or Python."""
    if endpoint.duplicate_queries:
        worst = endpoint.duplicate_queries[0]["max_per_request"]
        return (
            f"Cut its repeated statement first (up to {worst} times in one request, see its "
            "N+1 finding), then measure again."
        )
    if not (endpoint.sql_captured and endpoint.judged_queries):
        return (
            "Its SQL was not captured here: profile the endpoint to see whether its time is "
            "in the database or in Python."
        )
    if SQL_SHARE.of(endpoint) >= 0.5:
        return (
            f"{SQL_SHARE.of(endpoint):.0%} of its time is SQL ({QUERIES_MEAN.text(endpoint)} "
            "queries per request): start with its queries (the Database section)."
        )
    return (
        f"Only {SQL_SHARE.of(endpoint):.0%} of its time is SQL: the rest is Python "
        "(serialisers, permissions, the functions they call); profile the endpoint to see which."
    )


@endpoint_rule(
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
            endpoint.label,
            f"{endpoint.label} runs one statement up to {group['max_per_request']} times in a "
            "request (N+1 suspect)",
            f"Up to {group['max_per_request']} times in one request; repeated in "
            f"{group['requests']} of {endpoint.requests} requests:\n{group['sql']}",
        )
        for group in endpoint.duplicate_queries
    ]


@endpoint_rule(
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
            endpoint.label,
            f"{endpoint.label} spends {SQL_SHARE.of(endpoint):.0%} of its response time in SQL",
            f"{ms(endpoint.judged_sql_ms / endpoint.judged_count)} of SQL in a mean response of "
            f"{MEAN.text(endpoint)}; {QUERIES_MEAN.text(endpoint)} queries per request "
            f"(max {QUERIES_MAX.text(endpoint)})",
        )
    ]


@endpoint_rule(
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
            by_reason.setdefault(reason, []).append(endpoint.label)
    return [
        bottleneck(
            NOT_MEASURED,
            ", ".join(names),
            f"{len(names)} of {len(stored.sequential)} endpoints not measured: {reason}",
            f"Not measured: {', '.join(names)}",
        )
        for reason, names in by_reason.items()
    ]


@endpoint_rule(INTERRUPTED, KEY, RUN, "an interrupted run")
def _interrupted(stored: StoredRun) -> list[Finding]:
    if stored.status != Status.INTERRUPTED:
        return []
    sequential = summaries.phases(stored)[0]
    done, planned = sequential.requests, sequential.planned
    return [
        key(
            INTERRUPTED,
            "run",
            f"The run was interrupted: {done} of {planned} planned requests were made",
        )
    ]


@endpoint_rule(FAILED, KEY, RUN, "a failed run")
def _failed(stored: StoredRun) -> list[Finding]:
    if stored.status != Status.FAILED:
        return []
    return [key(FAILED, "run", f"The run failed: {stored.row.failure or 'no reason stored'}")]


@endpoint_rule(TOTALS, KEY, RUN, "the requests made and how many answered as expected")
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
        endpoint.label,
        f"{word} endpoint by p95: {endpoint.label} at {P95.text(endpoint)}",
        f"{phrases(endpoint, P50, P99)} over {covered(endpoint)}",
    )


def _ranked(stored: StoredRun) -> list[Any]:
    """The endpoints under test with answers as expected, slowest p95 first: an endpoint
    answered only by a throttle or an error is never fastest, and the login, set apart, is
    never the slowest for its password hash."""
    return sorted(under_test(stored.judged, stored), key=P95.of, reverse=True)


@endpoint_rule(HIGHEST_P95, KEY, RUN, "the slowest endpoint by p95")
def _slowest(stored: StoredRun) -> list[Finding]:
    ranked = _ranked(stored)
    return [_extreme(HIGHEST_P95, "Slowest", ranked[0])] if ranked else []


@endpoint_rule(LOWEST_P95, KEY, RUN, "the fastest endpoint by p95")
def _fastest(stored: StoredRun) -> list[Finding]:
    """The fastest endpoint, when two or more were measured."""
    ranked = _ranked(stored)
    return [_extreme(LOWEST_P95, "Fastest", ranked[-1])] if len(ranked) >= 2 else []


@endpoint_rule(MOST_QUERIES, KEY, RUN, "the endpoint with most queries per request")
def _most_queries(stored: StoredRun) -> list[Finding]:
    captured = [e for e in under_test(stored.judged, stored) if e.sql_captured and e.judged_queries]
    if not captured:
        return []
    top = max(captured, key=QUERIES_MEAN.of)
    return [
        key(
            MOST_QUERIES,
            top.label,
            f"Most queries per request: {top.label} with {QUERIES_MEAN.text(top)} on average "
            f"(max {QUERIES_MAX.text(top)})",
        )
    ]


#: Login is explained by its password hash when one hash is at least this share of its fastest
#: answer. The hash is timed once; the fastest login is the one least slowed by whatever else
#: the machine ran, so the two are alike (a busy machine can double the median, not the hash).
LOGIN_HASH_SHARE = 0.5


@endpoint_rule(
    LOGIN_HASH,
    KEY,
    ENDPOINT,
    f"a login whose fastest answer is at least {LOGIN_HASH_SHARE:.0%} one password hash",
    "Keep the hasher: its cost is what protects the passwords. Design the load test around "
    "it instead: log each identity in once and reuse its token (--login once, or "
    "--identities), so the levels measure what users do after logging in, and measure login "
    "on its own at the rate users really log in.",
)
def _login_hash(endpoint: Any, stored: StoredRun) -> list[Finding]:
    """Login is slow because it hashes a password, on purpose: say so with both figures."""
    hashed, share = password_hash(stored), hash_share(endpoint, stored)
    fastest = hash_share(endpoint, stored, of=MIN)
    if not is_login(endpoint, stored) or hashed is None or share is None or fastest is None:
        return []
    if fastest < LOGIN_HASH_SHARE:
        return []
    iterations = hashed.get("iterations")
    work = f", {iterations:,} iterations" if iterations else ""
    return [
        Finding(
            KEY,
            LOGIN_HASH,
            endpoint.label,
            f"{endpoint.label} is mostly one password hash: p50 {P50.text(endpoint)}, "
            + (
                f"of which hashing the password takes {ms(hashed['ms'])}"
                if share < 1
                else f"about as long as hashing the password once ({ms(hashed['ms'])})"
            )
            + f" ({hashed['algorithm']}{work})",
            f"One password hash with the platform's hasher took {ms(hashed['ms'])} in this run: "
            f"{share:.0%} of the login's median time ({P50.text(endpoint)}) and "
            f"{fastest:.0%} of its fastest answer ({MIN.text(endpoint)}). Every login "
            "checks the password with it, slow by design.",
            REGISTRY[LOGIN_HASH].recommendation,
        )
    ]
