"""``/api/notifications/``: the user's notifications, newest first."""

from django.db.models import QuerySet
from rest_framework import viewsets

from ..models import Notification
from ..serializers.notifications import NotificationSerializer


class NotificationViewSet(viewsets.ReadOnlyModelViewSet):
    """Read-only: notifications are created by the platform, never through this API."""

    serializer_class = NotificationSerializer

    def get_queryset(self) -> QuerySet[Notification]:
        return Notification.objects.filter(recipient=self.request.user)
