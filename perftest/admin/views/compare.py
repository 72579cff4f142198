"""Two stored runs compared, as ``perftest_report AFTER --baseline BEFORE`` compares them: the
comparison is computed now and shown, nothing stored changes.

The page shows the report's comparison section (the changes beyond noise per endpoint and
level, then what stayed the same), the noise rule that decided, and the before/after chart.
Runs that cannot be compared send the person back to the list with the reason
``store.read.baseline_for`` gives (another target, another plan, a baseline not completed).
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
from perftest.store import read

from .. import drawing


def compare(
    request: HttpRequest, model_admin: admin.ModelAdmin, pk: int, baseline_pk: int
) -> HttpResponse:
    """Run ``pk`` compared with run ``baseline_pk`` (its baseline: "before")."""
    try:
        after = read.load(pk)
        baseline = rebaseline.resolve(after, str(baseline_pk))
    except (read.RunNotFound, rebaseline.NotComparable) as refused:
        messages.warning(request, str(refused))
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
        "charts": drawing.drawn(compared, (charts.before_after,)),
        "swapped_url": reverse("admin:perftest_run_compare", args=[baseline_pk, pk]),
    }
    return TemplateResponse(request, "admin/perftest/compare.html", context)
