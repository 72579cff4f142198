"""Conversations with their last message and the reader's unread count."""

from rest_framework import serializers

from ..models import ChatRoom
from .users import UserBriefSerializer


class ConversationSerializer(serializers.ModelSerializer):
    """Reads the annotations of ``ChatRoom.objects.for_participant``; never queries itself."""

    participants = UserBriefSerializer(many=True, read_only=True)
    last_message = serializers.SerializerMethodField()
    unread_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = ChatRoom
        fields = [
            "id",
            "name",
            "room_type",
            "participants",
            "last_message",
            "unread_count",
            "created_at",
        ]
        read_only_fields = fields

    def get_last_message(self, room: ChatRoom) -> dict | None:
        if room.last_message_id is None:
            return None
        return {
            "id": room.last_message_id,
            "text": room.last_message_text,
            "sender_id": room.last_message_sender_id,
            "created_at": serializers.DateTimeField().to_representation(room.last_message_at),
        }
