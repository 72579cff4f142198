"""THE_BOT's ``post_save`` receivers: every new user gets a role profile and notification settings.

The real platform creates both from signals, so a user created without them (a ``bulk_create``)
is not a user the platform would ever have; perftest's seeded identities must get them too.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import NotificationSettings, ensure_profile


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="standin-new-user-rows")
def create_user_rows(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    """A new user's role profile and notification settings (fixtures loaded raw are left alone)."""
    if not created or raw:
        return
    ensure_profile(instance)
    NotificationSettings.objects.get_or_create(user=instance)
