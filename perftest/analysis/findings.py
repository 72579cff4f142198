"""Runs every check over a stored run and returns its findings, in the order reports show them.

The order is: configuration problems, threshold checks, changes against the baseline
(regressions, then improvements, read from the stored comparison), endpoint bottlenecks,
diagnosis bottlenecks (``--explain``), a soak's trends, load-level bottlenecks, endpoint key
findings, diagnosis key findings (``--profile``), a soak's, load-level key findings; the
diagnosis rules read only runs that asked for one, the soak rules only soaks. Within each,
rules run in registry order; consecutive rules that read the same kind of subject run subject
by subject, so the findings about one endpoint (its error groups, then its other rules) or one
level stay together.
"""

from __future__ import annotations

from itertools import groupby

from perftest.store.read import StoredRun

from . import thresholds
from .rules import base, diagnosis, soak
from .rules.base import (
    BASELINE,
    BOTTLENECK,
    CONFIGURATION,
    ENDPOINT,
    ERROR_GROUP,
    KEY,
    LEVEL,
    RUN,
    Finding,
    Rule,
)


def _subject_of(rule: Rule) -> str:
    """The subject a rule is called for: error-group rules run with their endpoint's rules."""
    return ENDPOINT if rule.reads == ERROR_GROUP else rule.reads


def _run_batch(stored: StoredRun, subject: str, rules: list[Rule]) -> list[Finding]:
    found: list[Finding] = []
    if subject == RUN:
        for rule in rules:
            found += rule.check(stored)
    elif subject == LEVEL:
        for level in stored.levels:
            for rule in rules:
                found += rule.check(level)
    else:
        for endpoint in stored.measured:
            for group in endpoint.errors:
                for rule in rules:
                    if rule.reads == ERROR_GROUP:
                        found += rule.check(endpoint, group, stored)
            if endpoint not in stored.judged:
                continue  # no answer as expected: nothing to judge its speed or SQL by
            for rule in rules:
                if rule.reads == ENDPOINT:
                    found += rule.check(endpoint, stored)
    return found


def _run_rules(stored: StoredRun, rules: list[Rule]) -> list[Finding]:
    found: list[Finding] = []
    for subject, batch in groupby(rules, key=_subject_of):
        found += _run_batch(stored, subject, list(batch))
    return found


def families(stored: StoredRun) -> tuple[str, ...]:
    """The rule families that read ``stored``: the diagnosis rules only when it asked for one,
    the soak rules only for a soak."""
    return (
        "endpoints",
        *((diagnosis.FAMILY,) if diagnosis.asked(stored) else ()),
        *((soak.FAMILY,) if soak.applies(stored) else ()),
    )


def analyse(stored: StoredRun) -> list[Finding]:
    """Every finding of the run, unsaved, in report order (``store.write.save_findings``)."""
    endpoint_families = families(stored)
    return [
        *_run_rules(stored, base.selected(CONFIGURATION, "endpoints")),
        *thresholds.evaluate(stored),
        *_run_rules(stored, base.selected(BASELINE, "endpoints")),
        *(
            finding
            for family in endpoint_families
            for finding in _run_rules(stored, base.selected(BOTTLENECK, family))
        ),
        *_run_rules(stored, base.selected(BOTTLENECK, "levels")),
        *(
            finding
            for family in endpoint_families
            for finding in _run_rules(stored, base.selected(KEY, family))
        ),
        *_run_rules(stored, base.selected(KEY, "levels")),
    ]
