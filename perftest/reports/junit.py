"""The JUnit XML report: each check of a run as a test case, so CI shows failures natively.

One ``testsuite`` per group of checks inside one ``testsuites`` (the shape GitLab, Jenkins
and GitHub's test reporters read). A threshold is a case: FAIL is a failure, NOT MEASURED is
a failure too (it makes the run red: a check that could not be made is not a pass), NOT
EVALUATED (a level the run did not plan) is skipped. Each configuration finding is a failing
case, since it makes the run red. Each figure the comparison with a baseline judged is a
case of the baseline suite: a regression is a failure whose message is the noise rule's why,
an improvement or no change beyond noise passes; a figure not compared is no check at all.
``--capacity``'s search is one case of the capacity suite: passed when it found a capacity.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

from perftest.analysis.capacity import search as capacity_search
from perftest.analysis.rules.base import CONFIGURATION, THRESHOLD
from perftest.store.read import StoredRun

from .sections import capacity as capacity_section
from .sections import comparison
from .sections.findings import verdict
from .sections.phrases import of_kind

FAILURE, SKIPPED = "failure", "skipped"


@dataclass(frozen=True)
class Case:
    """One check: its name, and a failure or skip with its message (``outcome`` None: passed)."""

    name: str
    classname: str
    outcome: str | None = None
    message: str = ""
    detail: str = ""
    #: What the check found, as CI shows beside a passing case (``system-out``).
    output: str = ""


def _threshold(finding: Any) -> Case:
    word = verdict(finding)
    outcome = {"PASS": None, "NOT EVALUATED": SKIPPED}.get(word, FAILURE)
    message = f"{word}: target {finding.target}, actual {finding.actual}"
    return Case(finding.title, f"perftest.{finding.rule}", outcome, message, finding.evidence)


def thresholds(stored: StoredRun) -> list[Case]:
    return [_threshold(f) for f in of_kind(stored.findings, THRESHOLD)]


def configuration(stored: StoredRun) -> list[Case]:
    return [
        Case(
            f.title,
            f"perftest.{f.rule}",
            FAILURE,
            f"configuration: {f.title}",
            f"{f.evidence}\n{f.recommendation}".strip(),
        )
        for f in of_kind(stored.findings, CONFIGURATION)
    ]


def _baseline_case(row: comparison.Row, metric: dict[str, Any], against: str) -> Case:
    name = f"{comparison.where(row)} {comparison.metric_name(metric)} vs {against}"
    if metric["verdict"] != comparison.REGRESSION:
        return Case(name, f"perftest.baseline.{metric['metric']}")
    figures = (
        f"{comparison.value(metric, 'before')} -> {comparison.value(metric, 'after')} "
        f"({comparison.change(metric)})"
    )
    new = (*row.get("new_sql", ()), *row.get("new_repeated", ()))
    sql = [statement["sql"] for statement in new] if metric["metric"] == "queries_mean" else []
    return Case(
        name,
        f"perftest.baseline.{metric['metric']}",
        FAILURE,
        metric["why"],
        "\n".join([figures, *sql]),
    )


def baseline(stored: StoredRun) -> list[Case]:
    """Each figure the comparison with the baseline judged, in the comparison's order."""
    found = comparison.of(stored)
    if not found:
        return []
    against = comparison.baseline_name(found)
    return [
        _baseline_case(row, metric, against)
        for row in found["rows"]
        for metric in row["metrics"]
        if metric["verdict"] in comparison.JUDGED
    ]


def capacity(stored: StoredRun) -> list[Case]:
    """``--capacity``'s search as one case: passed when it found a capacity (its figure in
    ``system-out``; above the most the generator could send counts), failed when even its
    first step failed its bounds."""
    search = capacity_search(stored)
    if search is None:
        return []
    answer = capacity_section.headline(stored)
    name = f"capacity {search.expression}".strip()
    if search.found:
        return [Case(name, "perftest.capacity", output=answer)]
    return [Case(name, "perftest.capacity", FAILURE, answer, output=answer)]


#: The groups of checks, each a ``testsuite``: (name, cases of a stored run).
GROUPS: tuple[tuple[str, Callable[[StoredRun], list[Case]]], ...] = (
    ("thresholds", thresholds),
    ("configuration", configuration),
    ("baseline", baseline),
    ("capacity", capacity),
)


def _suite(parent: ElementTree.Element, name: str, cases: list[Case]) -> None:
    suite = ElementTree.SubElement(
        parent,
        "testsuite",
        name=name,
        tests=str(len(cases)),
        failures=str(sum(c.outcome == FAILURE for c in cases)),
        errors="0",
        skipped=str(sum(c.outcome == SKIPPED for c in cases)),
    )
    for case in cases:
        element = ElementTree.SubElement(
            suite, "testcase", name=case.name, classname=case.classname
        )
        if case.outcome:
            outcome = ElementTree.SubElement(element, case.outcome, message=case.message)
            outcome.text = case.detail or None
        if case.output:
            ElementTree.SubElement(element, "system-out").text = case.output


def render(stored: StoredRun) -> str:
    """The JUnit XML of a stored run; every group is a suite, empty groups included."""
    root = ElementTree.Element("testsuites", name=f"perftest run #{stored.pk}")
    groups = [(f"perftest run #{stored.pk}: {name}", cases(stored)) for name, cases in GROUPS]
    for name, cases in groups:
        _suite(root, name, cases)
    every = [case for _, cases in groups for case in cases]
    root.set("tests", str(len(every)))
    root.set("failures", str(sum(c.outcome == FAILURE for c in every)))
    root.set("errors", "0")
    root.set("skipped", str(sum(c.outcome == SKIPPED for c in every)))
    ElementTree.indent(root)
    body = ElementTree.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'
