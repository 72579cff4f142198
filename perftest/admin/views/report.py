"""A stored run's report, from the admin: the HTML report shown in the browser, the Markdown,
JSON and JUnit reports downloaded.

Each body is the format's ``render`` of the stored run, the very bytes ``perftest_report ID
--format NAME --stdout`` prints, under the file name ``perftest_report`` writes.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.http import content_disposition_header

from perftest.reports import formats
from perftest.store import read

#: The content type each format is served with.
CONTENT_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "json": "application/json",
    "junit": "application/xml",
    "html": "text/html; charset=utf-8",
}

#: Formats a browser shows rather than saves.
INLINE = frozenset({"html"})

#: The HTML report runs no script and loads nothing: a policy that keeps it so in the admin's
#: origin, whatever stored text it shows (inline CSS and SVG only).
REPORT_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def report(request: HttpRequest, model_admin: admin.ModelAdmin, pk: int, name: str) -> HttpResponse:
    """The report of run ``pk`` in format ``name`` (``md``, ``json``, ``junit``, ``html``)."""
    chosen = formats.FORMATS.get(name)
    if chosen is None or name not in CONTENT_TYPES:
        raise Http404(f"No report format {name!r}.")
    try:
        stored = read.load(pk)
    except read.RunNotFound as missing:
        raise Http404(str(missing)) from None
    response = HttpResponse(chosen.render(stored), content_type=CONTENT_TYPES[name])
    response["Content-Disposition"] = content_disposition_header(
        name not in INLINE, chosen.file_name(stored)
    )
    if name in INLINE:
        response["Content-Security-Policy"] = REPORT_POLICY
    return response
