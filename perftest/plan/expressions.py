"""Threshold expressions, k6-style: ``p95 < 500ms``, ``error_rate < 50% abort``.

The grammar, the metric names with the unit each needs, and the reading of the old
``THRESHOLDS`` dict live here, in plan/, because three layers need them and plan is the one
they may all import: the plan validates every expression before anything runs (a typo exits 2),
the measuring core gets plain abort rules from it, storage maps the dict of old stored runs to
expressions, and analysis evaluates them.

    expression := metric ["{" selector "}"] ["@" level] op number unit ["abort"]
    selector   := endpoint | endpoint "@" role | "@" role
    level      := concurrency | "*"
    op         := "<" | "<=" | ">" | ">="

``p95{Get Lessons@teacher} < 300ms`` reads the teacher's row of Get Lessons only;
``p95{@teacher} < 300ms`` every endpoint's teacher row (roles: ``IDENTITY["ROLES"]``).
``success@* >= 90%`` reads each load level, closed or open, that no ``@N`` threshold of the
same metric names: the defaults judge every level that way while ``success@10 >= 100%`` keeps
the original report's stricter rule for its own level.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

#: The units of each kind of figure, as factors to the canonical unit (ms, %, /s, MB, count).
UNITS: dict[str, dict[str, float]] = {
    "time": {"us": 0.001, "ms": 1.0, "s": 1000.0},
    "share": {"%": 1.0},
    "rate": {"/s": 1.0},
    "memory": {"KB": 1 / 1024, "MB": 1.0, "GB": 1024.0},
    "count": {"": 1.0},
}

#: Where a metric is read: a sequential endpoint (or, with ``@N``, a load level), only a load
#: level, or the measured process as a whole.
ENDPOINT, LEVEL, PROCESS = "endpoint", "level", "process"


@dataclass(frozen=True)
class MetricName:
    name: str
    kind: str
    scope: str
    #: What the report calls it, e.g. ``p95 response time``.
    label: str
    #: An endpoint figure a load level also stores (``p95@10``); SQL is counted per endpoint only.
    per_level: bool = True
    #: Read on open levels (``--rate``) only, which ``@N`` never names: a closed level has no
    #: arrival schedule to fall behind.
    open_only: bool = False
    #: Read from counted answers, so a subject without any has no figure; a level's failed
    #: workers and dropped requests are read from the level itself.
    from_answers: bool = True


METRICS: dict[str, MetricName] = {
    m.name: m
    for m in (
        *(
            MetricName(p, "time", ENDPOINT, f"{p} response time")
            for p in ("min", "p50", "p90", "p95", "p99", "max", "mean")
        ),
        MetricName("error_rate", "share", ENDPOINT, "error rate"),
        MetricName("queries_mean", "count", ENDPOINT, "queries per request (mean)", False),
        MetricName("queries_max", "count", ENDPOINT, "queries per request (max)", False),
        MetricName("success", "share", LEVEL, "success rate"),
        MetricName("rps", "rate", LEVEL, "throughput"),
        MetricName("ok_rps", "rate", LEVEL, "throughput as expected"),
        MetricName("failed_workers", "share", LEVEL, "workers failed", from_answers=False),
        MetricName(
            "dropped", "share", LEVEL, "requests dropped", open_only=True, from_answers=False
        ),
        MetricName("rss_growth", "memory", PROCESS, "RSS growth"),
        MetricName("cpu_avg", "share", PROCESS, "average CPU"),
    )
}

#: What a running level can tell between requests (counts and elapsed time; no percentiles).
ABORTABLE = ("error_rate", "success", "rps", "ok_rps")
#: An abort rule fires only once the level has this many counted answers (k6's
#: ``delayAbortEval``): three early 500s of a warming server must not stop a level.
ABORT_MIN_ANSWERS = 20

_OPS = {"<": float.__lt__, "<=": float.__le__, ">": float.__gt__, ">=": float.__ge__}
_TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+(?:\.\d+)?)|(?P<op><=|>=|<|>)|(?P<brace>\{[^}]*\}?)"
    r"|(?P<at>@)|(?P<star>\*)|(?P<unit>/s|%)|(?P<word>[A-Za-z_]\w*)|(?P<other>\S))"
)


class ExpressionError(ValueError):
    """A threshold that does not parse: the message names it and points at the bad token."""


@dataclass(frozen=True)
class Threshold:
    """One parsed threshold; ``limit`` is in the metric's canonical unit."""

    source: str
    metric: str
    op: str
    limit: float
    unit: str
    endpoint: str | None = None
    level: int | None = None
    abort: bool = False
    #: ``{…@role}``: the role whose rows it reads (None: every role's).
    role: str | None = None
    #: ``@*``: each load level that no ``@N`` threshold of the same metric names.
    other_levels: bool = False

    @property
    def name(self) -> MetricName:
        return METRICS[self.metric]

    def holds(self, value: float) -> bool:
        return _OPS[self.op](float(value), self.limit)


