"""The plain-text tables the commands print (``perftest_runs``), read back cell by cell."""

from __future__ import annotations


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.split("  ") if cell.strip()]
