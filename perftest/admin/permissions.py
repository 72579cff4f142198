"""The one check every perftest admin view makes: staff, and allowed to view runs.

``admin_site.admin_view`` sends anyone who is not active staff to the admin's login page; the
view then refuses (403) staff without ``perftest.view_run`` (or ``change_run``, which
implies it, as everywhere in Django's admin), so a report or a download is never reachable
by someone the run list itself would refuse.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

View = Callable[..., HttpResponse]


def viewing_runs(model_admin: admin.ModelAdmin, view: View) -> View:
    """``view`` behind the admin's login and the model admin's view permission."""

    @functools.wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not model_admin.has_view_permission(request):
            raise PermissionDenied
        return view(request, model_admin, *args, **kwargs)

    return model_admin.admin_site.admin_view(checked)
