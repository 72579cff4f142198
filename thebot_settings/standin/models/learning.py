"""What students learn from: subjects, lessons, assignments and materials."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .users import User


class Subject(models.Model):
    """A school subject; lessons, assignments and materials belong to one."""

    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    color = models.CharField(max_length=7, default="#4f46e5")

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class LessonQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> LessonQuerySet:
        """A teacher's lessons are those they teach (read through the teacher index); anyone
        else sees the lessons they teach or attend."""
        if user.role == User.Role.TEACHER:
            return self.filter(teacher=user)
        return self.filter(Q(teacher=user) | Q(student=user))


class Lesson(models.Model):
    """One scheduled session between a teacher and a student."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        CONFIRMED = "confirmed", "Confirmed"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lessons_taught"
    )
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lessons"
    )
    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="lessons")
    start_time = models.DateTimeField()
    end_time = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    description = models.TextField(blank=True)
    meeting_link = models.URLField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = LessonQuerySet.as_manager()

    class Meta:
        ordering = ["start_time", "id"]
        indexes = [
            models.Index(fields=["student", "start_time"], name="standin_lesson_student_idx"),
            models.Index(fields=["teacher", "start_time"], name="standin_lesson_teacher_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=models.F("start_time")), name="standin_lesson_ends_after"
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject_id} {self.start_time:%Y-%m-%d %H:%M}"


class AssignmentQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> AssignmentQuerySet:
        """Assignments the user authored or is assigned; a subquery avoids DISTINCT."""
        assigned = Assignment.assigned_to.through.objects.filter(user=user).values("assignment")
        return self.filter(Q(author=user) | Q(pk__in=assigned))


class Assignment(models.Model):
    """Homework a teacher sets for some students."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        CLOSED = "closed", "Closed"

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments_authored"
    )
    assigned_to = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="assignments"
    )
    subject = models.ForeignKey(
        Subject, on_delete=models.SET_NULL, null=True, blank=True, related_name="assignments"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    due_date = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PUBLISHED)
    max_score = models.PositiveSmallIntegerField(default=100)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class AssignmentSubmission(models.Model):
    """A student's answer to an assignment, later graded by its author."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"
        GRADED = "graded", "Graded"
        RETURNED = "returned", "Returned for revision"

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="submissions")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="submissions"
    )
    content = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "student"], name="standin_one_submission_per_student"
            )
        ]

    def __str__(self) -> str:
        return f"{self.assignment_id} by {self.student_id}"


class MaterialQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> MaterialQuerySet:
        """Public materials, the user's own, and those shared with the user."""
        shared = Material.assigned_to.through.objects.filter(user=user).values("material")
        return self.filter(Q(is_public=True) | Q(author=user) | Q(pk__in=shared))


class Material(models.Model):
    """A learning resource a teacher publishes or shares with chosen students."""

    class Type(models.TextChoices):
        LESSON = "lesson", "Lesson notes"
        PRESENTATION = "presentation", "Presentation"
        VIDEO = "video", "Video"
        DOCUMENT = "document", "Document"
        TEST = "test", "Test"

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="materials_authored"
    )
    subject = models.ForeignKey(
        Subject, on_delete=models.SET_NULL, null=True, blank=True, related_name="materials"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    content = models.TextField(blank=True)
    file_url = models.URLField(blank=True)
    material_type = models.CharField(max_length=16, choices=Type.choices, default=Type.DOCUMENT)
    is_public = models.BooleanField(default=False, db_index=True)
    assigned_to = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="assigned_materials"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MaterialQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title
