"""The first screen: what a person who just ran a load test wants in ten seconds.

Right under the title and its verdict, a few lines read from the stored run only: the
capacity and what gave way first (when the run measured them), the slowest endpoint under
test with the stored finding that explains it, what changed since the baseline, and the three
most important things to do. Each line links to its evidence further down, so the lines stay
short and the tables stay below. The login is set apart (``analysis.login``): its password
hash would always be "the slowest".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from perftest.analysis.login import is_login, set_apart, under_test
from perftest.analysis.metrics import P95
from perftest.analysis.rules.base import BASELINE, BOTTLENECK, CONFIGURATION, KEY
from perftest.analysis.rules.baseline import REGRESSION
from perftest.analysis.rules.capacity import CAPACITY
from perftest.analysis.rules.diagnosis import WHERE_TIME_GOES
from perftest.analysis.rules.endpoints import SLOW_ENDPOINT
from perftest.analysis.rules.first_to_break import FIRST_TO_BREAK
from perftest.store.read import StoredRun
from perftest.text import quantity

from .. import anchors
from ..blocks import Block, Bullets, Heading, Inline, Link, Paragraph
from . import comparison

HEADING = "At a glance"
#: How many things to do the first screen names, and how many findings the terminal prints.
TOP = 3

#: What a finding says about the run, most pressing first: a plan that cannot measure what
#: was meant, then a regression, then a bottleneck, then a key fact.
_SEVERITY = {CONFIGURATION: 0, BASELINE: 1, BOTTLENECK: 2, KEY: 3}


@dataclass(frozen=True)
class Line:
    """One answer: what it is about, the sentence, and the anchor of its evidence below."""

    label: str
    text: str
    anchor: str


@dataclass(frozen=True)
class Slowest:
    """The slowest endpoint under test by p95, and the stored finding that explains it."""

    endpoint: str
    p95_ms: float
    text: str
    cause: str
    cause_anchor: str


@dataclass(frozen=True)
class SinceBaseline:
    """What changed since the baseline run, or why there is none (``baseline_run`` None)."""

    baseline_run: int | None
    regressions: int
    improvements: int
    text: str
    anchor: str


@dataclass(frozen=True)
class FirstScreen:
    """Every answer of the first screen: what each format shows, and the JSON's ``answer``."""

    capacity: Line | None
    first_to_break: tuple[Line, ...]
    slowest: Slowest | None
    since_baseline: SinceBaseline
    to_do: tuple[Line, ...]


def _login_subjects(stored: StoredRun) -> set[str]:
    """The subjects of findings about the login, when it is set apart (none otherwise)."""
    if not set_apart(stored):
        return set()
    return {row.label for row in stored.sequential if is_login(row, stored)}


def ranked(stored: StoredRun, kinds: tuple[str, ...] = tuple(_SEVERITY)) -> list[Any]:
    """The stored findings of ``kinds`` (thresholds are the verdict's), most pressing first:
    by kind, a regression before an improvement, the login's set apart last, else in the
    order the rules stored them."""
    login = _login_subjects(stored)

    def pressing(finding: Any) -> tuple[int, int, int]:
        improvement = finding.kind == BASELINE and finding.rule != REGRESSION
        return (finding.subject in login, _SEVERITY[finding.kind], improvement)

    return sorted((f for f in stored.findings if f.kind in kinds), key=pressing)


def problems(stored: StoredRun) -> list[Any]:
    """The findings that say something is wrong, most pressing first: configuration problems,
    regressions and bottlenecks."""
    return [
        f
        for f in ranked(stored, (CONFIGURATION, BASELINE, BOTTLENECK))
        if f.kind != BASELINE or f.rule == REGRESSION
    ]


def _after_colon(title: str, prefix: str) -> str:
    return title[len(prefix) :] if title.startswith(prefix) else title


def _capacity(stored: StoredRun) -> Line | None:
    found = next((f for f in stored.findings if f.rule == CAPACITY), None)
    if found is None:
        return None
    return Line("Capacity", _after_colon(found.title, "Capacity: "), anchors.CAPACITY_SEARCH)


def _first_to_break(stored: StoredRun) -> tuple[Line, ...]:
    return tuple(
        Line("What gave way first", f.title, anchors.of_finding(stored, f))
        for f in stored.findings
        if f.rule == FIRST_TO_BREAK
    )


