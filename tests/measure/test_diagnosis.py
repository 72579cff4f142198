"""Why it is slow: ``--profile`` and ``--explain`` run for real, stored, and reported from
storage; never counted, never over HTTP, never keeping a parameter value."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth.hashers import get_hasher
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.urls import resolve

from perftest.analysis.rules.diagnosis import LARGE_TABLE_ROWS, SEQ_SCAN, WHERE_TIME_GOES
from perftest.measure.diagnosis.explain import columns, masked
from perftest.models import Run
from perftest.reports.blocks import Heading, Table
from perftest.reports.sections.diagnosis import section as diagnosis
from perftest.store.read import StoredRun
from tests.support import views
from tests.support.counting import COUNT_FILE_ENV, count_handled
from tests.support.live_server import shared_database_url, standin_server  # noqa: F401
from tests.support.passwords import PROJECT_HASHERS
from tests.support.report_checks import missing_figures, missing_titles, validate
from thebot_settings.settings import MIDDLEWARE
from thebot_settings.settings import PERFTEST as THEBOT
from thebot_settings.standin.models import Subject

CPU = {"name": "CPU", "method": "GET", "path": "/test/cpu-bound/"}
BY_NAME = {"name": "By name", "method": "GET", "path": "/test/subjects-by-name/"}
PROFILE = {"name": "Get Profile", "method": "GET", "path": "/api/profile/me/"}
N_PLUS_ONE = {"name": "N plus one", "method": "GET", "path": "/test/n-plus-one/"}
SLOW_HELPER = "tests.support.views.burn_cpu"
#: Subjects seeded for the plans: well above the size at which a full read is a finding.
SEEDED_SUBJECTS = 3 * LARGE_TABLE_ROWS
NAME_INDEX = "perftest_test_subject_name"
FORMATS = ("md", "json", "html")


def settings_with(*endpoints: dict) -> dict:
    return {**THEBOT, "ENDPOINTS": list(endpoints), "SEEDER": None}


def perftest(tmp_path, *args: str) -> Run:
    """A run whatever its verdict, written in the formats the checks read."""
    call_command(
        "perftest", "--output", str(tmp_path), "--exit-zero", "--format", ",".join(FORMATS), *args
    )
    return Run.objects.latest("pk")


def reports(tmp_path, run: Run) -> dict[str, str]:
    return {name: (tmp_path / f"run-{run.pk}.{name}").read_text() for name in FORMATS}


def stored_text(run: Run) -> str:
    """Every stored row of the run as text: figures, plans, profiles, findings, notes."""
    rows = [
        list(Run.objects.filter(pk=run.pk).values()),
        list(run.endpoints.values()),
        list(run.findings.values()),
    ]
    return json.dumps(rows, default=str)


@pytest.mark.slow
@pytest.mark.django_db
@override_settings(
    ROOT_URLCONF="tests.support.urls",
    PERFTEST=settings_with(CPU, PROFILE),
    MIDDLEWARE=["tests.support.counting.CountingMiddleware", *MIDDLEWARE],
)
def test_profile_names_the_slow_helper_first_among_the_projects_code_and_is_never_counted(
    tmp_path, monkeypatch
):
    count_file = tmp_path / "handled"
    monkeypatch.setenv(COUNT_FILE_ENV, str(count_file))
    run = perftest(tmp_path, "--iterations", "4", "--warmup", "1", "--profile", "3")

    for row in run.endpoints.all():
        assert (row.requests, row.ok, row.status_counts) == (4, 4, {"200": 4}), row.name
        assert row.judged_count == 4 and row.profile["requests"] == 3
        assert row.profile["unexpected"] == 0
        assert sum(row.profile["shares"].values()) == pytest.approx(1.0)
        assert all(f["category"] == "host" for f in row.profile["host"])
    cpu = run.endpoints.get(name="CPU")
    host = cpu.profile["host"]
    assert host[0]["function"] == SLOW_HELPER and host[0]["calls"] == 3
    assert host[0]["file"] == "tests/support/views.py"
    spine = [f["function"] for f in cpu.profile["spine"]]
    assert "tests.support.views.cpu_bound" in spine and SLOW_HELPER in spine
    # perftest's own frames (the transport) stay out; its timing middleware is the target's.
    perftest_frames = {f["function"] for f in cpu.profile["spine"] if f["category"] == "perftest"}
    assert perftest_frames == {"perftest.middleware.ServerTimingMiddleware.__call__"}
    profile = run.endpoints.get(name="Get Profile").profile
    assert profile["origins"]["drf"] > 0 and profile["shares"]["sql"] > 0

    finding = run.findings.get(rule=WHERE_TIME_GOES, subject="CPU")
    assert f"most of its own work is in {SLOW_HELPER} (" in finding.title
    assert f"its slowest own function is {SLOW_HELPER}" in finding.evidence
    text = reports(tmp_path, run)
    assert "## Why it is slow" in text["md"] and "### CPU: profile" in text["md"]
    assert SLOW_HELPER in text["md"] and "3 extra requests per endpoint" in text["md"]
    # A function view's own work starts at the view itself, below the shared dispatch.
    assert own_work_tables(run)["CPU"][0][0] == "tests.support.views.cpu_bound"
    assert '<h2 id="why-it-is-slow">Why it is slow</h2>' in text["html"]
    assert SLOW_HELPER in text["html"]
    assert "<locals>" not in text["html"]  # names such as view.<locals>.inner stay text
    document = validate(text["json"])
    assert missing_figures(text["md"], document) == []
    assert missing_titles(text["md"], document, [f.title for f in run.findings.all()]) == []
    totals = document["totals"]
    assert totals["diagnostic_requests"] == 2 * 3
    assert totals["requests_sent"] == count_handled(str(count_file))

    again = tmp_path / "again"
    call_command(
        "perftest_report", str(run.pk), "--format", ",".join(FORMATS), "--output", str(again)
    )
    assert reports(again, run) == text


@pytest.mark.slow
@pytest.mark.django_db
@override_settings(PASSWORD_HASHERS=PROJECT_HASHERS)  # profiles the real hash
def test_profiling_the_login_endpoint_logs_in_again_so_the_endpoints_after_it_answer(tmp_path):
    run = perftest(
        tmp_path, "--endpoints", "Login,Get Profile,Get Lessons", "--iterations", "2",
        "--warmup", "0", "--profile", "2",
    )  # fmt: skip

    rows = list(run.endpoints.order_by("position"))
    assert [row.name for row in rows] == ["Login", "Get Profile", "Get Lessons"]
    for row in rows:
        assert (row.requests, row.ok) == (2, 2), row.name
        assert (row.profile["requests"], row.profile["unexpected"]) == (2, 0), row.name
    # The measured pass logs in twice (before, and after Login rotated the token); the
    # diagnosis logs in once more, and again after profiling Login.
    assert [attempt["ok"] for attempt in run.logins] == [True] * 4
    # One PBKDF2 hash per login (hashlib's C code, a built-in) is most of its profiled time.
    assert rows[0].profile["origins"]["built-in"] > 0.5


def own_work_tables(run: Run) -> dict[str, list[list]]:
    """Each shown profile's table of its endpoint's own work, as the report builds it from
    storage: rows of function, origin, where, calls, own, cumulative, share."""
    blocks = diagnosis(StoredRun.of(run))
    tables, label = {}, None
    for block in blocks:
        if isinstance(block, Heading) and block.text.endswith(": profile"):
            label = block.text.removesuffix(": profile")
        elif isinstance(block, Table) and block.headers[0].endswith("own work)"):
            tables[label] = [list(row) for row in block.rows]
    return tables


def view_handler(method: str, path: str) -> str:
    """The dotted name of the method Django and DRF route ``method path`` to, read from the
    URL resolver (a viewset's action, a class-based view's method, or a function view)."""
    view = resolve(path).func
    actions = getattr(view, "actions", None) or {}
    owner = getattr(view, "cls", None) or getattr(view, "view_class", None)
    handler = getattr(owner, actions.get(method.lower(), method.lower())) if owner else view
    return f"{handler.__module__}.{handler.__qualname__}"


def hasher_function() -> str:
    """The configured default password hasher's ``encode``, as a profile names it."""
    encode = type(get_hasher()).encode
    return f"{encode.__module__}.{encode.__qualname__}"


