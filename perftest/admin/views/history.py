"""A run's endpoint history on a page of its own: each endpoint's p95 and queries per request
across the run and the newest earlier runs of its target and plan (``store.history.RUNS`` in
all), regressions marked, the runs not judged told apart, each mark explained.

The run page shows the newest few; this page the whole window. History is computed now from
the stored runs, so it lives in the admin, never in a report.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from perftest.store import read

from .. import endpoint_history


def history(request: HttpRequest, model_admin: admin.ModelAdmin, pk: int) -> HttpResponse:
    """The endpoint history of run ``pk``."""
    try:
        stored = read.load(pk)
    except read.RunNotFound as missing:
        raise Http404(str(missing)) from None
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": f"Endpoint history up to run #{pk}",
        "run": stored.row,
        "history": endpoint_history.of(stored),
    }
    return TemplateResponse(request, "admin/perftest/endpoint_history.html", context)
