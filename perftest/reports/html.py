"""The HTML report: the report's sections as one self-contained page, with charts.

The words are the Markdown report's (the same sections and blocks, printed as Markdown and
turned into HTML by the ``markdown`` package), command-line options said in words
(``web_words``); the page adds SVG charts after the sections
where people would rather look than read, and colours the verdict under the title. CSS and
charts are inline and there is no script, so the file opens offline, and a stored run always
renders to the same bytes.
"""

from __future__ import annotations

import html
import pathlib
import re
from dataclasses import replace

import markdown as markdown_package
from django.template import Context, Engine
from django.utils.safestring import SafeString

from perftest.analysis import verdict
from perftest.store.read import StoredRun

from . import charts, sections, web_words
from . import markdown as markdown_report
from .blocks import Block, Bullets, Heading, Inline, Paragraph, Strong, Table
from .sections import comparison, endpoints, load, resources, server_account

TEMPLATES = pathlib.Path(__file__).resolve().parent.parent / "templates"

#: perftest's own template engine: the report renders the same whatever the host project's
#: TEMPLATES say (another backend, no APP_DIRS, string_if_invalid set).
ENGINE = Engine(dirs=[str(TEMPLATES)], autoescape=True)

#: The charts drawn after a section's text, in order.
CHARTS: dict[sections.Section, tuple[charts.Builder, ...]] = {
    comparison.section: (charts.before_after,),
    endpoints.response_times: (charts.latencies,),
    load.concurrent: (charts.over_time,),
    load.scaling: (charts.scaling,),
    server_account.section: (charts.server_account,),
    resources.usage: (charts.rss, charts.cpu),
}

#: Characters that start Markdown syntax inside a line (emphasis, links, code, escapes).
_MARKDOWN_SYNTAX = re.compile(r"([\\`*_\[\]])")

_EXTENSIONS = ("tables", "fenced_code", "sane_lists")


def _literal(text: object) -> str:
    """Stored text as Markdown that reads as itself: no HTML, link, emphasis or code; a
    command-line option said in words (nobody types a command on a web page)."""
    plain = web_words.without_flags(str(text))
    return _MARKDOWN_SYNTAX.sub(r"\\\1", html.escape(plain, quote=False))


def _literal_inline(text: Inline) -> Inline:
    if isinstance(text, str):
        return _literal(text)
    return [Strong(_literal(p.text)) if isinstance(p, Strong) else _literal(p) for p in text]


def _literal_block(item: Block) -> Block:
    """The block with its text made literal (code is already: the Markdown report fences
    it); a heading stays one line."""
    if isinstance(item, Heading):
        return Heading(_literal(" ".join(item.text.split())), item.level)
    if isinstance(item, Paragraph):
        return Paragraph(_literal_inline(item.text))
    if isinstance(item, Bullets):
        return Bullets([_literal_inline(entry) for entry in item.items])
    if isinstance(item, Table):
        return replace(
            item,
            headers=[_literal(h) for h in item.headers],
            rows=[[_literal(value) for value in row] for row in item.rows],
        )
    return item


def _markdown(item: Block) -> str:
    """The block as Markdown whose text is literal; a heading is written here because the
    Markdown report's escape of ``<`` in headings is not one python-markdown undoes."""
    literal = _literal_block(item)
    if isinstance(literal, Heading):
        return f"{'#' * literal.level} {literal.text}"
    return markdown_report.block(literal)


def section_html(blocks: list[Block]) -> str:
    """Blocks as HTML, their stored text literal: a report section, or the admin's."""
    text = "\n\n".join(_markdown(item) for item in blocks)
    return markdown_package.markdown(text, extensions=list(_EXTENSIONS), output_format="html")


def _title(report: list[tuple[sections.Section, list[Block]]]) -> str:
    return next(
        (b.text for _, blocks in report for b in blocks if isinstance(b, Heading)),
        "perftest report",
    )


def render(stored: StoredRun) -> str:
    """The whole page for a stored run; the same stored run always gives the same bytes."""
    report = sections.by_section(stored)
    parts = []
    for section, blocks in report:
        drawn = charts.drawn(stored, CHARTS.get(section, ()))
        parts.append(
            {
                "html": SafeString(section_html(blocks)),
                "charts": [
                    {
                        "title": chart.title,
                        "svg": SafeString(charts.svg(chart, f"run{stored.pk}-{chart.key}")),
                    }
                    for chart in drawn
                ],
            }
        )
    context = Context(
        {
            "title": _title(report),
            "run": stored.pk,
            "verdict": verdict.of(stored).word,
            "sections": parts,
        }
    )
    return ENGINE.get_template("perftest/report.html").render(context)
