"""Several kinds of user in one run: 5 students and 2 teachers measuring the same endpoints,
stored, judged and reported per role."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client, override_settings

from perftest.analysis.rules import endpoints as endpoint_rules
from perftest.conf import get_config
from perftest.lifecycle import seeding
from perftest.measure.auth import Identity
from perftest.measure.roles import first_of_each_role, worker_order
from perftest.models import Finding, Run
from perftest.plan.expressions import ExpressionError
from perftest.plan.expressions import parse as parse_threshold
from perftest.plan.model import Role
from thebot_settings.settings import PERFTEST as THEBOT
from thebot_settings.standin import seed as seed_module

pytestmark = pytest.mark.django_db

ROLES = [
    {"name": "student", "count": 5, "fields": {"role": "student"}},
    {"name": "teacher", "count": 2, "fields": {"role": "teacher"}},
]
WITH_ROLES = {**THEBOT, "IDENTITY": {**THEBOT["IDENTITY"], "ROLES": ROLES}}
NAMES = [endpoint["name"] for endpoint in THEBOT["ENDPOINTS"]]
SEEDER = "thebot_settings.standin.seed.seed_sample_data"


def lesson_count(identity: Identity) -> int:
    """What the stand-in's lesson list says for ``identity``: its page's total count."""
    client = Client()
    login = client.post(
        "/api/auth/login/",
        {"email": identity.email, "password": identity.password},
        content_type="application/json",
    )
    token = login.json()["data"]["token"]
    answer = client.get("/api/scheduling/lessons/", HTTP_AUTHORIZATION=f"Token {token}")
    assert answer.status_code == 200
    return answer.json()["count"]


@pytest.mark.slow
def test_roles_seed_their_counts_numbered_on_with_their_fields_and_teachers_teach_the_students():
    identity = get_config()["IDENTITY"]
    roles = (Role("student", 5, {"role": "student"}), Role("teacher", 2, {"role": "teacher"}))
    run_seeding = seeding.Seeding(identity, SEEDER, None)

    identities = run_seeding.create_identities(7, roles)

    assert [(i.number, i.role) for i in identities] == [
        *((n, "student") for n in range(1, 6)),
        (6, "teacher"),
        (7, "teacher"),
    ]
    users = get_user_model().objects.in_bulk([i.user_pk for i in identities])
    assert [users[i.user_pk].role for i in identities] == [i.role for i in identities]
    # The two teachers share the five students (3 and 2), 25 lessons a student.
    per_student = seed_module.PER_USER
    assert [lesson_count(i) for i in identities] == [per_student] * 5 + [
        3 * per_student,
        2 * per_student,
    ]
    assert run_seeding.cleanup() == []
    assert not get_user_model().objects.filter(pk__in=users).exists()


def test_workers_take_the_roles_in_proportion_and_the_sequential_pass_each_roles_first():
    roles = ["student"] * 5 + ["teacher"] * 2
    identities = [Identity("", "", "", n, n, role=role) for n, role in enumerate(roles, start=1)]

    order = worker_order(identities)

    assert sorted(i.number for i in order) == list(range(1, 8))
    assert [i.role for i in order[:2]] == ["student", "teacher"]
    assert [i.role for i in order].count("teacher") == 2
    assert [i.number for i in first_of_each_role(identities)] == [1, 6]
    one_role = identities[:5]
    assert worker_order(one_role) == one_role and first_of_each_role(one_role) == one_role[:1]


@override_settings(PERFTEST=WITH_ROLES)
def test_identities_option_with_roles_is_a_usage_error():
    with pytest.raises(CommandError) as ended:
        call_command("perftest", "--concurrency", "2", "--identities", "2")
    assert ended.value.returncode == 2
    assert "--identities does not apply with PERFTEST['IDENTITY']['ROLES']" in str(ended.value)


@pytest.mark.slow
@override_settings(PERFTEST=WITH_ROLES)
def test_every_endpoint_is_stored_once_per_role_with_the_roles_data(run_perftest):
    run, report = run_perftest(
        "--iterations", "3", "--warmup", "0", "--threshold", "p99{Get Lessons@teacher} < 60s",
        "--threshold", "queries_max{@teacher} < 1000",
    )  # fmt: skip

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
    # A teacher's lesson list reads the lessons they teach: another statement than a student's.
    assert by["Get Lessons", "teacher"].statements != by["Get Lessons", "student"].statements
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
    # Findings name the row they judged with its role.
    for rule in (endpoint_rules.HIGHEST_P95, endpoint_rules.LOWEST_P95):
        (extreme,) = run.findings.filter(rule=rule)
        assert extreme.subject.endswith((" (student)", " (teacher)")), extreme.subject
        assert extreme.subject in extreme.title
    every_teacher_row = run.findings.filter(rule="threshold.queries_max")
    assert sorted(f.subject for f in every_teacher_row) == sorted(f"{n} (teacher)" for n in NAMES)
    assert all(f.passed for f in every_teacher_row)


@pytest.mark.slow
@override_settings(PERFTEST=WITH_ROLES)
def test_role_scoped_threshold_fails_for_its_role_only(run_perftest, tmp_path):
    run, _ = run_perftest(
        "--iterations", "2", "--warmup", "0", "--endpoints", "Get Profile",
        "--threshold", "queries_max{Get Profile@teacher} < 1",
        "--threshold", "queries_max{Get Profile@student} < 1000", "--format", "md,json",
        exit_code=1,
    )  # fmt: skip

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


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)  # workers use their own connections: data committed
@override_settings(PERFTEST=WITH_ROLES)
def test_a_level_splits_its_endpoint_rows_by_role_summing_to_the_level(run_perftest):
    run, report = run_perftest(
        "--iterations", "1", "--warmup", "0", "--endpoints", "Get Profile,Get Lessons",
        "--concurrency", "7", "--requests", "42", "--ramp-up", "0",
    )  # fmt: skip

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


@pytest.mark.slow
@override_settings(PERFTEST=WITH_ROLES)
def test_the_baseline_pairs_rows_by_endpoint_and_role_and_refuses_a_run_without_roles(
    run_perftest,
):
    options = ("--iterations", "3", "--warmup", "0", "--endpoints", "Get Profile")
    with override_settings(PERFTEST=THEBOT):
        without_roles, _ = run_perftest(*options)
    first, _ = run_perftest(*options)
    second, report = run_perftest(*options, "--baseline", str(first.pk))

    compared = [r["endpoint"] for r in second.comparison["rows"] if not r["level"]]
    assert compared == ["Get Profile (student)", "Get Profile (teacher)"]
    assert "Get Profile (teacher)" in report
    with pytest.raises(CommandError) as ended:
        call_command("perftest", *options, "--baseline", str(without_roles.pk))
    assert ended.value.returncode == 2
    assert "roles none → student×5,teacher×2" in str(ended.value)


def test_a_role_selector_reads_one_endpoint_or_every_endpoint_and_never_a_level():
    one = parse_threshold("p95{Get Lessons@teacher} < 300ms")
    assert (one.endpoint, one.role) == ("Get Lessons", "teacher")
    every = parse_threshold("p95{@teacher} < 300ms")
    assert (every.endpoint, every.role) == (None, "teacher")
    with pytest.raises(ExpressionError, match="not one endpoint or role"):
        parse_threshold("p95{@teacher}@10 < 300ms")
    with pytest.raises(ExpressionError, match="a role is written"):
        parse_threshold("p95{Get Lessons@} < 300ms")


@pytest.mark.slow
@override_settings(PERFTEST=WITH_ROLES)
def test_profiling_with_roles_profiles_each_roles_row(run_perftest):
    run, _ = run_perftest(
        "--iterations", "2", "--warmup", "0", "--endpoints", "Get Profile", "--profile", "1"
    )

    profiled = {row.role: bool(row.profile) for row in run.endpoints.filter(phase="sequential")}
    assert profiled == {"student": True, "teacher": True}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)  # workers use their own connections: data committed
@override_settings(PERFTEST=WITH_ROLES)
def test_login_once_lets_more_workers_than_identities_share_the_roles_tokens(run_perftest):
    run, _ = run_perftest(
        "--iterations", "1", "--warmup", "0", "--endpoints", "Get Lessons",
        "--concurrency", "9", "--requests", "27", "--ramp-up", "0", "--login", "once",
    )  # fmt: skip

    (level,) = run.levels.all()
    rows = {row.role: row for row in level.endpoints.all()}
    assert set(rows) == {"student", "teacher"}
    assert all(row.requests and row.ok == row.requests for row in rows.values())
    assert sum(row.requests for row in rows.values()) == level.requests
    assert level.login_failures == 0 and level.identities == 7
