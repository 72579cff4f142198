"""A running run's "Live" panel on its own, for the run page's script to put in place every
few seconds (``static/perftest/live.js``): the same template and figures the page shows
first (``admin.live``), read from the rows the run has stored, never cached."""

from __future__ import annotations

from django.contrib import admin
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers

from perftest.store import read

from .. import live as live_panel

TEMPLATE = "admin/perftest/run/live.html"


def live(request: HttpRequest, model_admin: admin.ModelAdmin, pk: int) -> HttpResponse:
    """The live panel of run ``pk`` as an HTML fragment (a finished run's says so)."""
    try:
        stored = read.load(pk)
    except read.RunNotFound as missing:
        raise Http404(str(missing)) from None
    response = TemplateResponse(request, TEMPLATE, {"live": live_panel.of(stored)})
    add_never_cache_headers(response)
    return response
