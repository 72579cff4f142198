"""The stored plan and environment as a person reads them: nested lists of names and values,
not JSON.

A run's plan and environment are plain data of any shape (settings, measurements, lists of
processes); the page shows every value, redacted as it was stored, with its name beside it.
A list of plain values reads as one line; a list of records as one item each.
"""

from __future__ import annotations

from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from perftest.reports.sections.phrases import NONE


def _scalar(value: Any) -> str:
    if value is None or value == "":
        return NONE
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _plain(items: list[Any]) -> bool:
    return all(not isinstance(item, (dict, list)) for item in items)


def as_html(value: Any) -> SafeString:
    """``value`` as nested definition lists (dicts) and lists (lists of records)."""
    if isinstance(value, dict):
        if not value:
            return format_html("{}", NONE)
        return format_html(
            '<dl class="perftest-stored">{}</dl>',
            format_html_join(
                "", "<dt>{}</dt><dd>{}</dd>", ((key, as_html(value[key])) for key in sorted(value))
            ),
        )
    if isinstance(value, list):
        if not value:
            return format_html("{}", NONE)
        if _plain(value):
            return format_html("{}", ", ".join(_scalar(item) for item in value))
        return format_html(
            '<ol class="perftest-stored">{}</ol>',
            format_html_join("", "<li>{}</li>", ((as_html(item),) for item in value)),
        )
    return format_html("{}", _scalar(value))
