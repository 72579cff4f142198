"""Threshold expressions evaluated on a stored run, read as plain sentences like k6's.

Each expression (``plan.expressions``) gives one check per subject it reads: per sequentially
measured endpoint, per load level of the named concurrency, per level no ``@N`` of its metric
names (``@*``), or for the measured process.

A check without data is neither passed nor failed: it is stored with ``passed=None`` and the
reason, so a run where nothing was measured can never look green.

A capacity search (``--capacity``) overshoots on purpose: the steps that failed above the
capacity it found are probes of where the limit is, not levels the run was meant to hold. A
check that names no level (``@*``, and an abort rule watching every level) leaves those probes
out (``capacity.probes``), so a search that did its job is not red for having found its limit;
every step that passed is judged as usual, and ``@N`` reads the level it names whatever it was.
When no step passed, no level is left out: the run met its bounds at no rate.

The login set apart (``analysis.login``) is left out of a latency check that names no
endpoint: its password hash is slow on purpose, and would make every run red on a busy
machine. A check that names it (``p95{Login} < 1500ms``), and every check of errors, still
read it.
"""

from __future__ import annotations

import math
from typing import Any

from perftest.plan.expressions import ENDPOINT, LEVEL, PROCESS, Threshold
from perftest.store.read import LevelModel, StoredRun
from perftest.store.vocabulary import unjudged
from perftest.text import error_groups, level_label, mb, number, percent, quantity

from . import capacity, metrics, summaries
from .login import under_test
from .metrics import BY_EXPRESSION, P50, P95, P99, covered, phrases
from .rules.base import THRESHOLD, Finding

RESPONSE_TIME = "threshold.response_time_p95"
MEMORY_GROWTH = "threshold.memory_growth"
CPU_AVG = "threshold.cpu_avg"
CONCURRENCY_ALL_OK = "threshold.concurrency_all_ok"
CONCURRENCY_MOSTLY_OK = "threshold.concurrency_mostly_ok"

#: The ``actual`` of a check that should have been measured and could not be: it makes the
#: run red (``verdict``). A check about a level the run did not plan is "not evaluated".
NOT_MEASURED = "not measured"
NOT_EVALUATED = "not evaluated"


_SIGN = {"<": "<", "<=": "≤", ">": ">", ">=": "≥"}


def _check(rule: str, subject: str, title: str, target: str, **outcome: Any) -> Finding:
    return Finding(THRESHOLD, rule, subject, title, target=target, **outcome)


def _limit(threshold: Threshold) -> str:
    """``< 2000 ms``, ``< 80%``, ``> 50 req/s``, ``< 20``: the limit in its canonical unit."""
    unit = {"ms": " ms", "MB": " MB", "%": "%", "/s": " req/s"}.get(threshold.unit, "")
    return f"{_SIGN[threshold.op]} {number(threshold.limit)}{unit}"


def _judged(
    rule: str, subject: str, title: str, threshold: Threshold, figures: Any, **rest: Any
) -> Finding:
    """A check with figures: the metric's value against the threshold."""
    metric = BY_EXPRESSION[threshold.metric]
    return _check(
        rule,
        subject,
        title,
        _limit(threshold),
        actual=metric.text(figures),
        passed=threshold.holds(metric.of(figures)),
        **rest,
    )


def _rule(threshold: Threshold) -> str:
    """The default checks keep the rule ids of the original report's (its two level checks
    were ``success@N``; ``success@*`` is a check of its own)."""
    if threshold.metric == "success" and threshold.op == ">=" and threshold.level is not None:
        return CONCURRENCY_ALL_OK if threshold.limit >= 100 else CONCURRENCY_MOSTLY_OK
    return {"p95": RESPONSE_TIME, "rss_growth": MEMORY_GROWTH, "cpu_avg": CPU_AVG}.get(
        threshold.metric, f"threshold.{threshold.metric}"
    )


def _gap(threshold: Threshold, figures: Any) -> str:
    """Why an endpoint or level has no figure for this metric ("" when it has one): latency
    needs answers as expected, a level's failed workers and dropped requests only the level
    itself, the other figures a counted request."""
    if BY_EXPRESSION[threshold.metric].unit == "ms":
        return unjudged(figures)
    if figures.requests or not threshold.name.from_answers:
        return ""
    return "no request completed"


def _read_by(stored: StoredRun, threshold: Threshold) -> list[Any]:
    """The sequential rows a check reads: a latency check naming no endpoint reads those under
    test (the login set apart), every other check every row."""
    if threshold.endpoint is None and threshold.name.kind == "time":
        return under_test(stored.sequential, stored)
    return list(stored.sequential)


