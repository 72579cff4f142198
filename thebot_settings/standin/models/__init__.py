"""THE_BOT's data model, as far as the measured endpoints touch it.

Every relation towards ``User`` cascades (or nulls), never protects: perftest deletes the
users it seeded and relies on the database to remove everything they own.
"""

from .chat import ChatParticipant, ChatRoom, Message
from .learning import Assignment, AssignmentSubmission, Lesson, Material, Subject
from .notifications import Notification, NotificationSettings
from .profiles import (
    ParentProfile,
    StudentProfile,
    TeacherProfile,
    TutorProfile,
    ensure_profile,
)
from .users import User

__all__ = [
    "Assignment",
    "AssignmentSubmission",
    "ChatParticipant",
    "ChatRoom",
    "Lesson",
    "Material",
    "Message",
    "Notification",
    "NotificationSettings",
    "ParentProfile",
    "StudentProfile",
    "Subject",
    "TeacherProfile",
    "TutorProfile",
    "User",
    "ensure_profile",
]
