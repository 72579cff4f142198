"""A table as the admin's pages print it (``admin/perftest/table.html``): rows of cells, a row
coloured by its verdict, a line of evidence under a row, and a sentence when there is none.
Each cell carries its column's header too, so a narrow screen can stack a row's cells and
still say what each is."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Row:
    cells: tuple[object, ...]
    #: The row's colour class (``perftest-failed``...), "" for none.
    css: str = ""
    #: A line of text under the row's cells (a finding's evidence), "" for none.
    detail: str = ""
    #: The row's id, for the first screen's links to it ("" for none).
    anchor: str = ""


@dataclass(frozen=True)
class Table:
    title: str
    headers: tuple[str, ...]
    rows: tuple[Row, ...]
    #: What the page says instead when there is no row.
    empty: str = ""
    collapsed: bool = False
    #: Indexes of the right-aligned columns (counts and times).
    right: frozenset[int] = field(default_factory=frozenset)

    @property
    def labelled(self) -> tuple[tuple[Row, tuple[tuple[str, object], ...]], ...]:
        """Each row with its cells paired with their column's header."""
        return tuple((row, tuple(zip(self.headers, row.cells, strict=True))) for row in self.rows)