def share(cell: str) -> float:
    return float(cell.removesuffix("%"))


@pytest.mark.slow
@pytest.mark.django_db
@override_settings(PASSWORD_HASHERS=PROJECT_HASHERS)  # profiles the real hash
def test_profile_folds_the_shared_dispatch_and_starts_at_each_endpoints_own_work(tmp_path):
    endpoints = {e["name"]: e for e in THEBOT["ENDPOINTS"]}
    shown = ("Login", "Get Profile", "Get Lessons")
    run = perftest(
        tmp_path, "--endpoints", ",".join(shown), "--iterations", "2", "--warmup", "0",
        "--profile", "2",
    )  # fmt: skip

    tables = own_work_tables(run)
    assert set(tables) == set(shown)
    for name, rows in tables.items():
        endpoint = endpoints[name]
        # The first row is the view's handler, named from the URL resolver, not a wrapper.
        assert rows[0][0] == view_handler(endpoint["method"], endpoint["path"]), name
        # After it, the heaviest functions below it, each with its share of the request.
        shares = [share(row[-1]) for row in rows]
        assert shares[1:] == sorted(shares[1:], reverse=True)
        assert all(value <= shares[0] for value in shares), name
        assert all(0 < value <= 100 for value in shares), name
    assert tables["Login"] != tables["Get Profile"] != tables["Get Lessons"]
    login = {row[0]: row for row in tables["Login"]}
    hasher = hasher_function()
    assert hasher in login and re.fullmatch(r"\d+\.\d%", login[hasher][-1])
    # The hash runs inside the login view, so its share is below the view's.
    assert share(login[hasher][-1]) <= share(tables["Login"][0][-1])

    md = reports(tmp_path, run)["md"]
    folded = re.findall(
        r"^(.+) dispatch and middleware: (\d+) functions, ([\d.]+)% of the request \(from "
        r"(\S+) to (\S+)\)\.$",
        md,
        re.MULTILINE,
    )
    assert len(folded) == len(shown)
    (words, *_), chain_ends = folded[0], {(first, last) for *_, first, last in folded}
    # The embedded project's middleware has perftest's timing middleware first (silent here)
    # and WhiteNoise's (its static files; another package's code).
    assert words == "Django, perftest, other packages and DRF" and len(chain_ends) == 1
    ((first, last),) = chain_ends
    for *_, functions, percent_of_request, _, _ in folded:
        assert int(functions) > 0 and 0 <= float(percent_of_request) < 100
    for rows in tables.values():
        assert not {first, last} & {row[0] for row in rows}
    assert hasher in md and f"| {first} |" not in md
    # The key finding names where most of the login's own work goes, a row of its table,
    # with the same share of the request.
    title = run.findings.get(rule=WHERE_TIME_GOES, subject="Login").title
    cause = re.search(r"most of its own work is in (.+) \((\d+\.\d%) of the request\)$", title)
    assert cause is not None and login[cause[1]][-1] == cause[2]


