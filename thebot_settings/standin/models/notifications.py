"""In-app notifications, listed newest first."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Notification(models.Model):
    """Something the platform tells one user: a lesson change, a new assignment, a message."""

    class Type(models.TextChoices):
        SYSTEM = "system", "System"
        LESSON = "lesson", "Lesson"
        ASSIGNMENT = "assignment", "Assignment"
        MESSAGE = "message", "Message"
        MATERIAL = "material", "Material"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    title = models.CharField(max_length=200)
    message = models.TextField()
    notification_type = models.CharField(max_length=16, choices=Type.choices, default=Type.SYSTEM)
    is_read = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="standin_notification_inbox_idx")
        ]

    def __str__(self) -> str:
        return self.title


class NotificationSettings(models.Model):
    """Per-user delivery preferences; THE_BOT creates one row per user from a signal."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_settings"
    )
    email_enabled = models.BooleanField(default=True)
    push_enabled = models.BooleanField(default=True)
    digest = models.CharField(max_length=16, default="daily")

    def __str__(self) -> str:
        return f"NotificationSettings(user={self.user_id})"
