"""What the browser tests share: Debian's Chromium (Playwright drives it and never downloads
a browser), the arguments it starts with, a mark that skips a test without it, and a staff
user's session cookie for the admin."""

from __future__ import annotations

import os

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu"]

needs_chromium = pytest.mark.skipif(
    not os.path.exists(CHROMIUM),
    reason=f"{CHROMIUM} is missing: `apt-get install -y chromium` (.ci/run does it)",
)


def staff_session(name: str = "reader") -> str:
    """The session cookie of a staff user who may view runs (logged in without a password:
    the login form is the admin browser test's subject, not every browser test's)."""
    person = get_user_model().objects.create_user(name, f"{name}@example.invalid", is_staff=True)
    person.user_permissions.set(Permission.objects.filter(codename="view_run"))
    client = Client()
    client.force_login(person)
    return client.cookies["sessionid"].value
