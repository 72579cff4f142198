"""The run's verdict, from its stored rows and findings: green only when nothing is red.

A run is red (exit 1) when it failed or was abandoned, when a threshold failed or could not be
measured, when a login failed, when a configured endpoint could not be measured, when a
configuration finding was stored, or when a soak found a leak (memory or database
connections: sure and material, ``rules.soak``). A soak's creeping p95 or error rate is a
finding, not a failure: a machine that grew busier through the soak slows it too.

A run that is not red but regressed against its baseline exits 3 when it was asked to
(``--fail-on-regression``, stored in its plan); red takes precedence, since the figures of an
unusable run say nothing about a regression. Without the flag, regressions are reported but
leave the exit code alone. An interrupted run is
INTERRUPTED (130) whatever else it shows: its figures stop where it stopped.

Each reason is one line naming one thing that made the run fail (one threshold, one endpoint,
one regression), so the count of reasons is the count of ``FAIL:`` (or ``REGRESSION:``) lines
and a CI log says why without opening the report. Exit code 2 (nothing could start) is the
command's, decided before a verdict exists; 130 is the command's too, and the verdict of the
run it stores as interrupted agrees.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from perftest.store.read import Status, StoredRun, VerdictWord
from perftest.store.vocabulary import unmeasured
from perftest.text import level_label

from .noise import REGRESSION
from .rules.base import BASELINE, CONFIGURATION, THRESHOLD
from .rules.generator import missing_data_text
from .rules.soak import LEAKS
from .thresholds import NOT_MEASURED

OK, RED, REGRESSED, INTERRUPTED = 0, 1, 3, 130

#: The word each exit code reads as, wherever the verdict is shown first.
WORDS = {
    OK: VerdictWord.GREEN,
    RED: VerdictWord.RED,
    REGRESSED: VerdictWord.REGRESSED,
    INTERRUPTED: VerdictWord.INTERRUPTED,
}
CODES = {word: code for code, word in WORDS.items()}


@dataclass(frozen=True)
class Verdict:
    """The exit code a run earns and one line per reason (none when green)."""

    code: int
    reasons: tuple[str, ...]

    @property
    def word(self) -> str:
        """GREEN, RED, REGRESSED or INTERRUPTED."""
        return str(WORDS[self.code])


def _ended_badly(stored: StoredRun) -> list[str]:
    """A failed run says why; an abandoned one (its process died) keeps a partial record."""
    failure = stored.row.failure or "no reason stored"
    if stored.status == Status.FAILED:
        return [f"FAIL: the run failed: {failure}"]
    if stored.status == Status.ABANDONED:
        return [f"FAIL: the run was abandoned: {failure.removeprefix('abandoned: ')}"]
    return []


def _thresholds(stored: StoredRun) -> list[str]:
    """One line per failed check, then one per check that could not be measured."""
    checks = [f for f in stored.findings if f.kind == THRESHOLD]
    return [
        *(f"FAIL: {f.title} (actual {f.actual})" for f in checks if f.passed is False),
        *(
            f"FAIL: {f.title}: not measured: {f.evidence}"
            for f in checks
            if f.passed is None and f.actual == NOT_MEASURED
        ),
    ]


def _logins(stored: StoredRun) -> list[str]:
    """One line per distinct reason a login failed, with how many attempts it stopped."""
    attempts = stored.row.logins
    failed = Counter(attempt["reason"] for attempt in attempts if not attempt["ok"])
    return [
        f"FAIL: login failed for {count} of {len(attempts)} attempts: {reason}"
        for reason, count in failed.items()
    ]


def _in_passes(label: str, passes: list[str]) -> str:
    """``Get Conversations (HTTP pass)``, ``Get Conversations (in-process and HTTP passes)``."""
    return f"{label} ({' and '.join(passes)} {'passes' if len(passes) > 1 else 'pass'})"


def _unmeasured_endpoints(stored: StoredRun) -> list[str]:
    """One line per endpoint without figures, naming the passes it missed when the run has two
    (``--mode both``): ``Get Conversations (in-process and HTTP passes)``."""
    passes: dict[tuple[str, str], list[str]] = {}
    for name, endpoints in (("in-process", stored.sequential), ("HTTP", stored.sequential_http)):
        for e in endpoints:
            if reason := unmeasured(e):
                passes.setdefault((e.label, reason), []).append(name)
    both = bool(stored.sequential_http)
    return [
        f"FAIL: endpoint {_in_passes(label, seen) if both else label} not measured: {reason}"
        for (label, reason), seen in passes.items()
    ]


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


def _leaks(stored: StoredRun) -> list[str]:
    """One line per leak a soak found: what a soak is run to find."""
    return [f"FAIL: soak: {f.title}" for f in stored.findings if f.rule in LEAKS]


def _regressions(stored: StoredRun) -> list[str]:
    """One line per regression against the baseline, when the plan fails on them."""
    if not stored.plan.fail_on_regression:
        return []
    return [
        f"REGRESSION: {f.title}"
        for f in stored.findings
        if f.kind == BASELINE and f.rule == REGRESSION
    ]


def of(stored: StoredRun) -> Verdict:
    """The verdict of a stored run (findings included): 130 when it was interrupted, else 1
    when red, else 3 when it regressed and ``--fail-on-regression`` was given, else 0."""
    reasons = [
        *_ended_badly(stored),
        *_logins(stored),
        *_configuration(stored),
        *_unmeasured_endpoints(stored),
        *_levels_missing_data(stored),
        *_thresholds(stored),
        *_leaks(stored),
    ]
    if stored.status == Status.INTERRUPTED:
        return Verdict(INTERRUPTED, tuple(reasons))
    if reasons:
        return Verdict(RED, tuple(reasons))
    regressions = _regressions(stored)
    return Verdict(REGRESSED if regressions else OK, tuple(regressions))


def stored_with(row: Any) -> Verdict | None:
    """The verdict stored on a run's row when its analysis ended (``store.write.save_verdict``),
    read without touching its other rows; None for a run never judged (still running,
    abandoned, or stored before verdicts were)."""
    if not row.verdict:
        return None
    return Verdict(CODES[row.verdict], tuple(row.verdict_reasons))
