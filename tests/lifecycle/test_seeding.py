"""Seeding many identities: one password hash, real saves (signals run), every identity logs in."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from perftest.conf import get_config
from perftest.lifecycle import seeding
from perftest.models import SeededObject

pytestmark = pytest.mark.django_db


@pytest.mark.slow
def test_many_identities_share_one_password_hash_and_all_log_in(monkeypatch):
    hashes = []
    real = seeding.make_password

    def counting_make_password(password):
        hashes.append(password)
        return real(password)

    monkeypatch.setattr(seeding, "make_password", counting_make_password)
    config = get_config()
    run_seeding = seeding.Seeding(config["IDENTITY"], None, None)

    identities = run_seeding.create_identities(50)

    assert len(hashes) == 1
    users = get_user_model().objects.filter(email__endswith="@perftest.invalid")
    assert users.count() == 50 and users.values("password").distinct().count() == 1
    assert {i.email for i in identities} == set(users.values_list("email", flat=True))
    last = identities[-1]
    answer = Client().post(
        "/api/auth/login/",
        json.dumps({"email": last.email, "password": last.password}),
        content_type="application/json",
    )
    assert answer.status_code == 200

    assert run_seeding.cleanup() == []
    assert not users.exists() and not SeededObject.objects.exists()


def test_seeded_users_get_what_the_platforms_receivers_create_and_cleanup_removes_it():
    from thebot_settings.standin.models import NotificationSettings, StudentProfile

    run_seeding = seeding.Seeding(
        get_config()["IDENTITY"] | {"FIELDS": {"role": "student"}}, None, None
    )
    identities = run_seeding.create_identities(3)
    pks = [identity.user_pk for identity in identities]

    assert StudentProfile.objects.filter(user__in=pks).count() == 3
    assert NotificationSettings.objects.filter(user__in=pks).count() == 3

    assert run_seeding.cleanup() == []
    assert not StudentProfile.objects.filter(user__in=pks).exists()
    assert not NotificationSettings.objects.filter(user__in=pks).exists()


def test_cleanup_counts_what_it_could_not_remove_and_keeps_its_records():
    from django.db.models import ProtectedError
    from django.db.models.signals import pre_delete

    run_seeding = seeding.Seeding(get_config()["IDENTITY"], None, None)
    run_seeding.create_identities(2)

    def protect(sender, instance, **kwargs):
        raise ProtectedError("a row of the platform still points at this user", {instance})

    user_model = get_user_model()
    pre_delete.connect(protect, sender=user_model, dispatch_uid="test-protect")
    try:
        problems = run_seeding.cleanup()
    finally:
        pre_delete.disconnect(sender=user_model, dispatch_uid="test-protect")

    assert len(problems) == 1 and problems[0].startswith("could not delete 2 standin.User rows")
    assert SeededObject.objects.count() == 2  # kept, so the next run removes them
    assert run_seeding.cleanup() == [] and not SeededObject.objects.exists()
