"""Stored runs in the Django admin: the list, the run page, its reports and comparisons.

A run's figures are measurements, so everything is read-only except its label. (``Run.notes``
is not a person's notes: it holds what the run itself recorded, e.g. that it found no
baseline, and the report prints it; it is shown, never edited.) Adding a run is refused:
runs come from ``manage.py perftest``. Deleting one deletes its rows (they cascade).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join

from perftest import models
from perftest.reports.sections.phrases import NONE
from perftest.store.read import StoredRun

from . import run_list, run_page
from .forms import RunForm
from .permissions import viewing_runs
from .views import compare, history, live, report


class RunChangeList(ChangeList):
    """The run list, its figures annotated on the query that reads the page."""

    def get_queryset(self, request: HttpRequest, exclude_parameters: Any = None) -> QuerySet:
        return run_list.annotated(super().get_queryset(request, exclude_parameters))


#: The run's own fields that say what it is, near the top of its page: the label and a
#: person's notes (editable), how it ended and what it measured.
WHAT_IT_IS = (
    "label",
    "comment",
    "status",
    "mode",
    "target",
    "started_at",
    "finished_at",
    "failure",
)
#: The fields that say how the run was made, folded below the results ("How this run was
#: made", with the stored plan and environment).
HOW_IT_WAS_MADE = (
    "iterations",
    "warmup",
    "recorded_notes",
    "plan_fingerprint",
    "baseline_run",
    "host",
    "pid",
)
SHOWN = (*WHAT_IT_IS, *HOW_IT_WAS_MADE)


@admin.register(models.Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ("id", "started_at", "label", "mode", "target", *run_list.COLUMNS)
    list_display_links = ("id", "started_at")
    list_filter = ("verdict", "status", "mode", "target")
    date_hierarchy = "started_at"
    search_fields = ("label", "target")
    ordering = ("-started_at", "-pk")
    list_per_page = 50
    form = RunForm
    # The template prints the first fieldset near the top and the second, unnamed, inside the
    # folded "How this run was made" below the results.
    fieldsets = ((None, {"fields": WHAT_IT_IS}), (None, {"fields": HOW_IT_WAS_MADE}))
    readonly_fields = tuple(name for name in SHOWN if name not in RunForm.Meta.fields)
    actions = ("compare_runs",)
    change_form_template = "admin/perftest/run/change_form.html"
    change_list_template = "admin/perftest/run/change_list.html"

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return RunChangeList

    @admin.display(description="baseline")
    def baseline_run(self, run: models.Run) -> str:
        """The run this one was compared with when it ended, linked (no query: its id)."""
        if run.baseline_id is None:
            return NONE
        url = reverse("admin:perftest_run_change", args=[run.baseline_id])
        return format_html('<a href="{}">run #{}</a>', url, run.baseline_id)

    @admin.display(description="notes")
    def recorded_notes(self, run: models.Run) -> str:
        """What the run itself recorded (``Run.notes``), one item each: a list a person reads,
        never the stored JSON."""
        if not run.notes:
            return NONE
        return format_html(
            "<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((note,) for note in run.notes))
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:pk>/report/<str:name>/",
                viewing_runs(self, report.report),
                name="perftest_run_report",
            ),
            path(
                "<int:pk>/compare/<int:baseline_pk>/",
                viewing_runs(self, compare.compare),
                name="perftest_run_compare",
            ),
            path(
                "<int:pk>/endpoint-history/",
                viewing_runs(self, history.history),
                name="perftest_run_endpoint_history",
            ),
            path("<int:pk>/live/", viewing_runs(self, live.live), name="perftest_run_live"),
            *super().get_urls(),
        ]

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: models.Run | None = None,
    ) -> HttpResponse:
        if obj is not None:
            context.update(run_page.context(StoredRun.of(obj)))
            context["title"] = f"Run #{obj.pk}" + (f", {obj.label}" if obj.label else "")
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.action(description="Compare the two selected runs", permissions=["view"])
    def compare_runs(self, request: HttpRequest, queryset: QuerySet) -> HttpResponseRedirect | None:
        """Two runs: the one that started first is the baseline (its page offers the swap).
        Anything else: a warning, back to the list."""
        runs = list(queryset.order_by("started_at", "pk").values_list("pk", flat=True)[:3])
        if len(runs) != 2:
            count = queryset.count()
            messages.warning(request, f"Select exactly two runs to compare; {count} selected.")
            return None
        baseline, after = runs
        return redirect("admin:perftest_run_compare", after, baseline)