def _endpoints(stored: StoredRun, threshold: Threshold) -> list[Finding]:
    """One check per sequentially measured endpoint (or the one named); NOT MEASURED when
    there were no answers to read it from, NOT EVALUATED when the named one was not planned."""
    rule, limit, label = _rule(threshold), _limit(threshold), threshold.name.label
    sql = threshold.name.kind == "count"
    checks = []
    for endpoint in _read_by(stored, threshold):
        if threshold.endpoint not in (None, endpoint.name):
            continue
        if threshold.role not in (None, endpoint.role):
            continue
        title = f"{label} of {endpoint.label} {limit}"
        gap = _gap(threshold, endpoint) or (
            "SQL is captured in-process only; this endpoint was measured over HTTP"
            if sql and not endpoint.sql_captured
            else ""
        )
        if gap:
            outcome = {"actual": NOT_MEASURED, "passed": None, "evidence": gap}
            checks.append(_check(rule, endpoint.label, title, limit, **outcome))
            continue
        evidence = f"{phrases(endpoint, P50, P95, P99)} over {covered(endpoint)}"
        checks.append(_judged(rule, endpoint.label, title, threshold, endpoint, evidence=evidence))
    if (threshold.endpoint is not None or threshold.role is not None) and not checks:
        name = _selected(threshold)
        outcome = {
            "actual": NOT_EVALUATED,
            "passed": None,
            "evidence": f"{name} was not among this run's endpoints",
        }
        checks.append(_check(rule, name, f"{label} of {name} {limit}", limit, **outcome))
    return checks


def _selected(threshold: Threshold) -> str:
    """What a scoped threshold names, as rows are labelled: ``Get Lessons (teacher)``, or
    ``every endpoint (teacher)`` for a role alone."""
    name = threshold.endpoint or "every endpoint"
    return f"{name} ({threshold.role})" if threshold.role is not None else name


def _process(stored: StoredRun, threshold: Threshold) -> list[Finding]:
    """RSS growth or average CPU of the measured process, from the resource samples."""
    summary = summaries.resources(stored)
    gap = summaries.resource_gap(stored, summary)
    rule = _rule(threshold)
    if threshold.metric == "rss_growth":
        title = f"RSS growth of {summaries.measured_process(stored)} {_limit(threshold)}"
        evidence = gap or (
            f"RSS last minus first sample over {summary.duration_s:.1f} s "
            f"({summary.samples} samples); peak {mb(summary.rss_max_mb)}"
        )
    else:
        cpu_count = stored.row.resource_cpu_count
        cores = quantity(cpu_count, "core")
        title = f"Average CPU of the measured process {_limit(threshold)} of all {cores}"
        evidence = gap or (
            f"mean {metrics.CPU_AVG.text(summary)}, max {percent(summary.cpu_max_pct)} of "
            f"{cores} over {quantity(summary.samples - 1, 'reading')} "
            "(the first reading, always 0, is left out)"
        )
    if gap:
        return [
            _check(
                rule,
                "process",
                title,
                _limit(threshold),
                actual=NOT_MEASURED,
                passed=None,
                evidence=gap,
            )
        ]
    return [_judged(rule, "process", title, threshold, summary, evidence=evidence)]


def _share(ok: int, requests: int) -> str:
    """ok/requests in percent, rounded down: 899 of 1000 reads 89.9%, never a passing 90.0%."""
    return percent(math.floor(1000 * ok / requests) / 10)


def _level_title(threshold: Threshold, subject: str) -> tuple[str, str]:
    """The title and target; success keeps the original report's sentences."""
    if threshold.metric == "success" and threshold.op == ">=":
        if threshold.limit >= 100:
            return f"{subject}: all requests succeed", "100%"
        rate = number(threshold.limit)
        return f"{subject}: ≥ {rate}% succeed", f"≥ {rate}%"
    return f"{subject}: {threshold.name.label} {_limit(threshold)}", _limit(threshold)


def _which(level: Any) -> str:
    """``10-concurrent`` for a closed level, its label for an open one."""
    if level.model == LevelModel.CLOSED:
        return f"{level.concurrency}-concurrent"
    return level_label(level)


