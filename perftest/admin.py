"""Stored runs in the Django admin: read-only, since a run's figures are measurements."""

from django.contrib import admin

from . import models


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class EndpointInline(ReadOnlyInline):
    model = models.EndpointResult
    fields = [
        "phase",
        "name",
        "role",
        "method",
        "path",
        "requests",
        "ok",
        "p50_ms",
        "p95_ms",
        "p99_ms",
    ]


class FindingInline(ReadOnlyInline):
    model = models.Finding
    fields = ["kind", "rule", "subject", "title", "passed"]


@admin.register(models.Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ["id", "label", "status", "mode", "target", "started_at", "finished_at"]
    list_filter = ["status", "mode"]
    search_fields = ["label", "target"]
    inlines = [EndpointInline, FindingInline]

    def has_change_permission(self, request, obj=None) -> bool:
        return False
