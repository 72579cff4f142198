"""The Markdown report: the report's sections printed as Markdown.

The sections read only the stored run, so ``perftest_report <id>`` reproduces the report
written at the end of the run byte for byte.
"""

from __future__ import annotations

import re

from perftest.store.read import StoredRun

from . import sections
from .blocks import Block, Bullets, Code, Heading, Inline, Link, Paragraph, Strong, Table

#: What would end a link's text early or escape from it.
_LINK_TEXT = re.compile(r"([\\\[\]])")


def _part(part: str | Strong | Link) -> str:
    if isinstance(part, Strong):
        return f"**{part.text}**"
    if isinstance(part, Link):
        text = _LINK_TEXT.sub(r"\\\1", part.text)
        return f"[{text}]({part.href})"
    return part


def _inline(text: Inline) -> str:
    return text if isinstance(text, str) else "".join(_part(part) for part in text)


def _cell(value: object) -> str:
    """Table cell text: a pipe or a line break in stored text must not break the table."""
    return str(value).replace("|", "\\|").replace("\n", " ")


#: Characters that start Markdown syntax inside a line (emphasis, links, HTML, code).
_INLINE_SYNTAX = re.compile(r"([\\`*_\[\]<>])")


def _heading_text(text: str) -> str:
    """A heading is one line of plain text: stored text (a label) can neither break the line
    nor start Markdown syntax in it."""
    return _INLINE_SYNTAX.sub(r"\\\1", " ".join(text.split()))


def _table(table: Table) -> str:
    lines = [
        "| " + " | ".join(table.headers) + " |",
        "|" + "|".join("---" for _ in table.headers) + "|",
    ]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in table.rows]
    return "\n".join(lines)


def _fence(code: Code) -> str:
    """A code block longer than any backtick run in the text, so stored text cannot escape it."""
    longest = max((len(run) for run in re.findall(r"`+", code.text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{code.language}\n{code.text}\n{ticks}"


def block(item: Block) -> str:
    """One block as Markdown."""
    if isinstance(item, Heading):
        return f"{'#' * item.level} {_heading_text(item.text)}"
    if isinstance(item, Paragraph):
        return _inline(item.text)
    if isinstance(item, Bullets):
        return "\n".join(f"- {_inline(entry)}" for entry in item.items)
    if isinstance(item, Table):
        return _table(item)
    return _fence(item)


def render(stored: StoredRun) -> str:
    """The whole report for a stored run; the same stored run always gives the same text."""
    parts = ["\n\n".join(block(item) for item in section) for section in sections.report(stored)]
    return "\n\n".join(parts) + "\n"
