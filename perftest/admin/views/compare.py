"""Two stored runs compared, as ``perftest_report AFTER --baseline BEFORE`` compares them: the
comparison is computed now and shown, nothing stored changes.

The page shows the report's comparison section (the changes beyond noise per endpoint and
level, then what stayed the same), the before/after chart, every compared figure (folded
away) and the noise rule that decided.
Runs that cannot be compared send the person back to the list with the reason
``store.baselines.baseline_for`` gives (another target, another plan, a baseline not completed).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.safestring import SafeString

from perftest.analysis import rebaseline
from perftest.reports import charts, html
from perftest.reports.sections import comparison
from perftest.reports.sections.phrases import NONE
from perftest.reports.web_words import without_flags
from perftest.store import read

from .. import drawing
from ..tables import Row, Table

#: The colour class of a figure's verdict.
VERDICT_CSS = {comparison.REGRESSION: "perftest-failed", comparison.IMPROVEMENT: "perftest-passed"}


def every_figure(compared: read.StoredRun) -> Table:
    """Each compared figure of each endpoint and level, before → after, with its verdict and
    why: what the report's section condenses, for a person who wants every number."""
    rows = comparison.of(compared).get("rows", ())
    return Table(
        "Every figure compared",
        ("Endpoint or level", "Figure", "Before", "After", "Change", "Why", "Verdict"),
        tuple(
            Row(
                (
                    comparison.where(row),
                    comparison.metric_name(metric),
                    comparison.value(metric, "before"),
                    comparison.value(metric, "after"),
                    comparison.change(metric),
                    metric["why"] or NONE,
                    metric["verdict"],
                ),
                css=VERDICT_CSS.get(metric["verdict"], ""),
            )
            for row in rows
            for metric in row["metrics"]
        ),
        empty="The two runs have no endpoint or level in common.",
        collapsed=True,
        right=frozenset({2, 3, 4}),
    )


def compare(
    request: HttpRequest, model_admin: admin.ModelAdmin, pk: int, baseline_pk: int
) -> HttpResponse:
    """Run ``pk`` compared with run ``baseline_pk`` (its baseline: "before")."""
    try:
        after = read.load(pk)
        baseline = rebaseline.resolve(after, str(baseline_pk))
    except (read.RunNotFound, rebaseline.NotComparable) as refused:
        messages.warning(request, without_flags(str(refused)))
        return redirect("admin:perftest_run_changelist")
    compared = rebaseline.compared_with(after, baseline)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": f"Run #{pk} compared with run #{baseline_pk}",
        "after": after.row,
        "baseline": baseline.row,
        "section": SafeString(html.section_html(comparison.section(compared))),
        "noise_rule": comparison.noise_rule(compared),
        "table": every_figure(compared),
        "charts": drawing.drawn(compared, (charts.before_after,)),
        "swapped_url": reverse("admin:perftest_run_compare", args=[baseline_pk, pk]),
    }
    return TemplateResponse(request, "admin/perftest/compare.html", context)
