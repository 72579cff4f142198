"""The terminal's text: the verdict and the short summary printed at the end of a run.

Figures come from the same sections and metrics as the Markdown report, so the terminal and
the file never disagree about a number. Tables are aligned in columns, numbers to the right.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from perftest.analysis import verdict
from perftest.store.read import StoredRun
from perftest.text import quantity

from .blocks import Block, Bullets, Code, Heading, Inline, Table
from .sections import short_summary, summary


def _inline(text: Inline) -> str:
    return text if isinstance(text, str) else "".join(getattr(p, "text", p) for p in text)


def _table(table: Table) -> list[str]:
    rows = [[str(cell) for cell in row] for row in [table.headers, *table.rows]]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell.rjust(width) if i in table.right else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]


def _lines(item: Block) -> list[str]:
    if isinstance(item, Table):
        return _table(item)
    if isinstance(item, Bullets):
        return [f"- {_inline(entry)}" for entry in item.items]
    if isinstance(item, Code):
        return item.text.splitlines()
    if isinstance(item, Heading):
        return [item.text]
    return [_inline(item.text)]


def render(blocks: list[Block]) -> str:
    """Blocks as terminal lines; a table after another table is set apart by an empty line."""
    lines: list[str] = []
    for index, item in enumerate(blocks):
        if index and isinstance(item, Table) and isinstance(blocks[index - 1], Table):
            lines.append("")
        lines += _lines(item)
    return "\n".join(lines)


def summary_table(stored: StoredRun) -> str:
    """The sequential endpoints, one line per load level, then the threshold tally."""
    return render(short_summary.blocks(stored))


def verdict_line(judged: verdict.Verdict, quoted: int = summary.QUOTED_REASONS) -> str:
    """``RED — 13 reasons: FAIL: …; FAIL: …; FAIL: …; and 10 more``: the first line a run
    prints once it has ended, as the reports' first block says it (a list's cell quotes
    fewer reasons)."""
    return _inline(summary.verdict_line(judged, quoted))


@dataclass(frozen=True)
class Ending:
    """What the terminal says once a run is stored and reported, and the exit code it earns."""

    #: The verdict first, the most pressing findings, the summary, where the reports are, then
    #: one line per reason.
    lines: tuple[str, ...]
    #: The verdict's exit code: 0 green, 1 red, 3 regressed, 130 interrupted.
    code: int
    #: ``3 reasons``: how many lines above say why.
    reasons: str
    #: ``Run #12 is red: 3 reasons above``; empty when the run is green.
    told: str


def ending(stored: StoredRun, paths: Iterable[object]) -> Ending:
    """The end of a run's output, its reports written to ``paths``; the verdict decides the
    exit code."""
    judged = verdict.of(stored)
    reports = ", ".join(str(path) for path in paths)
    top = short_summary.top_findings(stored)
    lines = (
        verdict_line(judged),
        *([render(top)] if top else []),
        summary_table(stored),
        f"Run #{stored.pk} {stored.status}. Report: {reports}",
        *judged.reasons,
    )
    reasons = quantity(len(judged.reasons), "reason")
    state = "regressed" if judged.code == verdict.REGRESSED else "is red"
    told = f"Run #{stored.pk} {state}: {reasons} above" if judged.code else ""
    return Ending(lines, judged.code, reasons, told)