def _cause(stored: StoredRun, endpoint: Any) -> Any | None:
    """The first stored finding that says why ``endpoint`` is slow: a bottleneck of its own
    (repeated or heavy SQL, a full table scan, errors...) other than "it is slow", else where
    its profiled time goes."""
    own = [f for f in stored.findings if f.subject == endpoint.label]
    return next(
        (f for f in own if f.kind == BOTTLENECK and f.rule != SLOW_ENDPOINT),
        next((f for f in own if f.rule == WHERE_TIME_GOES), None),
    )


def _slowest(stored: StoredRun) -> Slowest | None:
    endpoints = under_test(stored.judged, stored)
    if not endpoints:
        return None
    top = max(endpoints, key=P95.of)
    cause = _cause(stored, top)
    return Slowest(
        endpoint=top.label,
        p95_ms=P95.of(top),
        text=f"{top.label}, {P95.phrase(top)}",
        cause=cause.title if cause is not None else "",
        cause_anchor=anchors.of_finding(stored, cause) if cause is not None else "",
    )


def _no_baseline(stored: StoredRun) -> str:
    asked = stored.plan.baseline
    if asked == "latest":
        return "no baseline: no earlier completed run of this target and plan was found"
    if asked:
        return f"no baseline: run #{asked} was asked for, but it is not stored"
    return "no baseline: this run was not compared with an earlier one"


def _since_baseline(stored: StoredRun) -> SinceBaseline:
    stored_comparison = comparison.of(stored)
    if not stored_comparison:
        return SinceBaseline(None, 0, 0, _no_baseline(stored), "")
    regressions, improvements = (
        stored_comparison["regressions"],
        stored_comparison["improvements"],
    )
    text = (
        f"{quantity(regressions, 'regression')}, {quantity(improvements, 'improvement')} "
        "beyond noise"
    )
    found = [f for f in stored.findings if f.kind == BASELINE and f.rule == REGRESSION]
    if found:
        # The culprit: the subject with the most regressions, the first in stored order.
        subject, count = Counter(f.subject for f in found).most_common(1)[0]
        worst = next(f for f in found if f.subject == subject)
        more = f" (and {count - 1} more on {subject})" if count > 1 else ""
        text += f"; the worst: {worst.title}{more}"
    baseline = stored_comparison["baseline"]["id"]
    return SinceBaseline(baseline, regressions, improvements, text, anchors.comparison(baseline))


def _to_do(stored: StoredRun) -> tuple[Line, ...]:
    """The recommendations of the most pressing findings, each once, naming its subject."""
    lines: list[Line] = []
    seen: set[str] = set()
    for finding in ranked(stored):
        advice = finding.recommendation
        if advice and advice not in seen:
            seen.add(advice)
            subject = finding.subject or "the run"
            lines.append(Line(subject, advice, anchors.of_finding(stored, finding)))
    return tuple(lines[:TOP])


def of(stored: StoredRun) -> FirstScreen:
    """The first screen's answers for ``stored``, from its stored rows and findings."""
    return FirstScreen(
        capacity=_capacity(stored),
        first_to_break=_first_to_break(stored),
        slowest=_slowest(stored),
        since_baseline=_since_baseline(stored),
        to_do=_to_do(stored),
    )


def _linked(line: Line) -> Inline:
    return [Link(line.label, line.anchor), f": {line.text}"]


def _slowest_line(slowest: Slowest) -> Inline:
    head: list[Any] = [Link("Slowest endpoint", anchors.RESPONSE_TIMES), f": {slowest.text}; "]
    if not slowest.cause:
        return [*head, "no cause found by the rules"]
    return [*head, "why: ", Link(slowest.cause, slowest.cause_anchor)]


def _baseline_line(since: SinceBaseline) -> Inline:
    if since.baseline_run is None:
        return f"Since last time: {since.text}"
    return [Link(f"Since run #{since.baseline_run}", since.anchor), f": {since.text}"]


def first_screen(stored: StoredRun) -> list[Block]:
    """The answers in a few lines, each linked to its evidence; then what to do first."""
    screen = of(stored)
    lines: list[Inline] = []
    if screen.capacity is not None:
        lines.append(_linked(screen.capacity))
    lines += [_linked(line) for line in screen.first_to_break]
    if screen.slowest is not None:
        lines.append(_slowest_line(screen.slowest))
    lines.append(_baseline_line(screen.since_baseline))
    blocks: list[Block] = [Heading(HEADING), Bullets(lines)]
    if screen.to_do:
        to_do = Bullets([_linked(item) for item in screen.to_do])
        blocks += [Paragraph("What to do first:"), to_do]
    return blocks
