"""What a run that measures nothing leaves in the database: nothing (no run, no seeded object,
no ``perftest-`` user)."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from perftest.models import Run, SeededObject


def nothing_left_behind() -> bool:
    users = get_user_model().objects.filter(username__startswith="perftest-")
    return not Run.objects.exists() and not SeededObject.objects.exists() and not users.exists()
