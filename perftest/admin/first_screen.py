"""The run page's first screen: the report's "At a glance" lines, linked to this page.

The lines are the reports' own (``reports.sections.answer``); only where their links lead
changes. Evidence this page shows (the capacity search's steps, the endpoint table, each
bottleneck's row among the findings) is linked here; the rest (the comparison with the
baseline, the report's own sections) opens in the HTML report at its heading.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from django.utils.safestring import SafeString

from perftest.reports import anchors, html
from perftest.reports.blocks import Block, Bullets, Inline, Link, Paragraph, Strong
from perftest.reports.sections import answer
from perftest.store.read import StoredRun

#: The report's anchors whose evidence this page shows under an id of its own.
ON_THIS_PAGE = {
    anchors.CAPACITY_SEARCH: "capacity-search",
    anchors.RESPONSE_TIMES: "endpoint-results",
    anchors.FACTS: "findings",
    anchors.CONFIGURATION_PROBLEMS: "findings",
}


def _relinked(text: Inline, here: set[str], report_url: str) -> Inline:
    if isinstance(text, str):
        return text
    parts: list[str | Strong | Link] = []
    for part in text:
        if not isinstance(part, Link):
            parts.append(part)
        elif part.anchor in ON_THIS_PAGE:
            parts.append(replace(part, anchor=ON_THIS_PAGE[part.anchor]))
        elif part.anchor in here:
            parts.append(part)
        else:
            parts.append(replace(part, page=report_url))
    return parts


def _block(item: Block, here: set[str], report_url: str) -> Block:
    if isinstance(item, Bullets):
        return Bullets([_relinked(entry, here, report_url) for entry in item.items])
    if isinstance(item, Paragraph):
        return Paragraph(_relinked(item.text, here, report_url))
    return item


def first_screen(stored: StoredRun, here: Sequence[str], report_url: str) -> SafeString:
    """The first screen as HTML, its links leading to ``here`` (the ids of this page's rows)
    or else into the HTML report at ``report_url``."""
    ids = set(here)
    blocks = [_block(item, ids, report_url) for item in answer.first_screen(stored)]
    return SafeString(html.section_html(blocks))
