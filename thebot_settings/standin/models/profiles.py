"""One profile row per role, created lazily the first time a user logs in."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .users import User


class Profile(models.Model):
    """What every role's profile shares; each subclass adds its own ``user`` one-to-one."""

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{type(self).__name__}(user={self.user_id})"


class StudentProfile(Profile):
    """A learner, optionally followed by a tutor and a parent."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="student_profile"
    )
    grade = models.PositiveSmallIntegerField(null=True, blank=True)
    goal = models.CharField(max_length=255, blank=True)
    progress_percentage = models.PositiveSmallIntegerField(default=0)
    tutor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tutored_students",
    )
    parent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="children_profiles",
    )


class TeacherProfile(Profile):
    """A teacher who gives lessons and authors assignments and materials."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="teacher_profile"
    )
    bio = models.TextField(blank=True)
    experience_years = models.PositiveSmallIntegerField(default=0)
    subjects = models.ManyToManyField("standin.Subject", blank=True, related_name="teachers")


class TutorProfile(Profile):
    """A tutor who follows students' progress across subjects."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tutor_profile"
    )
    specialization = models.CharField(max_length=255, blank=True)
    experience_years = models.PositiveSmallIntegerField(default=0)
    bio = models.TextField(blank=True)


class ParentProfile(Profile):
    """A parent; the children are the student profiles pointing here."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="parent_profile"
    )
    phone = models.CharField(max_length=32, blank=True)


PROFILE_MODELS: dict[str, type[Profile]] = {
    User.Role.STUDENT: StudentProfile,
    User.Role.TEACHER: TeacherProfile,
    User.Role.TUTOR: TutorProfile,
    User.Role.PARENT: ParentProfile,
}


def ensure_profile(user: User) -> Profile | None:
    """Return the user's role profile, creating it if missing; admins have none."""
    model = PROFILE_MODELS.get(user.role)
    if model is None:
        return None
    profile, _ = model.objects.get_or_create(user=user)
    return profile
