"""What a report says, as format-neutral blocks: sections build them, renderers print them.

A section returns a list of blocks; the Markdown renderer and the console renderer each know
how to print every kind, so a sentence is chosen once and reads the same in either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Strong:
    """Text to stress within a sentence (bold in Markdown)."""

    text: str


@dataclass(frozen=True)
class Link:
    """Text that leads to its evidence further down the report: ``anchor`` is the id of a
    heading below (``reports.anchors``), on ``page`` when that is another page (the admin
    links to the HTML report what its own page does not show). Markdown and HTML link it;
    the terminal prints the text alone."""

    text: str
    anchor: str
    page: str = ""

    @property
    def href(self) -> str:
        return f"{self.page}#{self.anchor}"


#: A run of text: a plain string, or parts of which some are stressed or linked.
Inline = str | Sequence[str | Strong | Link]


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    text: Inline


@dataclass(frozen=True)
class Bullets:
    items: Sequence[Inline]


@dataclass(frozen=True)
class Table:
    headers: Sequence[str]
    rows: Sequence[Sequence[object]]
    #: Indexes of the columns aligned to the right where the output can align (counts, times).
    right: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Code:
    """Stored text shown verbatim (SQL, evidence), never interpreted as markup."""

    text: str
    language: str = ""


Block = Heading | Paragraph | Bullets | Table | Code
