"""The admin's pages of stored runs as a logged-in user reads them through Django's test
client: the run list's address, a client logged in with given permissions, a list column's
cells."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

LIST = "/admin/perftest/run/"


def user(name: str, *, staff: bool = True, perms: tuple[str, ...] = ("view_run",)) -> Client:
    """A client logged in as a new user with the given perftest permissions."""
    account = get_user_model().objects.create_user(name, f"{name}@example.invalid", is_staff=staff)
    account.user_permissions.set(
        Permission.objects.filter(content_type__app_label="perftest", codename__in=perms)
    )
    client = Client()
    client.force_login(account)
    return client


def cell(page: str, column: str) -> list[str]:
    """The text of every list cell of ``column`` (Django's ``field-<name>`` class), tags out."""
    found = re.findall(rf'<td class="field-{column}[^"]*">(.*?)</td>', page, re.S)
    return [re.sub(r"<[^>]+>", "", text).strip() for text in found]
