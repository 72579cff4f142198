"""What a rule is, what it finds, and the one registry every rule is listed in.

A rule is a record: its id, the kind of finding it makes, which stored rows it reads, what it
looks for (the words a report uses when none fired), its recommendation, and the function that
checks. The registry keeps rules in the order they are evaluated and described.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

THRESHOLD = "threshold"
BOTTLENECK = "bottleneck"
KEY = "key"
#: A configured endpoint that cannot be measured or judged as meant (``Finding.Kind``).
CONFIGURATION = "configuration"

#: What a rule's check reads, and so how it is called (see ``engine``):
#: RUN ``check(stored)``; ENDPOINT ``check(endpoint, stored)`` for each measured sequential
#: endpoint; ERROR_GROUP ``check(endpoint, group)`` for each error group of such an endpoint;
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
