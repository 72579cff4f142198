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
from typing import Any

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

    kind: str
    rule: str
    subject: str
    title: str
    evidence: str = ""
    recommendation: str = ""
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


def retry_after_counts(figures: Any, reasons: Iterable[str]) -> Counter[str]:
    """Every distinct Retry-After value the answers of ``reasons`` carried, with its count.

    Runs stored before answer classes kept one value per group, in its example.
    """
    wanted = set(reasons)
    counts: Counter[str] = Counter()
    for answers in figures.answer_classes:
        if answers["class"] in wanted:
            counts.update(answers.get("retry_after") or {})
    if not figures.answer_classes:
        for group in figures.errors:
            value = retry_after(group.get("example")) if group["reason"] in wanted else None
            if value:
                counts[value] += 0  # seen, but how often was not stored
    return counts


def retry_after_text(counts: Counter[str]) -> str:
    """``3 ×12, 2 ×8``; a value read from an old example has no count and reads alone."""
    return ", ".join(f"{value} ×{n}" if n else value for value, n in sorted(counts.items()))


def throttle_advice(what: str) -> str:
    """What turns a throttle off: DRF's throttle classes (the rates only tune them)."""
    return (
        "Disable throttling for the test environment: remove DRF's throttle classes "
        "(REST_FRAMEWORK['DEFAULT_THROTTLE_CLASSES'], and any view's throttle_classes), or "
        f"lower the load; until then the figures measure the throttle, not {what}."
    )
