"""The custom user: Django's ``AbstractUser`` plus THE_BOT's role."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Upper


class User(AbstractUser):
    """A platform account; the role decides which profile it has and what it may write."""

    class Role(models.TextChoices):
        STUDENT = "student", "Student"
        TEACHER = "teacher", "Teacher"
        TUTOR = "tutor", "Tutor"
        PARENT = "parent", "Parent"
        ADMIN = "admin", "Admin"

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.STUDENT)

    class Meta(AbstractUser.Meta):
        # Login looks users up by case-insensitive email (``email__iexact``).
        indexes = [models.Index(Upper("email"), name="standin_user_email_upper_idx")]
