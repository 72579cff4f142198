"""The run's exit verdict, from its stored rows and findings: green only when nothing is red.

A run is red (exit 1) when it failed, when a threshold failed or could not be measured, when
a login failed, when a configured endpoint could not be measured, or when a configuration
finding was stored. A run that is not red but regressed against its baseline exits 3 when it
was asked to (``--fail-on-regression``, stored in its plan); red takes precedence, since the
figures of an unusable run say nothing about a regression. Without the flag, regressions are
reported but leave the exit code alone. Each reason is one line naming what made the run
fail, so a CI log says why without opening the report. Exit codes 2 (nothing could start)
and 130 (interrupted) are the command's: they are decided before a verdict exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from perftest.store.read import Status, StoredRun, unmeasured
from perftest.text import level_label, quantity

from .noise import REGRESSION
from .rules.base import BASELINE, CONFIGURATION, THRESHOLD
from .rules.levels import missing_data_text
from .thresholds import NOT_MEASURED

OK, RED, REGRESSED = 0, 1, 3


@dataclass(frozen=True)
class Verdict:
    """The exit code a run earns and, when not 0, one line per reason."""

    code: int
    reasons: tuple[str, ...]


def _by_reason(items: list[tuple[str, str]]) -> str:
    """``(name, reason)`` pairs as ``reason: name, name; reason: name``, each reason once."""
    names: dict[str, list[str]] = {}
    for name, reason in items:
        names.setdefault(reason, []).append(name)
    return "; ".join(f"{reason}: {', '.join(group)}" for reason, group in names.items())


def _failed_run(stored: StoredRun) -> list[str]:
    if stored.status != Status.FAILED:
        return []
    return [f"FAIL: the run failed: {stored.row.failure or 'no reason stored'}"]


def _thresholds(stored: StoredRun) -> list[str]:
    checks = [f for f in stored.findings if f.kind == THRESHOLD]
    failed = [f"{f.title} (actual {f.actual})" for f in checks if f.passed is False]
    unmeasurable = [
        (f.title, f.evidence) for f in checks if f.passed is None and f.actual == NOT_MEASURED
    ]
    lines = []
    if failed:
        lines.append(f"FAIL: {quantity(len(failed), 'threshold')} failed: {'; '.join(failed)}")
    if unmeasurable:
        lines.append(
            f"FAIL: {quantity(len(unmeasurable), 'threshold')} not measured: "
            f"{_by_reason(unmeasurable)}"
        )
    return lines


def _logins(stored: StoredRun) -> list[str]:
    failed = [attempt for attempt in stored.row.logins if not attempt["ok"]]
    if not failed:
        return []
    return [
        f"FAIL: login failed for {len(failed)} of {len(stored.row.logins)} attempts: "
        f"{failed[0]['reason']}"
    ]


def _in_passes(label: str, passes: list[str]) -> str:
    """``Get Conversations (HTTP pass)``, ``Get Conversations (in-process and HTTP passes)``."""
    return f"{label} ({' and '.join(passes)} {'passes' if len(passes) > 1 else 'pass'})"


def _unmeasured_endpoints(stored: StoredRun) -> list[str]:
    """Endpoints without figures, each named once per reason with the passes it missed when the
    run has two (``--mode both``): ``Get Conversations (in-process and HTTP passes)``."""
    passes: dict[tuple[str, str], list[str]] = {}
    for name, endpoints in (("in-process", stored.sequential), ("HTTP", stored.sequential_http)):
        for e in endpoints:
            if reason := unmeasured(e):
                passes.setdefault((e.label, reason), []).append(name)
    if not passes:
        return []
    both = bool(stored.sequential_http)
    missing = [
        (_in_passes(label, seen) if both else label, reason)
        for (label, reason), seen in passes.items()
    ]
    endpoints = len({label for label, _ in passes})
    return [f"FAIL: {quantity(endpoints, 'endpoint')} not measured: {_by_reason(missing)}"]


def _levels_missing_data(stored: StoredRun) -> list[str]:
    """One line per load level whose data did not all arrive (a Locust worker lost with what
    it measured): its figures describe part of the load only, so none of them can pass it."""
    return [
        f"FAIL: {level_label(level)}: {missing_data_text(level)}"
        for level in stored.levels
        if level.missing_data
    ]


def _configuration(stored: StoredRun) -> list[str]:
    return [f"FAIL: configuration: {f.title}" for f in stored.findings if f.kind == CONFIGURATION]


def _regressions(stored: StoredRun) -> list[str]:
    """One line naming every regression against the baseline, when the plan fails on them."""
    if not stored.plan.fail_on_regression:
        return []
    found = [f.title for f in stored.findings if f.kind == BASELINE and f.rule == REGRESSION]
    if not found:
        return []
    return [f"REGRESSION: {quantity(len(found), 'regression')} beyond noise: {'; '.join(found)}"]


def of(stored: StoredRun) -> Verdict:
    """The exit verdict of a stored run (findings included): 1 when red, else 3 when it
    regressed and ``--fail-on-regression`` was given, else 0."""
    reasons = [
        *_failed_run(stored),
        *_logins(stored),
        *_configuration(stored),
        *_unmeasured_endpoints(stored),
        *_levels_missing_data(stored),
        *_thresholds(stored),
    ]
    if reasons:
        return Verdict(RED, tuple(reasons))
    regressions = _regressions(stored)
    return Verdict(REGRESSED if regressions else OK, tuple(regressions))
