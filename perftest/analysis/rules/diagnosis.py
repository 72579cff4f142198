"""Rules over the diagnostic pass (``--profile``, ``--explain``): where an endpoint's time goes,
and the sequential scans its plans show on large tables.

They form their own family, read only for runs that asked for a diagnosis, so that every
other run checks (and lists as checked) exactly the rules it did before. Which profiled
endpoints count as slow is decided here once (``slow_profiled``); the report's section shows
the same ones the key findings name.

Where an endpoint's own work starts is decided here too, from the stored spines of every
profiled endpoint (``measure.diagnosis.profile``). The dispatch and middleware common to every
request are the positions where every spine holds the same function, as long as each costly
call of the function above is one that every endpoint makes (so the chain stops at the
dispatch that calls each endpoint's own handler, even when every spine went on into the same
costly authentication); one differing position between two shared ones (a class-based view's
and a viewset's entry before the same dispatch) is folded with them. The endpoint's own work
starts at the costliest call of the chain's last function that not every other endpoint makes.
With a single profiled endpoint (its rows of several roles are the same code) nothing tells
the shared chain apart, so its own work starts at the project's first function on its spine.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from perftest.store.read import StoredRun
from perftest.text import ms, percent

from ..metrics import P95
from .base import BOTTLENECK, ENDPOINT, KEY, RUN, Finding, bottleneck, key, rule

SEQ_SCAN = "bottleneck.seq_scan"
WHERE_TIME_GOES = "key.where_time_goes"

#: The family of these rules (``base.Rule.family``): read when the run asked for a diagnosis.
FAMILY = "diagnosis"

#: A sequential scan is a finding on a table of at least this many (estimated) rows: below
#: it, reading the whole table is cheap and is often the planner's best choice anyway.
LARGE_TABLE_ROWS = 10_000

#: When no profiled endpoint reaches the p95 threshold, the slowest this many by p95 are the
#: ones whose profile the report shows and the key findings name.
SLOWEST_PROFILED = 3

#: How each share of profiled time reads in a sentence.
_SHARE_WORDS = {
    "sql": "in SQL",
    "serialisation": "serialisation",
    "other": "outside SQL and serialisation",
}

#: How many functions the table of an endpoint's own work shows, and the share of the request
#: a call must take to tell two endpoints' chains apart (the profile's own ``BRANCH_SHARE``:
#: its stored branches are the calls at least that costly).
OWN_WORK_ROWS = 10
BRANCH_SHARE = 0.05

_rule = partial(rule, family=FAMILY)


def asked(stored: StoredRun) -> bool:
    """Whether the run asked for a diagnosis, so that these rules read it."""
    return bool(stored.plan.profile or stored.plan.explain)


def reaches_threshold(endpoint: Any, stored: StoredRun) -> bool:
    """Whether the endpoint's p95 is at or above the threshold (the slow-endpoint rule's test)."""
    return P95.of(endpoint) >= stored.thresholds["RESPONSE_TIME_P95_MS"]


def slow_profiled(stored: StoredRun) -> list[Any]:
    """The profiled endpoints worth showing, slowest p95 first: those that reach the p95
    threshold, else the ``SLOWEST_PROFILED`` slowest. Only endpoints with answers as expected:
    a profile of errors says nothing of speed."""
    profiled = [e for e in stored.judged if e.profile.get("requests")]
    ranked = sorted(profiled, key=P95.of, reverse=True)
    slow = [e for e in ranked if reaches_threshold(e, stored)]
    return slow or ranked[:SLOWEST_PROFILED]


def _spine(endpoint: Any) -> list[dict[str, Any]]:
    return endpoint.profile.get("spine") or []


def _identity(function: dict[str, Any]) -> tuple[str, str]:
    """What tells two stored functions apart: their names and files."""
    return function["function"], function["file"]


def _callees(place: dict[str, Any], least: float = 0.0) -> set[str]:
    """The functions a spine function called, those that took at least ``least`` of the
    request."""
    return {name for name, share in place["callees"] if share >= least}


def _chain_end(spines: list[list[dict[str, Any]]]) -> int:
    """The position of the last function of the chain common to every spine (see the
    module's note). The chain goes on through a position where every spine holds the same
    function and the function above it calls nothing costly that another endpoint's does
    not; and through one differing position between two shared ones (a wrapper)."""
    shortest = min(map(len, spines))

    def agree(position: int) -> bool:
        return position < shortest and len({_identity(s[position]) for s in spines}) == 1

    def alike(position: int) -> bool:
        """Whether every costly call of the function at ``position`` is made everywhere."""
        places = [spine[position] for spine in spines]
        costly = set().union(*(_callees(place, BRANCH_SHARE) for place in places))
        return all(costly <= _callees(place) for place in places)

    if not agree(0):
        return -1
    end = 0
    while True:
        if agree(end + 1) and alike(end):
            end += 1
        elif not agree(end + 1) and agree(end + 2):
            end += 2
        else:
            return end


@dataclass(frozen=True)
class OwnWork:
    """An endpoint's profile split where its own work starts: the spine's functions above it
    (``folded``, the chain common to every request), the function it starts at (on the spine
    or a stored branch of it) and the heaviest functions below, each with its stored share of
    the request."""

    folded: list[dict[str, Any]]
    first: dict[str, Any]
    below: list[dict[str, Any]]

    @property
    def folded_share(self) -> float:
        """The part of the request outside the endpoint's own work."""
        return self.first["outside_share"]

    @property
    def functions(self) -> list[dict[str, Any]]:
        """The function where the own work starts, then the heaviest below it by cumulative
        time; a function that took longer than the own work in all (it also ran outside it,
        such as the ORM's query for the authentication's token) is left out, as its time
        would not be the endpoint's."""
        limit = self.first["cumulative_ms"]
        below = [
            f
            for f in self.below
            if _identity(f) != _identity(self.first) and f["cumulative_ms"] <= limit
        ]
        below.sort(key=lambda f: f["cumulative_ms"], reverse=True)
        return [self.first, *below[: OWN_WORK_ROWS - 1]]

    @property
    def cause(self) -> dict[str, Any]:
        """Where most of the own work goes: of the functions shown that hold at least half of
        its time, the one with the least (the deepest of a chain of calls)."""
        half = self.first["cumulative_ms"] / 2
        return [f for f in self.functions if f["cumulative_ms"] >= half][-1]


def _split(spine: list[dict[str, Any]], start: int) -> OwnWork:
    below = [f for place in spine[start:] for f in place["heaviest"]]
    return OwnWork(spine[:start], spine[start], below)


def own_work(endpoint: Any, stored: StoredRun) -> OwnWork | None:
    """Where the endpoint's own work starts in its profile (see the module's note), or None
    for a profile stored without a spine."""
    spine = _spine(endpoint)
    if not spine:
        return None
    mine = tuple(map(_identity, spine))
    profiled = [e for e in stored.sequential if _spine(e)]
    spines = {tuple(map(_identity, _spine(e))): _spine(e) for e in profiled}
    if len(spines) < 2 or len({e.name for e in profiled}) < 2:  # one endpoint, or its roles
        host = [n for n, function in enumerate(spine) if function["category"] == "host"]
        return _split(spine, host[0] if host else 0)
    end = _chain_end(list(spines.values()))
    if end < 0:
        return _split(spine, 0)
    if end + 1 >= len(spine):
        return _split(spine, len(spine) - 1)
    # The own work starts at the costliest call of the chain's last function that not every
    # other endpoint makes: its handler, on the spine or off it.
    others = [_callees(s[end]) for key, s in spines.items() if key != mine]
    everywhere = set.intersection(*others)
    own = [name for name, _ in spine[end]["callees"] if name not in everywhere]
    branches = {branch["function"]: branch for branch in spine[end]["branches"]}
    if own and own[0] in branches:
        branch = branches[own[0]]
        return OwnWork(spine[: end + 1], branch, branch["heaviest"])
    return _split(spine, end + 1)


def index_advice(relation: str, columns: list[str]) -> str:
    """What serves a filtered sequential scan: an index on the columns its filter reads."""
    if not columns:
        return (
            f"Read fewer rows of {relation}: filter or paginate the queryset so that the "
            "statement does not need the whole table."
        )
    fields = ", ".join(f'"{name}"' for name in columns)
    return (
        f"Add an index on {relation} ({', '.join(columns)}), e.g. "
        f"models.Index(fields=[{fields}]) in the model's Meta, if the filter selects few of "
        "its rows; run with --explain again to see an index scan instead."
    )


def _scan_evidence(scan: dict[str, Any], plan: dict[str, Any]) -> str:
    rows = f"Seq Scan on {scan['relation']}, {scan['table_rows']:,} rows estimated"
    if scan["columns"]:
        rows += f": an index on ({', '.join(scan['columns'])}) would serve this filter"
    else:
        rows += ": no filter, every row is read"
    lines = [rows]
    if scan["filter"]:
        lines.append(f"Filter: {scan['filter']}")
    lines.append(f"Statement ({plan['reason']}):\n{plan['sql']}")
    return "\n".join(lines)


@_rule(
    SEQ_SCAN,
    BOTTLENECK,
    ENDPOINT,
    f"sequential scans on tables of {LARGE_TABLE_ROWS:,} rows or more (--explain)",
    "Add an index for the filter the scan applies, or read fewer rows.",
)
def _seq_scans(endpoint: Any, stored: StoredRun) -> list[Finding]:
    """One finding per large table and filter read in full by the endpoint's plans."""
    found: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for plan in endpoint.explain:
        for scan in plan.get("seq_scans", ()):
            where = (scan["relation"], scan["filter"])
            if scan["table_rows"] < LARGE_TABLE_ROWS or where in seen:
                continue
            seen.add(where)
            found.append(
                bottleneck(
                    SEQ_SCAN,
                    endpoint.label,
                    f"{endpoint.label} reads all of {scan['relation']} (Seq Scan, "
                    f"{scan['table_rows']:,} rows estimated)",
                    _scan_evidence(scan, plan),
                    index_advice(scan["relation"], scan["columns"]),
                )
            )
    return found


def _own_function(endpoint: Any) -> str:
    host = endpoint.profile.get("host") or []
    if not host:
        return "none of its time is in the project's own code"
    slowest = host[0]
    return (
        f"its slowest own function is {slowest['function']} ({ms(slowest['own_ms'])} own time "
        f"in {slowest['calls']} calls)"
    )


def _where_it_goes(endpoint: Any, stored: StoredRun) -> str:
    """Where most of the endpoint's own work goes, else (a profile stored without a spine)
    the project's function with the most own time."""
    work = own_work(endpoint, stored)
    if work is None:
        return _own_function(endpoint)
    cause = work.cause
    share = percent(100 * cause["share"])
    return f"most of its own work is in {cause['function']} ({share} of the request)"


@_rule(WHERE_TIME_GOES, KEY, RUN, "where the time of the slow profiled endpoints goes")
def _where_time_goes(stored: StoredRun) -> list[Finding]:
    """For each slow profiled endpoint: its largest share of profiled time and where most of
    its own work goes; the evidence names the project's function with the most own time."""
    found = []
    for endpoint in slow_profiled(stored):
        profile = endpoint.profile
        shares = profile["shares"]
        largest = max(_SHARE_WORDS, key=lambda name: shares.get(name, 0.0))
        found.append(
            key(
                WHERE_TIME_GOES,
                endpoint.label,
                f"{shares[largest]:.0%} of {endpoint.label}'s profiled time is "
                f"{_SHARE_WORDS[largest]}; {_where_it_goes(endpoint, stored)}",
                f"SQL {percent(100 * shares['sql'])}, serialisation "
                f"{percent(100 * shares['serialisation'])}, the rest "
                f"{percent(100 * shares['other'])} of {ms(profile['total_ms'])} over "
                f"{profile['requests']} profiled requests; the project's own code "
                f"{percent(100 * profile['origins'].get('host', 0.0))}; "
                f"{_own_function(endpoint)}",
            )
        )
    return found
