"""Small coloured labels the admin pages share: a run's status and verdict, a count, a
finding's kind.

The colours are classes of ``admin/perftest/styles.html``, so every page colours a failed
threshold or a bottleneck the same way, and colour is never the only sign (the text says it).
"""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.safestring import SafeString

from perftest.analysis.verdict import Verdict
from perftest.reports.sections.summary import QUOTED_REASONS, verdict_reasons
from perftest.store.read import Status, VerdictWord

#: The badge class of each verdict: green only for a GREEN run, red for a RED one.
VERDICT_CLASSES = {
    VerdictWord.GREEN: "good",
    VerdictWord.RED: "bad",
    VerdictWord.REGRESSED: "warn",
    VerdictWord.INTERRUPTED: "warn",
}

#: The badge class of a run never judged, by status: a run that completed but has no stored
#: verdict (stored before verdicts were) is grey, never green, since nothing says it passed.
STATUS_CLASSES = {
    Status.COMPLETED: "none",
    Status.RUNNING: "info",
    Status.INTERRUPTED: "warn",
    Status.FAILED: "bad",
    Status.ABANDONED: "bad",
}


def badge(text: object, css: str) -> SafeString:
    """``text`` in a coloured label; ``css`` is one of good, bad, warn, info, none."""
    return format_html('<span class="perftest-badge perftest-{}">{}</span>', css, text)


def run_status(status: str, judged: Verdict | None) -> SafeString:
    """The run's status coloured by its verdict (a red run that completed is a red
    ``completed``), or by the status alone for a run never judged."""
    css = VERDICT_CLASSES[judged.word] if judged else STATUS_CLASSES.get(status, "none")
    return badge(status, css)


def verdict(judged: Verdict, quoted: int = QUOTED_REASONS) -> SafeString:
    """The verdict's word as a coloured label, then the count of reasons and the first ones."""
    return format_html(
        '{} <span class="perftest-verdict-reasons">{}</span>',
        badge(judged.word, VERDICT_CLASSES[judged.word]),
        verdict_reasons(judged, quoted),
    )
