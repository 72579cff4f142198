"""perftest's seeder for the stand-in: enough data that every list endpoint pages.

perftest creates its test identities, calls ``seed_sample_data(users)``, records every
instance returned (and keeps the named values it returns for path parameters), and deletes
them (and the users) afterwards. Rows are created with ``bulk_create`` in a fixed number
of statements, whatever the number of users, because seeding hundreds of identities one
row at a time would dominate a test's setup.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from .models import (
    Assignment,
    AssignmentSubmission,
    ChatParticipant,
    ChatRoom,
    Lesson,
    Material,
    Message,
    Notification,
    Subject,
    TeacherProfile,
    User,
)

# Each list endpoint returns this many rows per seeded user: one full page (20) and more.
PER_USER = 25
# Students share a helper teacher per class, and with it the class's assignments and materials.
CLASS_SIZE = 30
# Assignments due before now, which every student of the class has already submitted.
PAST_ASSIGNMENTS = 5
BATCH_SIZE = 500
RESERVED_DOMAIN = "perftest.invalid"

SUBJECTS = [
    ("Mathematics", "#4f46e5"),
    ("Physics", "#0891b2"),
    ("English", "#16a34a"),
    ("Chemistry", "#d97706"),
    ("History", "#dc2626"),
]
TEACHER_NAMES = [
    ("Anna", "Ivanova"),
    ("Boris", "Petrov"),
    ("Clara", "Smirnova"),
    ("Dmitry", "Volkov"),
    ("Elena", "Sokolova"),
]
MATERIAL_TYPES = list(Material.Type)
NOTIFICATIONS = [
    (Notification.Type.LESSON, "Lesson confirmed", "Your lesson has been confirmed."),
    (Notification.Type.ASSIGNMENT, "New assignment", "A new assignment is waiting for you."),
    (Notification.Type.MESSAGE, "New message", "Your teacher sent you a message."),
    (Notification.Type.MATERIAL, "New material", "A new material was shared with you."),
    (Notification.Type.SYSTEM, "Weekly summary", "Your progress report for the week is ready."),
]


@dataclass
class _Class:
    """A helper teacher and the students who share them."""

    teacher: User
    students: Sequence[User]


@dataclass
class _Seed:
    """What one call creates: the clock it uses and every instance, in creation order."""

    run: str
    now: datetime
    created: list[models.Model] = field(default_factory=list)

    def bulk(self, objs: list[models.Model]) -> list[models.Model]:
        if objs:
            objs = type(objs[0]).objects.bulk_create(objs, batch_size=BATCH_SIZE)
            self.created.extend(objs)
        return objs


def seed_sample_data(users: Iterable[User]) -> dict[str, Any]:
    """Give each student ``PER_USER`` lessons, assignments, conversations, materials and
    notifications; return every instance created (helper teachers included) and, per user,
    the id of one of their lessons, chat rooms and notifications (``lesson_id``,
    ``room_id``, ``notification_id``) for detail endpoints such as
    ``/api/scheduling/lessons/{lesson_id}/``.

    Given users with the teacher role (perftest's teacher identities) teach the given
    students, so a teacher's lists hold every lesson, assignment and chat of their class, as
    on the platform; without them, helper teachers who cannot log in take the classes.
    Everything hangs off the given users or the helper teachers by cascading foreign
    keys, so deleting those users removes it too.
    """
    given = list(users)
    teachers = [user for user in given if user.role == User.Role.TEACHER]
    students = [user for user in given if user.role != User.Role.TEACHER]
    if not given:
        return {"objects": [], "values": {}}
    seed = _Seed(run=secrets.token_hex(4), now=timezone.now())
    with transaction.atomic():
        subjects = seed.bulk([Subject(name=name, color=color) for name, color in SUBJECTS])
        if teachers:
            classes = _given_classes(teachers, students)
        else:
            classes = _create_classes(seed, students)
        _create_lessons(seed, classes, subjects)
        _create_assignments(seed, classes, subjects)
        _create_materials(seed, classes, subjects)
        _create_conversations(seed, classes, subjects)
        _create_notifications(seed, given)
    return {"objects": seed.created, "values": _named_values(seed.created)}


#: Which seeded rows give a user a named value: the model, the value's name, and the
#: foreign keys that make a row that user's (a lesson is its student's and its teacher's).
_OWNERS = (
    (Lesson, "lesson_id", ("student_id", "teacher_id")),
    (ChatRoom, "room_id", ("created_by_id",)),
    (Notification, "notification_id", ("recipient_id",)),
)


def _named_values(created: list[models.Model]) -> dict[str, dict[int, int]]:
    """Per user, the first lesson they attend or teach, room they opened and notification
    they got."""
    values: dict[str, dict[int, int]] = {name: {} for _, name, _ in _OWNERS}
    for obj in created:
        for model, name, owners in _OWNERS:
            if type(obj) is model:
                for owner in owners:
                    values[name].setdefault(getattr(obj, owner), obj.pk)
    return values


def _given_classes(teachers: list[User], students: list[User]) -> list[_Class]:
    """The given teachers share the given students between them, one class each (students
    dealt round-robin); a teacher without students still sets and shares its class's work."""
    return [_Class(t, students[i :: len(teachers)]) for i, t in enumerate(teachers)]


def _create_classes(seed: _Seed, students: list[User]) -> list[_Class]:
    """One helper teacher per ``CLASS_SIZE`` students; they cannot log in."""
    groups = [students[i : i + CLASS_SIZE] for i in range(0, len(students), CLASS_SIZE)]
    teachers = []
    for index in range(len(groups)):
        first, last = TEACHER_NAMES[index % len(TEACHER_NAMES)]
        handle = f"perftest-teacher-{seed.run}-{index}"
        teacher = User(
            username=handle,
            email=f"{handle}@{RESERVED_DOMAIN}",
            first_name=first,
            last_name=last,
            role=User.Role.TEACHER,
        )
        teacher.set_unusable_password()
        teachers.append(teacher)
    seed.bulk(teachers)
    seed.bulk([TeacherProfile(user=t, experience_years=3 + i % 10) for i, t in enumerate(teachers)])
    return [_Class(t, group) for t, group in zip(teachers, groups, strict=True)]


def _create_lessons(seed: _Seed, classes: list[_Class], subjects: list[Subject]) -> None:
    """A term of hourly lessons per student: ten past (completed), the rest upcoming."""
    today = seed.now.replace(minute=0, second=0, microsecond=0)
    lessons = []
    for cls in classes:
        for student in cls.students:
            for k in range(PER_USER):
                start = today + timedelta(days=k - 10, hours=k % 6)
                if start < seed.now:
                    status = Lesson.Status.COMPLETED
                elif k % 2:
                    status = Lesson.Status.CONFIRMED
                else:
                    status = Lesson.Status.PENDING
                lessons.append(
                    Lesson(
                        teacher=cls.teacher,
                        student=student,
                        subject=subjects[k % len(subjects)],
                        start_time=start,
                        end_time=start + timedelta(hours=1),
                        status=status,
                        description=f"Lesson {k + 1} of the term.",
                    )
                )
    seed.bulk(lessons)


def _create_assignments(seed: _Seed, classes: list[_Class], subjects: list[Subject]) -> None:
    """Assignments set for a whole class; the past-due ones are submitted and graded."""
    Link = Assignment.assigned_to.through
    assignments, links, submissions = [], [], []
    for cls in classes:
        created = seed.bulk(
            [
                Assignment(
                    author=cls.teacher,
                    subject=subjects[k % len(subjects)],
                    title=f"{subjects[k % len(subjects)].name}: exercise set {k + 1}",
                    description="Solve the exercises and upload your answers.",
                    due_date=seed.now + timedelta(days=k - PAST_ASSIGNMENTS + 1),
                    created_at=seed.now - timedelta(days=7, hours=k),
                )
                for k in range(PER_USER)
            ]
        )
        assignments.extend(created)
        for k, assignment in enumerate(created):
            for student in cls.students:
                links.append(Link(assignment=assignment, user=student))
                if k < PAST_ASSIGNMENTS:
                    submissions.append(
                        AssignmentSubmission(
                            assignment=assignment,
                            student=student,
                            content="My answers are attached.",
                            status=AssignmentSubmission.Status.GRADED,
                            score=60 + (k * 7) % 40,
                            submitted_at=assignment.due_date - timedelta(hours=2),
                        )
                    )
    seed.bulk(links)
    seed.bulk(submissions)


def _create_materials(seed: _Seed, classes: list[_Class], subjects: list[Subject]) -> None:
    """Private materials a teacher shares with their class (none public, so counts stay
    exactly ``PER_USER`` however many seeds run at once)."""
    Link = Material.assigned_to.through
    links = []
    for index, cls in enumerate(classes):
        created = seed.bulk(
            [
                Material(
                    author=cls.teacher,
                    subject=subjects[k % len(subjects)],
                    title=f"{subjects[k % len(subjects)].name}: topic {k + 1}",
                    description="Read before the next lesson.",
                    content="Key definitions, two worked examples and practice questions.",
                    file_url=(
                        f"https://files.{RESERVED_DOMAIN}/{seed.run}/{index}/material-{k}.pdf"
                    ),
                    material_type=MATERIAL_TYPES[k % len(MATERIAL_TYPES)],
                    created_at=seed.now - timedelta(days=3, hours=k),
                )
                for k in range(PER_USER)
            ]
        )
        links.extend(Link(material=m, user=s) for m in created for s in cls.students)
    seed.bulk(links)


def _create_conversations(seed: _Seed, classes: list[_Class], subjects: list[Subject]) -> None:
    """Per student, chats opened with their teacher: three messages each, some unread.

    The student owns each room, so deleting the student removes the room as well.
    """
    pairs = [(cls.teacher, s) for cls in classes for s in cls.students]
    rooms = seed.bulk(
        [
            ChatRoom(
                name=f"{subjects[k % len(subjects)].name} with {teacher.get_full_name()}",
                room_type=ChatRoom.Type.DIRECT if k == 0 else ChatRoom.Type.LESSON,
                created_by=student,
                created_at=seed.now - timedelta(days=30),
            )
            for teacher, student in pairs
            for k in range(PER_USER)
        ]
    )
    participants, messages = [], []
    for index, room in enumerate(rooms):
        teacher, student = pairs[index // PER_USER]
        k = index % PER_USER
        last = seed.now - timedelta(hours=k, minutes=5)
        thread = [
            (teacher, last - timedelta(minutes=20), "Did you manage the homework?"),
            (student, last - timedelta(minutes=10), "Yes, mostly. One question left."),
            (teacher, last, "Bring it to the lesson and we will go through it."),
        ]
        messages.extend(Message(room=room, sender=s, text=t, created_at=at) for s, at, t in thread)
        # Unread for the student: both teacher messages, the last one, or none.
        student_read = [None, last - timedelta(minutes=10), last][k % 3]
        participants.append(ChatParticipant(room=room, user=teacher, last_read_at=last))
        participants.append(ChatParticipant(room=room, user=student, last_read_at=student_read))
    seed.bulk(participants)
    seed.bulk(messages)


def _create_notifications(seed: _Seed, students: list[User]) -> None:
    """Half-hourly notifications, the five newest unread."""
    notifications = []
    for student in students:
        for k in range(PER_USER):
            kind, title, message = NOTIFICATIONS[k % len(NOTIFICATIONS)]
            notifications.append(
                Notification(
                    recipient=student,
                    notification_type=kind,
                    title=title,
                    message=message,
                    is_read=k >= 5,
                    created_at=seed.now - timedelta(minutes=30 * k),
                )
            )
    seed.bulk(notifications)
