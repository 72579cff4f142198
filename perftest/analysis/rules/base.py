"""What a rule is, what it finds, and the one registry every rule is listed in.

A rule is a record: its id, the kind of finding it makes, which stored rows it reads, what it
looks for (the words a report uses when none fired), its recommendation, and the function that
checks. The registry keeps rules in the order they are evaluated and described.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from perftest.plan.model import Throttle

THRESHOLD = "threshold"
BOTTLENECK = "bottleneck"
KEY = "key"
#: A configured endpoint that cannot be measured or judged as meant (``Finding.Kind``).
CONFIGURATION = "configuration"
#: A change against the baseline run beyond noise: a regression or an improvement.
BASELINE = "baseline"

#: What a rule's check reads, and so how it is called (see ``engine``):
#: RUN ``check(stored)``; ENDPOINT ``check(endpoint, stored)`` for each sequential endpoint
#: with answers as expected; ERROR_GROUP ``check(endpoint, group, stored)`` for each error
#: group of a measured sequential endpoint;
#: LEVEL ``check(level)`` for each load level.
RUN = "run"
ENDPOINT = "endpoint"
ERROR_GROUP = "error group"
LEVEL = "level"


@dataclass(frozen=True)
class Finding:
    """One thing the analysis found; ``store.write.save_findings`` stores it as it is."""

    #: THRESHOLD, BOTTLENECK, KEY, CONFIGURATION or BASELINE; the id of the rule that found it.
    kind: str
    rule: str
    #: What it is about (an endpoint, a level, "process"), and its one-line sentence.
    subject: str
    title: str
    evidence: str = ""
    recommendation: str = ""
    #: A threshold check's limit and measured figure, and whether it held (None: not judged).
    target: str = ""
    actual: str = ""
    passed: bool | None = None


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    #: "endpoints" (the sequential pass and the run) or "levels" (the load levels).
    family: str
    reads: str
    looks_for: str
    recommendation: str
    check: Callable[..., list[Finding]]


#: Every rule by id, in evaluation order: endpoint rules, then load-level rules.
REGISTRY: dict[str, Rule] = {}


def rule(
    id: str, kind: str, reads: str, looks_for: str, recommendation: str = "", *, family: str
) -> Callable[[Callable[..., list[Finding]]], Callable[..., list[Finding]]]:
    """Register the decorated function as the check of a rule; rules run in this order."""

    def register(check: Callable[..., list[Finding]]) -> Callable[..., list[Finding]]:
        if id in REGISTRY:
            raise ValueError(f"Rule {id!r} is registered twice.")
        REGISTRY[id] = Rule(id, kind, family, reads, looks_for, recommendation, check)
        return check

    return register


#: ``rule`` of the endpoints family (the sequential pass and the run)...
endpoint_rule = partial(rule, family="endpoints")
#: ...and of the levels family (the load levels).
level_rule = partial(rule, family="levels")


def worded(
    register: Callable[[Callable[..., list[Finding]]], Callable[..., list[Finding]]],
    check: Callable[..., list[Finding]],
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A decorator for rules that share one check and differ in their words: it registers
    (``register``, a ``rule(...)``) ``check`` with the decorated wording function as its
    first argument, and returns that function unchanged."""

    def decorate(describe: Callable[..., Any]) -> Callable[..., Any]:
        register(partial(check, describe))
        return describe

    return decorate


def selected(kind: str, family: str) -> list[Rule]:
    """The registered rules of one kind and family, in evaluation order."""
    return [rule for rule in REGISTRY.values() if rule.kind == kind and rule.family == family]


def bottleneck(
    rule: str, subject: str, title: str, evidence: str, recommendation: str = ""
) -> Finding:
    """A bottleneck of ``rule``, recommending what the rule's record says unless told."""
    advice = recommendation or REGISTRY[rule].recommendation
    return Finding(BOTTLENECK, rule, subject, title, evidence, advice)


def key(rule: str, subject: str, title: str, evidence: str = "") -> Finding:
    return Finding(KEY, rule, subject, title, evidence)


def capital(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]


_RETRY_AFTER = re.compile(r"Retry-After: ([^|]+?)\s*(?:\||$)")


def retry_after(example: str) -> str | None:
    """The Retry-After value quoted in a stored error example, if the server sent one."""
    found = _RETRY_AFTER.search(example or "")
    return found.group(1) if found else None


#: How many Retry-After values a sentence or a cell names, the most frequent first; the
#: other values are counted ("and 2 more values").
RETRY_AFTER_SHOWN = 5


