"""perftest's AppConfig."""

from django.apps import AppConfig


class PerftestConfig(AppConfig):
    name = "perftest"
    verbose_name = "Performance tests"
    default_auto_field = "django.db.models.BigAutoField"
