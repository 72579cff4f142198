"""Small coloured labels the admin pages share: a run's status, a count, a finding's kind.

The colours are classes of ``admin/perftest/styles.html``, so every page colours a failed
threshold or a bottleneck the same way, and colour is never the only sign (the text says it).
"""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.safestring import SafeString

from perftest.store.read import Status

#: The badge class of each run status: green only for a run that completed.
STATUS_CLASSES = {
    Status.COMPLETED: "good",
    Status.RUNNING: "info",
    Status.INTERRUPTED: "warn",
    Status.FAILED: "bad",
    Status.ABANDONED: "bad",
}


def badge(text: object, css: str) -> SafeString:
    """``text`` in a coloured label; ``css`` is one of good, bad, warn, info, none."""
    return format_html('<span class="perftest-badge perftest-{}">{}</span>', css, text)


def run_status(status: str) -> SafeString:
    return badge(status, STATUS_CLASSES.get(status, "none"))
