"""``/api/chat/conversations/``: the user's rooms with last message and unread count."""

from django.db.models import QuerySet
from rest_framework import viewsets

from ..models import ChatRoom
from ..serializers.chat import ConversationSerializer


class ConversationViewSet(viewsets.ReadOnlyModelViewSet):
    """Rooms the user belongs to, most recently active first.

    A page costs three queries: the count, the annotated rooms, and their participants.
    """

    serializer_class = ConversationSerializer

    def get_queryset(self) -> QuerySet[ChatRoom]:
        return ChatRoom.objects.for_participant(self.request.user).prefetch_related("participants")