def _level_check(threshold: Threshold, level: Any, subject: str) -> Finding:
    rule = _rule(threshold)
    title, target = _level_title(threshold, subject)
    gap = _gap(threshold, level)
    if gap and not level.requests:
        gap = f"the {_which(level)} level completed no request"
    if gap:
        return _check(rule, subject, title, target, actual=NOT_MEASURED, passed=None, evidence=gap)
    evidence = _level_evidence(threshold, level)
    metric = BY_EXPRESSION[threshold.metric]
    value = metric.of(level)
    actual = (
        _share(level.ok, level.requests) if threshold.metric == "success" else metric.text(level)
    )
    passed = (
        level.ok * 100 >= threshold.limit * level.requests
        if threshold.metric == "success" and threshold.op == ">="
        else threshold.holds(value)
    )
    if threshold.abort and level.aborted and threshold.source in level.aborted:
        passed, evidence = False, f"the level was stopped early: {level.aborted}; {evidence}"
    return _check(rule, subject, title, target, actual=actual, passed=passed, evidence=evidence)


#: How many failure lines a failed-workers check quotes (the finding lists them all).
QUOTED_FAILURES = 3


def _level_evidence(threshold: Threshold, level: Any) -> str:
    """What the check read: the level's answers, its failed workers, or its schedule."""
    if threshold.metric == "failed_workers":
        failed = metrics.failed_workers(level)
        quoted = "; ".join(failed[:QUOTED_FAILURES])
        more = len(failed) - QUOTED_FAILURES
        if more > 0:
            quoted += f"; and {more} more"
        return f"{len(failed)} of {quantity(level.concurrency, 'worker')} failed" + (
            f": {quoted}" if failed else ""
        )
    if threshold.metric == "dropped":
        return (
            f"{level.dropped} of {level.planned_requests} scheduled requests were dropped (no "
            f"worker was free before the level's window ended); {level.requests} sent, "
            f"{level.late} late"
        )
    return (
        f"{level.ok} of {level.requests} requests answered as expected over "
        f"{level.transport}; errors: {error_groups(level.errors) or 'none'}"
    )


def _reads(threshold: Threshold, level: Any, named: set[int]) -> bool:
    """Whether a threshold without ``@N`` reads this level: an open-only metric reads open
    levels only; ``@*`` leaves out the closed levels an ``@N`` of its metric names."""
    if level.model == LevelModel.OPEN:
        return True
    return not threshold.name.open_only and not (
        threshold.other_levels and level.concurrency in named
    )


def _levels(stored: StoredRun, threshold: Threshold) -> list[Finding]:
    """One check per load level of the named concurrency (closed model), or per level when
    none is named (``@*``: per level no ``@N`` of the same metric names, and no capacity
    search's probe beyond the capacity it found); NOT EVALUATED when the run planned no such
    level."""
    if not stored.levels and not stored.plan.load.concurrency:
        return []
    if threshold.level is None:
        named = {
            other.level
            for other in stored.expressions
            if other.metric == threshold.metric and other.level is not None
        }
        probes = capacity.probes(stored)
        return [
            _level_check(threshold, level, level_label(level))
            for level in stored.levels
            if _reads(threshold, level, named) and level.position not in probes
        ]
    subject = f"{threshold.level} concurrent"
    matching = [
        level
        for level in stored.levels
        if level.model == LevelModel.CLOSED and level.concurrency == threshold.level
    ]
    if matching:
        return [_level_check(threshold, level, subject) for level in matching]
    title, target = _level_title(threshold, subject)
    reason = f"no {threshold.level}-concurrent level was run"
    stopped = [level.aborted for level in stored.levels if level.aborted]
    if stopped:
        reason += f" (an abort rule stopped the run's levels: {stopped[0]})"
    return [
        _check(
            _rule(threshold),
            subject,
            title,
            target,
            actual=NOT_EVALUATED,
            passed=None,
            evidence=reason,
        )
    ]


def concurrency(stored: StoredRun) -> list[Finding]:
    """The checks of the level-scoped expressions, when the run ran or planned load levels;
    an abort rule without ``@N`` watched every level, so every level is judged by it."""
    return [
        check
        for threshold in stored.expressions
        if threshold.level is not None
        or threshold.other_levels
        or threshold.name.scope == LEVEL
        or threshold.abort
        for check in _levels(stored, threshold)
    ]


def _per_endpoint(threshold: Threshold) -> bool:
    """An endpoint metric read on the sequential rows: one that names no level (``@N``, ``@*``)."""
    return threshold.level is None and not threshold.other_levels


def evaluate(stored: StoredRun) -> list[Finding]:
    """Every expression's checks, in the order written; per-endpoint and process ones first,
    as the original report listed them, then the load levels'."""
    checks: list[Finding] = []
    for threshold in stored.expressions:
        if threshold.name.scope == PROCESS:
            checks += _process(stored, threshold)
        elif threshold.name.scope == ENDPOINT and _per_endpoint(threshold):
            checks += _endpoints(stored, threshold)
    return checks + concurrency(stored)
