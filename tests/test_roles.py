"""Several kinds of user in one run: 5 students and 2 teachers measuring the same endpoints,
stored, judged and reported per role."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from perftest.models import Finding, Run
from thebot_settings.settings import PERFTEST as THEBOT

pytestmark = pytest.mark.django_db

ROLES = [
    {"name": "student", "count": 5, "fields": {"role": "student"}},
    {"name": "teacher", "count": 2, "fields": {"role": "teacher"}},
]
WITH_ROLES = {**THEBOT, "IDENTITY": {**THEBOT["IDENTITY"], "ROLES": ROLES}}
NAMES = [endpoint["name"] for endpoint in THEBOT["ENDPOINTS"]]


@override_settings(PERFTEST=WITH_ROLES)
def test_every_endpoint_is_stored_once_per_role_with_the_roles_data(run_perftest):
    run, report = run_perftest(
        "--iterations", "3", "--warmup", "0", "--threshold", "p99{Get Lessons@teacher} < 60s"
    )

    assert run.status == Run.Status.COMPLETED
    rows = list(run.endpoints.filter(phase="sequential").order_by("position"))
    assert [(r.name, r.role) for r in rows] == [
        (name, role) for name in NAMES for role in ("student", "teacher")
    ]
    assert all(r.requests == 3 and r.ok == 3 for r in rows), [(r.label, r.errors) for r in rows]
    by = {(r.name, r.role): r for r in rows}
    # The seeder made the teachers the class teachers: their lists are full pages too.
    for name in ("Get Lessons", "Get Assignments", "Get Materials", "Get Conversations"):
        teacher = by[name, "teacher"]
        assert teacher.body_kind == "page" and teacher.empty_answers == 0, teacher.label
        assert teacher.mean_bytes > 2000, (teacher.label, teacher.mean_bytes)
    # A teacher's profile is a TeacherProfile (subjects, bio), not a StudentProfile.
    student_profile, teacher_profile = by["Get Profile", "student"], by["Get Profile", "teacher"]
    assert teacher_profile.mean_bytes != student_profile.mean_bytes
    assert teacher_profile.statements != student_profile.statements

    # The report names the role of each row; the role-scoped threshold judged its role only.
    assert "| Endpoint | Role |" in report
    assert "| Get Lessons | teacher |" in report and "| Get Lessons | student |" in report
    (check,) = run.findings.filter(kind=Finding.Kind.THRESHOLD, rule="threshold.p99")
    assert check.subject == "Get Lessons (teacher)" and check.passed is True
    assert "Get Lessons (teacher)" in check.title


@override_settings(PERFTEST=WITH_ROLES)
def test_role_scoped_threshold_fails_for_its_role_only(run_perftest, tmp_path):
    run, _ = run_perftest(
        "--iterations",
        "2",
        "--warmup",
        "0",
        "--endpoints",
        "Get Profile",
        "--threshold",
        "queries_max{Get Profile@teacher} < 1",
        "--threshold",
        "queries_max{Get Profile@student} < 1000",
        "--format",
        "md,json",
        exit_code=1,
    )

    checks = {
        f.subject: f.passed
        for f in run.findings.filter(kind=Finding.Kind.THRESHOLD, rule="threshold.queries_max")
    }
    assert checks == {"Get Profile (teacher)": False, "Get Profile (student)": True}
    data = json.loads((tmp_path / f"run-{run.pk}.json").read_text())
    assert [(e["name"], e["role"]) for e in data["endpoints"]["sequential"]] == [
        ("Get Profile", "student"),
        ("Get Profile", "teacher"),
    ]


@override_settings(PERFTEST=WITH_ROLES)
def test_a_threshold_naming_an_unknown_role_is_a_usage_error():
    with pytest.raises(CommandError) as ended:
        call_command("perftest", "--threshold", "p95{Get Lessons@principal} < 300ms")
    assert ended.value.returncode == 2
    assert "unknown role 'principal'; known: student, teacher" in str(ended.value)
    assert not Run.objects.exists()


@override_settings(PERFTEST=WITH_ROLES)
def test_more_workers_than_role_identities_with_per_worker_logins_is_a_usage_error():
    with pytest.raises(CommandError) as ended:
        call_command("perftest", "--concurrency", "8", "--requests", "8")
    assert ended.value.returncode == 2
    assert "needs 8 identities" in str(ended.value) and "--login once" in str(ended.value)
    assert not Run.objects.exists()


@pytest.mark.django_db(transaction=True)  # workers use their own connections: data committed
@override_settings(PERFTEST=WITH_ROLES)
def test_a_level_splits_its_endpoint_rows_by_role_summing_to_the_level(run_perftest):
    run, report = run_perftest(
        "--iterations",
        "1",
        "--warmup",
        "0",
        "--endpoints",
        "Get Profile,Get Lessons",
        "--concurrency",
        "7",
        "--requests",
        "42",
        "--ramp-up",
        "0",
    )

    assert run.status == Run.Status.COMPLETED
    (level,) = run.levels.all()
    rows = list(level.endpoints.order_by("position"))
    assert [(r.name, r.role) for r in rows] == [
        ("Get Profile", "student"),
        ("Get Profile", "teacher"),
        ("Get Lessons", "student"),
        ("Get Lessons", "teacher"),
    ]
    assert sum(r.requests for r in rows) == level.requests > 0
    assert sum(r.ok for r in rows) == level.ok
    # 7 workers over 5 students and 2 teachers: every identity logs in once.
    assert level.identities == 7 and level.login_failures == 0
    assert "| Get Lessons | teacher |" in report
