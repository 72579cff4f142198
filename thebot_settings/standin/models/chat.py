"""Chat: rooms with participants, messages, and a per-participant read marker."""

from __future__ import annotations

from datetime import datetime
from datetime import timezone as dt_timezone

from django.conf import settings
from django.db import models
from django.db.models import Count, F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from .users import User

# A participant who never opened the room has read nothing: every message is newer than this.
NEVER_READ = datetime(1970, 1, 1, tzinfo=dt_timezone.utc)


class ChatRoomQuerySet(models.QuerySet):
    def for_participant(self, user: User) -> ChatRoomQuerySet:
        """The user's rooms, each annotated with its last message and the user's unread count.

        Everything is computed in the one list query (correlated subqueries on the
        ``(room, created_at)`` index), so a page costs no per-room queries.
        """
        messages = Message.objects.filter(room=OuterRef("pk")).order_by("-created_at", "-id")
        unread = (
            Message.objects.filter(room=OuterRef("pk"), created_at__gt=OuterRef("my_last_read"))
            .exclude(sender=user)
            .order_by()
            .values("room")
            .annotate(n=Count("pk"))
            .values("n")
        )
        # Filtering on the membership first lets the annotation reuse that same join.
        return (
            self.filter(memberships__user=user)
            .annotate(
                my_last_read=Coalesce(F("memberships__last_read_at"), Value(NEVER_READ)),
                last_message_id=Subquery(messages.values("pk")[:1]),
                last_message_text=Subquery(messages.values("text")[:1]),
                last_message_sender_id=Subquery(messages.values("sender")[:1]),
                last_message_at=Subquery(messages.values("created_at")[:1]),
            )
            .annotate(unread_count=Coalesce(Subquery(unread), 0))
            .order_by(F("last_message_at").desc(nulls_last=True), "-id")
        )


class ChatRoom(models.Model):
    """A conversation: a direct chat, a class group, or the chat attached to a lesson."""

    class Type(models.TextChoices):
        DIRECT = "direct", "Direct"
        GROUP = "group", "Group"
        LESSON = "lesson", "Lesson"

    name = models.CharField(max_length=200)
    room_type = models.CharField(max_length=16, choices=Type.choices, default=Type.DIRECT)
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="ChatParticipant", related_name="chat_rooms"
    )
    # Owned by whoever opened it, so deleting that user removes the room with its messages.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_rooms_created"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = ChatRoomQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class ChatParticipant(models.Model):
    """Membership of a user in a room; ``last_read_at`` drives the unread count."""

    room = models.ForeignKey(ChatRoom, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_memberships"
    )
    joined_at = models.DateTimeField(default=timezone.now)
    last_read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["room", "user"], name="standin_one_membership")
        ]
        indexes = [models.Index(fields=["user", "room"], name="standin_member_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.room_id}"


class Message(models.Model):
    """One chat message."""

    room = models.ForeignKey(ChatRoom, on_delete=models.CASCADE, related_name="messages")
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="messages_sent"
    )
    text = models.TextField()
    is_edited = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["room", "created_at"], name="standin_message_room_idx")]

    def __str__(self) -> str:
        return f"{self.sender_id} in {self.room_id}: {self.text[:30]}"
