"""App configuration of THE_BOT stand-in."""

from django.apps import AppConfig


class StandinConfig(AppConfig):
    """Label ``standin`` so ``AUTH_USER_MODEL = "standin.User"`` resolves."""

    name = "thebot_settings.standin"
    label = "standin"
    verbose_name = "THE_BOT stand-in"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import signals  # noqa: F401 - connects THE_BOT's post_save receivers
