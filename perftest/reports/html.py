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
from xml.etree.ElementTree import Element

import markdown as markdown_package
from django.template import Context, Engine
from django.utils.safestring import SafeString
from markdown.extensions import Extension
from markdown.extensions.toc import render_inner_html, strip_tags
from markdown.treeprocessors import Treeprocessor

from perftest.analysis import verdict
from perftest.store.read import StoredRun

from . import anchors, charts, sections, web_words
from . import markdown as markdown_report
from .blocks import Block, Bullets, Heading, Inline, Link, Paragraph, Strong, Table
from .sections import comparison, endpoints, load, methodology, resources, server_account

TEMPLATES = pathlib.Path(__file__).resolve().parent.parent / "templates"

#: perftest's own template engine: the report renders the same whatever the host project's
#: TEMPLATES say (another backend, no APP_DIRS, string_if_invalid set).
ENGINE = Engine(dirs=[str(TEMPLATES)], autoescape=True)

#: The charts drawn after a section's text, in order.
CHARTS: dict[sections.Section, tuple[charts.Builder, ...]] = {
    comparison.section: (charts.before_after,),
    endpoints.response_times: (charts.latencies,),
    load.concurrent: (charts.whole_run, charts.over_time),
    load.scaling: (charts.scaling,),
    server_account.section: (charts.server_account,),
    resources.usage: (charts.rss, charts.cpu),
}

#: The sections about how the run was made, folded below the results: their heading is the
#: fold's summary, their text shown when a person opens it.
FOLDED = (methodology.methodology, methodology.notes)

#: Characters that start Markdown syntax inside a line (emphasis, links, code, escapes).
_MARKDOWN_SYNTAX = re.compile(r"([\\`*_\[\]])")


class _HeadingIds(Treeprocessor):
    """Each heading below the title gets the id GitHub gives it in the Markdown report (a
    repeated one numbered, ``-1``, ``-2``, in the order of the whole page, ``seen``), so the
    first screen's links lead to the same heading in both; the title needs none."""

    def __init__(self, md: markdown_package.Markdown, seen: dict[str, int]) -> None:
        super().__init__(md)
        self.seen = seen

    def run(self, root: Element) -> None:
        for heading in (e for e in root.iter() if e.tag in _HEADINGS):
            text = html.unescape(strip_tags(render_inner_html(heading, self.md)))
            slug = anchors.slug(text)
            count = self.seen.get(slug, 0)
            self.seen[slug] = count + 1
            if heading.tag != "h1":
                heading.set("id", f"{slug}-{count}" if count else slug)


class _HeadingIdsExtension(Extension):
    def __init__(self, seen: dict[str, int]) -> None:
        super().__init__()
        self.seen = seen

    def extendMarkdown(self, md: markdown_package.Markdown) -> None:  # noqa: N802 (its API)
        md.treeprocessors.register(_HeadingIds(md, self.seen), "perftest_heading_ids", 5)


_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_EXTENSIONS = ("tables", "fenced_code", "sane_lists")


def _literal(text: object) -> str:
    """Stored text as Markdown that reads as itself: no HTML, link, emphasis or code; a
    command-line option said in words (nobody types a command on a web page)."""
    plain = web_words.without_flags(str(text))
    return _MARKDOWN_SYNTAX.sub(r"\\\1", html.escape(plain, quote=False))


def _literal_part(part: str | Strong | Link) -> str | Strong:
    """A part with its text literal; a link written here, its text escaped once."""
    if isinstance(part, Strong):
        return Strong(_literal(part.text))
    if isinstance(part, Link):
        return f"[{_literal(part.text)}]({part.href})"
    return _literal(part)


def _literal_inline(text: Inline) -> Inline:
    if isinstance(text, str):
        return _literal(text)
    return [_literal_part(part) for part in text]


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


#: The box a table sits in: a table wider than the screen scrolls inside it, never the page.
TABLE_BOX = '<div class="table-scroll">'


def section_html(blocks: list[Block], seen: dict[str, int] | None = None) -> str:
    """Blocks as HTML, their stored text literal: a report section, or the admin's; each
    table in its own scrolling box (stored text is escaped, so a ``<table>`` here is one the
    Markdown made). ``seen`` counts the page's heading anchors so far (each section of one
    page shares it)."""
    text = "\n\n".join(_markdown(item) for item in blocks)
    page = markdown_package.markdown(
        text,
        extensions=[*_EXTENSIONS, _HeadingIdsExtension({} if seen is None else seen)],
        output_format="html",
    )
    return page.replace("<table>", f"{TABLE_BOX}<table>").replace("</table>", "</table></div>")


def _title(report: list[tuple[sections.Section, list[Block]]]) -> str:
    return next(
        (b.text for _, blocks in report for b in blocks if isinstance(b, Heading)),
        "perftest report",
    )


def render(stored: StoredRun) -> str:
    """The whole page for a stored run; the same stored run always gives the same bytes."""
    report = sections.by_section(stored)
    seen: dict[str, int] = {}
    parts = []
    for section, blocks in report:
        drawn = charts.drawn(stored, CHARTS.get(section, ()))
        folded = section in FOLDED and isinstance(blocks[0], Heading)
        parts.append(
            {
                "summary": SafeString(section_html(blocks[:1], seen)) if folded else "",
                "html": SafeString(section_html(blocks[1:] if folded else blocks, seen)),
                "charts": [
                    {
                        "key": chart.key,
                        "title": chart.title,
                        "note": chart.note,
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
