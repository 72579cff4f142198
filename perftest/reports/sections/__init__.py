"""What a report says, section by section, as blocks (``reports.blocks``).

Each section reads a ``StoredRun`` (rows, summaries and stored findings) and returns its
blocks, or none when it has nothing to say for this run; renderers only print them.
"""

from __future__ import annotations

from collections.abc import Callable

from perftest.store.read import StoredRun

from ..blocks import Block
from . import (
    allocations,
    answer,
    capacity,
    comparison,
    diagnosis,
    endpoints,
    findings,
    load,
    methodology,
    resources,
    server_account,
    soak,
    summary,
)

#: The report's sections, in the order they are read.
REPORT = (
    summary.title,
    answer.first_screen,
    summary.executive_summary,
    findings.configuration,
    comparison.section,
    endpoints.response_times,
    endpoints.database,
    endpoints.n_plus_one,
    diagnosis.section,
    capacity.search,
    load.concurrent,
    load.scaling,
    server_account.section,
    load.where_the_time_goes,
    resources.usage,
    soak.section,
    allocations.section,
    findings.bottlenecks,
    findings.recommendations,
    findings.key_findings,
    findings.thresholds,
    methodology.methodology,
    methodology.notes,
)


#: A section: what it says about a stored run, as blocks (none when it has nothing to say).
Section = Callable[[StoredRun], list[Block]]


def by_section(stored: StoredRun) -> list[tuple[Section, list[Block]]]:
    """Each section that has something to say about ``stored``, with its blocks, so a
    renderer can add to a section (the HTML report's charts) without choosing the words."""
    return [(section, blocks) for section in REPORT if (blocks := section(stored))]


def report(stored: StoredRun) -> list[list[Block]]:
    """The blocks of every section that has something to say about ``stored``."""
    return [blocks for _, blocks in by_section(stored)]