@dataclass(frozen=True)
class AbortRule:
    """Plain data for the harness: stop a level once ``metric`` breaks ``op limit``."""

    source: str
    metric: str
    op: str
    limit: float
    unit: str
    level: int | None = None

    def applies_to(self, concurrency: int) -> bool:
        return self.level is None or self.level == concurrency

    def breach(self, requests: int, ok: int, elapsed_s: float) -> str:
        """Why and when the level must stop, or "" while the rule holds or cannot judge yet."""
        if requests < ABORT_MIN_ANSWERS or elapsed_s <= 0:
            return ""
        value = level_reading(self.metric, requests, ok, elapsed_s)
        if _OPS[self.op](value, self.limit):
            return ""
        negated = {"<": "≥", "<=": ">", ">": "≤", ">=": "<"}[self.op]
        unit = f" {self.unit}" if self.unit else ""
        return (
            f"{self.metric} {value:.1f}{unit} {negated} {self.limit:g}{unit} after "
            f"{elapsed_s:.1f} s, {requests} answers ({self.source})"
        )


def level_reading(metric: str, requests: int, ok: int, elapsed_s: float) -> float:
    """An abortable metric from a level's running counts."""
    return {
        "error_rate": 100 * (requests - ok) / requests if requests else 0.0,
        "success": 100 * ok / requests if requests else 0.0,
        "rps": requests / elapsed_s if elapsed_s else 0.0,
        "ok_rps": ok / elapsed_s if elapsed_s else 0.0,
    }[metric]


def _fail(source: str, position: int, message: str) -> ExpressionError:
    caret = " " * position + "^"
    return ExpressionError(f"threshold {source!r}: {message}\n  {source}\n  {caret}")


