"""What a report says, section by section, as blocks (``reports.blocks``).

Each section reads a ``StoredRun`` (rows, summaries and stored findings) and returns its
blocks, or none when it has nothing to say for this run; renderers only print them.
"""

from __future__ import annotations

from perftest.store.read import StoredRun

from ..blocks import Block
from . import endpoints, findings, load, methodology, resources, summary

#: The report's sections, in the order they are read.
REPORT = (
    summary.title,
    summary.executive_summary,
    findings.configuration,
    endpoints.response_times,
    endpoints.database,
    endpoints.n_plus_one,
    load.concurrent,
    load.scaling,
    load.where_the_time_goes,
    resources.usage,
    findings.bottlenecks,
    findings.recommendations,
    findings.key_findings,
    findings.thresholds,
    methodology.methodology,
    methodology.notes,
)


def report(stored: StoredRun) -> list[list[Block]]:
    """The blocks of every section that has something to say about ``stored``."""
    return [blocks for section in REPORT if (blocks := section(stored))]
