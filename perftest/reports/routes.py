"""``perftest --list-endpoints``: the target's routes as an aligned table, one route a line.

The facts are ``plan.inventory``'s, read off the URLconf; this module only lays them out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from perftest.text import quantity

if TYPE_CHECKING:
    from perftest.plan.inventory import Route


def _yes_no(value: bool | None) -> str:
    return "?" if value is None else ("yes" if value else "no")


def table(routes: list[Route], admin_routes: int) -> str:
    """``--list-endpoints``: one route a line, in URLconf order, columns aligned."""
    header = ("METHODS", "PATH", "NAME", "AUTH", "LIST", "PARAMETERS", "VIEW")
    rows = [
        (
            ",".join(route.methods) or "?",
            route.path,
            route.name or "-",
            _yes_no(route.auth),
            _yes_no(route.is_list),
            ",".join(route.parameters) or "-",
            route.view,
        )
        for route in routes
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header) - 1)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
        + "  "
        + row[-1]
        for row in (header, *rows)
    ]
    lines.append(
        f"{quantity(len(routes), 'route')}; AUTH and LIST '?' where the view does not say "
        "(not a DRF view)."
    )
    if admin_routes:
        lines.append(f"{quantity(admin_routes, 'route')} of Django's admin site not listed.")
    return "\n".join(lines)