def parse(source: str) -> Threshold:
    """One expression, or ``ExpressionError`` with a caret under the bad token."""
    endpoint: str | None = None
    tokens = [
        (m.lastgroup, m.group(m.lastgroup), m.start(m.lastgroup)) for m in _TOKEN.finditer(source)
    ]
    tokens.append(("end", "", len(source.rstrip())))
    position = 0

    def take(*kinds: str, what: str) -> tuple[str, int]:
        nonlocal position
        kind, text, at = tokens[position]
        if kind not in kinds:
            found = f"{text!r}" if text else "the end"
            raise _fail(source, at, f"expected {what}, found {found}")
        position += 1
        return text, at

    def peek() -> str:
        return tokens[position][0]

    metric, at = take("word", what="a metric name")
    if metric not in METRICS:
        raise _fail(source, at, f"unknown metric {metric!r}; known: {', '.join(METRICS)}")
    name = METRICS[metric]
    role: str | None = None
    if peek() == "brace":
        text, brace_at = take("brace", what="{endpoint}")
        if not text.endswith("}") or not text[1:-1].strip():
            raise _fail(source, brace_at, "an endpoint is written {Endpoint name}")
        endpoint, role = _selector(text[1:-1])
        if endpoint is None and role is None or role == "":
            raise _fail(source, brace_at, "a role is written {Endpoint name@role} or {@role}")
        if name.scope != ENDPOINT:
            raise _fail(
                source, brace_at, f"{metric} is measured per {name.scope}, not per endpoint"
            )
    level, other_levels = None, False
    if peek() == "at":
        _, at_at = take("at", what="@")
        text, number_at = take("number", "star", what="a concurrency (or *) after @")
        if name.scope == PROCESS:
            raise _fail(source, at_at, f"{metric} is measured for the whole process, not per level")
        if not name.per_level:
            raise _fail(source, at_at, f"{metric} is counted per endpoint, not per level")
        if endpoint is not None or role is not None:
            raise _fail(
                source, at_at, "a level threshold reads the whole level, not one endpoint or role"
            )
        other_levels = text == "*"
        if not other_levels and name.open_only:
            raise _fail(
                source,
                number_at,
                f"{metric} is read on open levels (--rate), which @N does not name; "
                f"write {metric}@* or {metric} for every open level",
            )
        if not other_levels and ("." in text or int(text) < 1):
            raise _fail(
                source, number_at, "a level is a whole number of concurrent workers, or * for each"
            )
        level = None if other_levels else int(text)
    op, _ = take("op", what="a comparison (<, <=, >, >=)")
    number, _ = take("number", what="a number")
    kind, unit, unit_at = tokens[position]
    units = UNITS[name.kind]
    if kind in ("word", "unit") and unit in units and unit:
        position += 1
    elif "" in units:
        unit = ""
    else:
        wanted = ", ".join(units)
        found = f"{unit!r}" if unit else "no unit"
        raise _fail(
            source, unit_at, f"{metric} is a {name.kind} and needs a unit ({wanted}), found {found}"
        )
    abort = peek() == "word" and tokens[position][1] == "abort"
    if abort:
        _, abort_at = take("word", what="abort")
        if metric not in ABORTABLE:
            raise _fail(
                source, abort_at, f"only {', '.join(ABORTABLE)} can abort a level, not {metric}"
            )
        if other_levels:
            raise _fail(
                source,
                abort_at,
                "an abort rule without @ already watches every level; @* is for checks after them",
            )
    take("end", what="the end of the threshold")
    return Threshold(
        source=source.strip(),
        metric=metric,
        op=op,
        limit=float(number) * units[unit],
        unit={"time": "ms", "memory": "MB"}.get(name.kind, unit),
        endpoint=endpoint,
        level=level,
        abort=abort,
        role=role,
        other_levels=other_levels,
    )


def _selector(text: str) -> tuple[str | None, str | None]:
    """``Get Lessons@teacher`` as (endpoint, role); no ``@``: no role; ``@teacher``: every
    endpoint of that role; an empty role ("Get Lessons@") is "" for the caller to refuse."""
    name, at, role = text.rpartition("@")
    if not at:
        return text.strip(), None
    return name.strip() or None, role.strip()


def sources(setting: Sequence[str] | Mapping[str, Sequence[str] | float]) -> tuple[str, ...]:
    """``PERFTEST["THRESHOLDS"]`` as expression texts, endpoint keys written ``metric{name}``.

    A list is global; a dict holds lists under endpoint names (``"*"``: every endpoint); the
    old dict of numbers (``RESPONSE_TIME_P95_MS``..., or ``{}``: its defaults) is read as its
    equivalent expressions. An empty list sets no threshold.
    """
    if isinstance(setting, Mapping) and set(setting) <= set(LEGACY_DEFAULTS):
        return from_legacy(setting)
    if isinstance(setting, str) or not isinstance(setting, (Mapping, list, tuple)):
        raise ExpressionError(
            "PERFTEST['THRESHOLDS'] must be a list of expressions such as 'p95 < 500ms', or a "
            "dict of such lists under endpoint names"
        )
    scoped = setting.items() if isinstance(setting, Mapping) else [("*", setting)]
    texts = []
    for key, expressions in scoped:
        if isinstance(expressions, str) or not isinstance(expressions, (list, tuple)):
            raise ExpressionError(f"PERFTEST['THRESHOLDS'][{key!r}] must be a list of expressions")
        for text in expressions:
            if not isinstance(text, str):
                raise ExpressionError(f"threshold {text!r} is not a string expression")
            texts.append(text if key == "*" else _scoped(text, key))
    return tuple(texts)


def _scoped(text: str, endpoint: str) -> str:
    """``p95 < 300ms`` listed under ``Get Lessons`` as ``p95{Get Lessons} < 300ms``."""
    match = re.match(r"\s*([A-Za-z_]\w*)", text)
    if not match:
        return text
    return f"{match.group(1)}{{{endpoint}}}{text[match.end() :]}"