@pytest.mark.slow
@pytest.mark.django_db
@override_settings(PASSWORD_HASHERS=PROJECT_HASHERS)  # profiles the real hash
def test_a_single_profiled_endpoint_starts_its_table_at_the_projects_first_function(tmp_path):
    run = perftest(
        tmp_path, "--endpoints", "Login", "--iterations", "1", "--warmup", "0", "--profile", "1"
    )

    (rows,) = own_work_tables(run).values()
    login = next(e for e in THEBOT["ENDPOINTS"] if e["name"] == "Login")
    assert rows[0][0] == view_handler(login["method"], login["path"])
    assert rows[0][1] == "project code" and hasher_function() in {row[0] for row in rows}
    assert " dispatch and middleware: " in reports(tmp_path, run)["md"]


def seed_subjects(count: int) -> None:
    Subject.objects.bulk_create(
        (Subject(name=f"subject {n}") for n in range(count)), batch_size=5000
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE standin_subject")


def seq_scans(run: Run) -> list[dict]:
    row = run.endpoints.get(name="By name")
    return [scan for plan in row.explain for scan in plan.get("seq_scans", ())]


@pytest.mark.django_db
@override_settings(
    ROOT_URLCONF="tests.support.urls", PERFTEST=settings_with(BY_NAME, CPU, N_PLUS_ONE)
)
def test_explain_shows_a_seq_scan_on_a_large_unindexed_filter_then_an_index_scan(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("EXPLAIN plans are read on PostgreSQL only (set DATABASE_URL)")
    seed_subjects(SEEDED_SUBJECTS)
    first = perftest(tmp_path, "--iterations", "2", "--warmup", "0", "--explain", "--profile", "2")

    (scan,) = seq_scans(first)
    assert scan["relation"] == "standin_subject" and scan["columns"] == ["name"]
    assert scan["rows_from"] == "pg_class" and scan["table_rows"] >= SEEDED_SUBJECTS * 0.9
    assert "?" in scan["filter"]
    (finding,) = first.findings.filter(rule=SEQ_SCAN)
    assert finding.subject == "By name"
    assert f"Seq Scan on standin_subject, {scan['table_rows']:,} rows" in finding.evidence
    assert "an index on (name)" in finding.evidence
    assert "Add an index on standin_subject (name)" in finding.recommendation
    assert reports(tmp_path, first)["md"].count("Seq Scan on standin_subject") >= 2
    repeated = {plan["sql"]: plan for plan in first.endpoints.get(name="N plus one").explain}
    orm = next(plan for sql, plan in repeated.items() if "django_content_type" in sql)
    assert f"repeated {views.N_PLUS_ONE_ROWS}× in one request" in orm["reason"]
    assert orm["node"] and not orm.get("unavailable")
    # A small table read in full is no finding: the rule waits for LARGE_TABLE_ROWS rows.
    assert not first.findings.filter(rule=SEQ_SCAN, subject="N plus one").exists()

    with connection.cursor() as cursor:
        cursor.execute(f"CREATE INDEX {NAME_INDEX} ON standin_subject (name)")
    try:
        second = perftest(tmp_path, "--iterations", "2", "--warmup", "0", "--explain")
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP INDEX {NAME_INDEX}")

    plans = second.endpoints.get(name="By name").explain
    indexes = [scan for plan in plans for scan in plan.get("index_scans", ())]
    assert {(s["relation"], s["index"]) for s in indexes} >= {("standin_subject", NAME_INDEX)}
    assert seq_scans(second) == [] and not second.findings.filter(rule=SEQ_SCAN).exists()
    # The filter's value is a token-like literal: no stored row and no report holds it.
    for run in (first, second):
        assert views.SECRET_NAME not in stored_text(run)
        for text in reports(tmp_path, run).values():
            assert views.SECRET_NAME not in text


@pytest.mark.slow
@pytest.mark.django_db
@override_settings(ROOT_URLCONF="tests.support.urls", PERFTEST=settings_with(BY_NAME))
def test_explain_on_sqlite_stores_no_plan_and_the_report_says_why(tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("proves what --explain does on SQLite")
    run = perftest(tmp_path, "--iterations", "2", "--warmup", "0", "--explain")

    assert [row.explain for row in run.endpoints.all()] == [[]]
    assert not run.findings.filter(rule=SEQ_SCAN).exists()
    text = reports(tmp_path, run)
    assert (
        "Query plans (--explain) are read on PostgreSQL only; this run's database is sqlite, "
        "so no plan was read."
    ) in text["md"]
    assert validate(text["json"])["totals"]["diagnostic_requests"] == 0
    assert views.SECRET_NAME not in stored_text(run)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_profile_and_explain_over_http_send_nothing_and_say_they_need_in_process_access(
    standin_server,  # noqa: F811
    tmp_path,
):
    before = standin_server.handled()
    run = perftest(
        tmp_path, "--base-url", standin_server.base_url, "--endpoints", "Get Profile",
        "--iterations", "3", "--warmup", "0", "--profile", "2", "--explain",
    )  # fmt: skip

    assert [(row.profile, row.explain) for row in run.endpoints.all()] == [({}, [])]
    text = reports(tmp_path, run)["md"]
    assert "Profiling (--profile) needs in-process access" in text
    assert "Reading query plans (--explain) needs in-process access" in text
    totals = validate(reports(tmp_path, run)["json"])["totals"]
    assert totals["diagnostic_requests"] == 0
    assert totals["requests_sent"] == standin_server.handled() - before


@pytest.mark.parametrize(
    ("condition", "shown", "read"),
    [
        ("((name)::text = 'tok-abc'::text)", "((name)::text = ?::text)", ["name"]),
        ("((status)::text = ANY ('{a,b}'::text[]))", "((status)::text = ANY (?::text[]))",
         ["status"]),
        (
            "((t.start_time > '2026-01-01 00:00:00+00'::timestamp with time zone) AND (id = 42))",
            "((t.start_time > ?::timestamp with time zone) AND (id = ?))",
            ["start_time", "id"],
        ),
        ("(upper((\"Title\")::text) ~~ '%x%'::text)", "(upper((\"Title\")::text) ~~ ?::text)",
         ["Title"]),
        ("(hashed SubPlan 1)", "(hashed SubPlan ?)", []),
    ],
)  # fmt: skip
def test_a_plans_filter_keeps_its_columns_and_loses_every_literal(condition, shown, read):
    assert masked(condition) == shown
    assert columns(condition) == read
