"""Where a report's links lead: each heading's anchor, made as GitHub makes it.

The first screen links each answer to its evidence below. A Markdown report read on GitHub
(or any renderer that follows GitHub) gets its heading anchors from the heading's text, so
the HTML report gives its headings the same ids (``html.py``), and one link works in both.
"""

from __future__ import annotations

from typing import Any

from perftest.analysis.rules.base import BASELINE, BOTTLENECK, CONFIGURATION, KEY
from perftest.analysis.rules.capacity import CAPACITY
from perftest.store.read import StoredRun


def slug(text: str, separator: str = "-") -> str:
    """A heading's anchor as GitHub makes it: lower case, every character but letters,
    digits, spaces, hyphens and underscores dropped, each space a hyphen (``separator`` is
    python-markdown's ``toc`` argument, always ``-`` here)."""
    kept = "".join(c for c in text.lower() if c.isalnum() or c in " -_")
    return kept.replace(" ", separator)


def bottleneck_heading(index: int, finding: Any) -> str:
    """The heading of the ``index``-th bottleneck (from 1) in the report's Bottlenecks, one
    line as every renderer prints a heading."""
    return " ".join(f"{index}. {finding.title}".split())


#: The report's headings the first screen links to, as the sections print them: one text,
#: so a heading renamed keeps its links.
CAPACITY_SEARCH_HEADING = "Capacity search"
RESPONSE_TIMES_HEADING = "Response times"
BOTTLENECKS_HEADING = "Bottlenecks"
FACTS_HEADING = "Facts of the run"
CONFIGURATION_PROBLEMS_HEADING = "Configuration problems"
#: Their anchors.
CAPACITY_SEARCH = slug(CAPACITY_SEARCH_HEADING)
RESPONSE_TIMES = slug(RESPONSE_TIMES_HEADING)
BOTTLENECKS = slug(BOTTLENECKS_HEADING)
FACTS = slug(FACTS_HEADING)
CONFIGURATION_PROBLEMS = slug(CONFIGURATION_PROBLEMS_HEADING)


def comparison(baseline: int) -> str:
    """The comparison section's anchor (its heading names the baseline run)."""
    return slug(f"Compared with run #{baseline}")


def of_finding(stored: StoredRun, finding: Any) -> str:
    """Where a stored finding's evidence is in the report: a bottleneck's own heading, the
    comparison for a change against the baseline, the capacity search, the configuration
    problems or the facts of the run."""
    if finding.kind == BOTTLENECK:
        found = [f for f in stored.findings if f.kind == BOTTLENECK]
        index = next(i for i, f in enumerate(found, 1) if f is finding)
        return slug(bottleneck_heading(index, finding))
    if finding.kind == BASELINE:
        return comparison(stored.row.comparison["baseline"]["id"])
    if finding.kind == CONFIGURATION:
        return CONFIGURATION_PROBLEMS
    if finding.kind == KEY and finding.rule == CAPACITY:
        return CAPACITY_SEARCH
    return FACTS