#: The old dict's defaults, for stored runs and host settings that hold only some keys.
LEGACY_DEFAULTS = {
    "RESPONSE_TIME_P95_MS": 2000,
    "MEMORY_GROWTH_MB": 100,
    "CPU_PERCENT_AVG": 80,
    "CONCURRENCY_ALL_OK": 10,
    "CONCURRENCY_MOSTLY_OK": 30,
    "CONCURRENCY_MOSTLY_OK_RATE": 90,
}


def _g(value: float) -> str:
    return f"{value:g}"


def from_legacy(limits: Mapping[str, float]) -> tuple[str, ...]:
    """The old ``THRESHOLDS`` dict (defaults filling missing keys) as the same five checks."""
    for key, value in limits.items():
        if key not in LEGACY_DEFAULTS:
            known = ", ".join(LEGACY_DEFAULTS)
            raise ExpressionError(
                f"PERFTEST['THRESHOLDS'] has an unknown key {key!r}; known: {known}"
            )
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ExpressionError(f"PERFTEST['THRESHOLDS'][{key!r}] must be a positive number")
    limit = {**LEGACY_DEFAULTS, **limits}
    return (
        f"p95 < {_g(limit['RESPONSE_TIME_P95_MS'])}ms",
        f"rss_growth < {_g(limit['MEMORY_GROWTH_MB'])}MB",
        f"cpu_avg < {_g(limit['CPU_PERCENT_AVG'])}%",
        f"success@{int(limit['CONCURRENCY_ALL_OK'])} >= 100%",
        f"success@{int(limit['CONCURRENCY_MOSTLY_OK'])} >= "
        f"{_g(limit['CONCURRENCY_MOSTLY_OK_RATE'])}%",
    )


def parse_all(
    texts: Iterable[str],
    endpoints: Iterable[str] | None = None,
    roles: Iterable[str] | None = None,
) -> tuple[Threshold, ...]:
    """Every expression parsed; with ``endpoints`` (``roles``), one naming another endpoint
    (role) is an error."""
    parsed = tuple(parse(text) for text in texts)
    if roles is not None:
        _known_roles(parsed, list(roles))
    if endpoints is not None:
        known = list(endpoints)
        for threshold in parsed:
            if threshold.endpoint is not None and threshold.endpoint not in known:
                at = threshold.source.index("{") + 1
                raise _fail(
                    threshold.source,
                    at,
                    f"unknown endpoint {threshold.endpoint!r}; known: {', '.join(known)}",
                )
    return parsed


def _known_roles(parsed: Iterable[Threshold], known: list[str]) -> None:
    """A role selector must name a role of ``IDENTITY["ROLES"]``; the caret points at it."""
    for threshold in parsed:
        if threshold.role is not None and threshold.role not in known:
            at = threshold.source.index("}") - len(threshold.role)
            listed = ", ".join(known) or "none (PERFTEST['IDENTITY']['ROLES'] is empty)"
            raise _fail(threshold.source, at, f"unknown role {threshold.role!r}; known: {listed}")


def legacy_limits(parsed: Iterable[Threshold]) -> dict[str, float]:
    """The old dict's figures as the expressions set them (defaults where none does), for
    the rules and methodology lines that quote a limit."""
    limit = dict(LEGACY_DEFAULTS)
    for t in parsed:
        if t.endpoint is not None or t.role is not None or t.abort:
            continue
        if t.metric == "p95" and t.op == "<" and t.level is None:
            limit["RESPONSE_TIME_P95_MS"] = t.limit
        elif t.metric == "rss_growth" and t.op == "<":
            limit["MEMORY_GROWTH_MB"] = t.limit
        elif t.metric == "cpu_avg" and t.op == "<":
            limit["CPU_PERCENT_AVG"] = t.limit
        elif t.metric == "success" and t.op == ">=" and t.level is not None:
            if t.limit >= 100:
                limit["CONCURRENCY_ALL_OK"] = t.level
            else:
                limit["CONCURRENCY_MOSTLY_OK"] = t.level
                limit["CONCURRENCY_MOSTLY_OK_RATE"] = t.limit
    return limit


def abort_rules(parsed: Iterable[Threshold]) -> tuple[AbortRule, ...]:
    return tuple(
        AbortRule(t.source, t.metric, t.op, t.limit, t.unit, t.level) for t in parsed if t.abort
    )