@dataclass(frozen=True)
class RetryAfters:
    """What some answers said of Retry-After: each distinct value with its count, and how many
    answers carried the header (``told``) and how many did not (``untold``), both exact.

    ``unlisted`` answers carried a value beyond the distinct values an answer class counts one
    by one: counted, but not told apart. ``unknown`` answers are those of a run stored before
    the header's answers were counted, beyond the values it kept: with or without, unknown.
    """

    values: Counter[str]
    told: int
    untold: int
    unknown: int = 0

    @property
    def unlisted(self) -> int:
        return max(0, self.told - sum(self.values.values()))

    def text(self) -> str:
        """The most frequent values with their counts and how many more (``retry_after_text``)."""
        return retry_after_text(self.values, self.unlisted)


def retry_afters(figures: Any, reasons: Iterable[str]) -> RetryAfters:
    """The Retry-After values the answers of ``reasons`` carried, and how many had none.

    Runs stored before the header's answers were counted know only the values they kept (the
    rest is ``unknown``); runs stored before answer classes kept one value per group, in its
    example, with no count (and nothing else is known: every count reads 0).
    """
    wanted = set(reasons)
    values: Counter[str] = Counter()
    told = untold = unknown = 0
    for answers in figures.answer_classes:
        if answers["class"] not in wanted:
            continue
        kept = answers.get("retry_after") or {}
        values.update(kept)
        carried = answers.get("retry_after_answers")
        if carried is None:
            told += sum(kept.values())
            unknown += answers["count"] - sum(kept.values())
        else:
            told += carried
            untold += answers["count"] - carried
    if not figures.answer_classes:
        for group in figures.errors:
            value = retry_after(group.get("example")) if group["reason"] in wanted else None
            if value:
                values[value] += 0  # seen, but how often was not stored
    return RetryAfters(values, told, untold, unknown)


def asked_to_wait(waits: RetryAfters) -> str:
    """What some answers said of Retry-After in one sentence, with and without counted apart."""
    if not waits.values and not waits.told:
        return "None of these answers carried a Retry-After header." if waits.untold else ""
    without = f"; {waits.untold} of these answers carried none" if waits.untold else ""
    return f"The server asked to retry after {waits.text()} (Retry-After){without}."


def _seconds_first(value: str) -> tuple[int, float, str]:
    """Sort key of a Retry-After value: numbers in order, then dates and other text."""
    try:
        return (0, float(value), value)
    except ValueError:
        return (1, 0.0, value)


def retry_after_text(values: Counter[str], unlisted: int = 0) -> str:
    """``3 ×12, 2 ×8, 1 ×8, 4 ×5, 5 ×1 and 2 more values``: the ``RETRY_AFTER_SHOWN`` most
    frequent values with their counts (equal counts in value order), then how many other
    values there were. A value read from an old example has no count and reads alone."""
    ranked = sorted(values.items(), key=lambda item: (-item[1], _seconds_first(item[0])))
    shown = ", ".join(f"{value} ×{n}" if n else value for value, n in ranked[:RETRY_AFTER_SHOWN])
    more = len(ranked) - RETRY_AFTER_SHOWN
    rest = [f"{more} more value{'s' if more > 1 else ''}"] if more > 0 else []
    if unlisted:
        rest.append(f"{unlisted} answers with further values not told apart")
    return " and ".join([shown, *rest]) if shown else " and ".join(rest)


def throttle_text(throttle: Throttle) -> str:
    """``tests.views.TenPerMinute (10/min, scope lessons)``: a throttle as the plan read it."""
    details = [throttle.rate or "its rate could not be read"]
    if throttle.scope:
        details.append(f"scope {throttle.scope}")
    return f"{throttle.name} ({', '.join(details)})"


def own_throttles(stored: Any, endpoint: str, waits: RetryAfters) -> list[Throttle]:
    """The throttles ``endpoint``'s view chose itself (``throttle_classes``, as the plan's
    in-process discovery read them) that can have sent ``waits``: a DRF throttle's
    Retry-After never exceeds its window. [] when the view has none, or none whose window
    holds the longest wait seen (then something else answered)."""
    planned = next((e for e in stored.plan.endpoints if e.name == endpoint), None)
    own = [t for t in planned.throttles if t.own] if planned else []
    seconds = [_seconds_first(value) for value in waits.values]
    if any(kind for kind, _, _ in seconds) or waits.unlisted:
        return own  # a date or an uncounted value: the window cannot tell them apart
    longest = max((wait for _, wait, _ in seconds), default=0.0)
    return [t for t in own if t.window_s is None or t.window_s >= longest]


def throttle_advice(what: str) -> str:
    """What turns a throttle off: DRF's throttle classes (the rates only tune them)."""
    return (
        "Disable throttling for the test environment: remove DRF's throttle classes "
        "(REST_FRAMEWORK['DEFAULT_THROTTLE_CLASSES'], and any view's throttle_classes), or "
        f"lower the load; until then the figures measure the throttle, not {what}."
    )
