"""What the rules found, as stored: bottlenecks, recommendations, facts of the run, thresholds.

Nothing here runs a rule again; the sentences are the stored findings' own.
"""

from __future__ import annotations

from typing import Any

from perftest.analysis import findings as analysed
from perftest.analysis.rules.base import (
    BOTTLENECK,
    CONFIGURATION,
    KEY,
    THRESHOLD,
    Rule,
    selected,
)
from perftest.analysis.thresholds import NOT_MEASURED
from perftest.store.read import StoredRun

from .. import anchors
from ..anchors import bottleneck_heading
from ..blocks import Block, Bullets, Code, Heading, Paragraph, Strong, Table
from .phrases import of_kind

_VERDICTS = {True: "PASS", False: "FAIL", None: "NOT EVALUATED"}


def verdict(check: Any) -> str:
    """PASS, FAIL, NOT MEASURED (should have been measured and could not: the run is red) or
    NOT EVALUATED (nothing the run planned to measure)."""
    return "NOT MEASURED" if check.actual == NOT_MEASURED else _VERDICTS[check.passed]


def configuration(stored: StoredRun) -> list[Block]:
    """Endpoints configured so that their timings cannot mean what was meant; shown only when
    there are some, right after the summary, since they change how the rest reads."""
    found = of_kind(stored.findings, CONFIGURATION)
    if not found:
        return []
    return [
        Heading(anchors.CONFIGURATION_PROBLEMS_HEADING),
        Bullets([[Strong(f.title), f": {f.evidence}. {f.recommendation}"] for f in found]),
    ]


def bottleneck_rules(stored: StoredRun) -> list[Rule]:
    """The bottleneck rules that read this run: the diagnosis rules only when it asked for a
    diagnosis, the level rules only when it has levels."""
    families = (*analysed.families(stored), *(("levels",) if stored.levels else ()))
    return [rule for family in families for rule in selected(BOTTLENECK, family)]


def bottlenecks(stored: StoredRun) -> list[Block]:
    heading = Heading(anchors.BOTTLENECKS_HEADING)
    found = of_kind(stored.findings, BOTTLENECK)
    if not found:
        checked = [rule.looks_for for rule in bottleneck_rules(stored)]
        return [heading, Paragraph(f"None found by the rules: checked {', '.join(checked)}.")]
    blocks: list[Block] = [heading]
    for index, finding in enumerate(found, 1):
        blocks += [Heading(bottleneck_heading(index, finding), 3), Code(finding.evidence, "text")]
    return blocks


def recommendations(stored: StoredRun) -> list[Block]:
    """Each distinct recommendation once, naming every subject it applies to."""
    heading = Heading("Recommendations")
    subjects: dict[str, list[str]] = {}
    for finding in stored.findings:
        if finding.recommendation:
            names = subjects.setdefault(finding.recommendation, [])
            if finding.subject not in names:
                names.append(finding.subject)
    if not subjects:
        return [heading, Paragraph("None: no bottleneck rule fired.")]
    return [
        heading,
        Bullets([[Strong(", ".join(names)), f": {text}"] for text, names in subjects.items()]),
    ]


def key_findings(stored: StoredRun) -> list[Block]:
    """The facts of the run the rules stored ("key" findings): its totals, the slowest and
    fastest endpoints under test, the capacity found."""
    heading = Heading(anchors.FACTS_HEADING)
    found = of_kind(stored.findings, KEY)
    if not found:
        return [heading, Paragraph("No facts of the run are stored.")]
    return [
        heading,
        Bullets([f.title + (f" ({f.evidence})" if f.evidence else "") for f in found]),
    ]


def thresholds(stored: StoredRun) -> list[Block]:
    heading = Heading("Thresholds")
    checks = of_kind(stored.findings, THRESHOLD)
    if not checks:
        return [heading, Paragraph("No threshold checks are stored for this run.")]
    rows = [
        [
            f.title,
            f.target,
            f.actual if f.passed is not None else f"{f.actual}: {f.evidence}",
            verdict(f),
        ]
        for f in checks
    ]
    return [heading, Table(["Check", "Target", "Actual", "Result"], rows)]
