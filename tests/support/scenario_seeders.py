"""Seeders for the path-parameter tests, built on the stand-in's own."""

from __future__ import annotations

from typing import Any

from thebot_settings.standin.seed import seed_sample_data


def first_users_lesson_for_everyone(users: list) -> dict[str, Any]:
    """The stand-in's data, but one ``lesson_id`` for every identity: the first user's
    lesson, which no other identity may see (the control for per-identity values)."""
    seeded = seed_sample_data(users)
    lesson = seeded["values"]["lesson_id"][users[0].pk]
    return {"objects": seeded["objects"], "values": {"lesson_id": lesson}}


def instances_only(users: list) -> list:
    """The first seeder contract: only the created instances, no named values."""
    return seed_sample_data(users)["objects"]
