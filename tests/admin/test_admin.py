"""Stored runs in the Django admin: the list, the run page, reports, comparisons, permissions.

Pages are fetched through Django's test client from the real admin site on the real test
database. The list's and run page's figures are checked against rows built here (so each
expected cell is known), the reports and comparisons against real in-process runs of the
stand-in and against ``perftest_report``'s own output.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from perftest import models
from perftest.admin.views.report import CONTENT_TYPES
from perftest.analysis import rebaseline, verdict
from perftest.analysis.rules.base import BASELINE, BOTTLENECK, CONFIGURATION, KEY, THRESHOLD
from perftest.analysis.thresholds import NOT_MEASURED
from perftest.plan.fingerprint import fingerprint as fingerprint_of
from perftest.plan.model import RunPlan
from perftest.reports.sections import comparison
from perftest.store import read, write
from tests.support.admin_pages import LIST, cell, user
from tests.support.stored_rows import STARTED, add_endpoint, add_level, add_samples, make_run

pytestmark = pytest.mark.django_db

#: Two light endpoints, measured sequentially: a real run in a second, with a threshold that
#: fails (no answer takes under a microsecond) and one that passes. (Load levels log in
#: concurrently, which SQLite's shared in-memory test database refuses; the list and page
#: tests cover level rows, the browser test a real run with levels.)
REAL_RUN = [
    *("--endpoints", "Get Profile,Get Lessons", "--iterations", "5", "--warmup", "1"),
    *("--threshold", "p95 < 0.001ms", "--threshold", "error_rate < 50%", "--exit-zero"),
]


@pytest.fixture
def viewer() -> Client:
    return user("viewer")


@pytest.fixture
def editor() -> Client:
    return user("editor", perms=("view_run", "change_run", "delete_run"))


def real_run(tmp_path, *extra: str) -> models.Run:
    call_command(
        "perftest", "--output", str(tmp_path), *REAL_RUN, *extra, stdout=io.StringIO()
    )  # fmt: skip
    return models.Run.objects.latest("pk")


def add_finding(run: models.Run, kind: str, **fields) -> models.Finding:
    values = {"position": run.findings.count(), "rule": f"test.{kind}", "title": kind}
    return models.Finding.objects.create(run=run, kind=kind, **{**values, **fields})


def listed_run(**fields) -> models.Run:
    """A run whose every list column has a known value: endpoints 1 ok of 4 (one with errors,
    one not measured, one not judged: a router root), worst judged p95 300 ms, highest level
    20 workers at 80/s, thresholds 1 passed and 2 red, findings 1 configuration, 2 bottleneck,
    1 fact; its verdict stored as the runner stores it: RED, 4 reasons (``LISTED_REASONS``)."""
    run = make_run(**fields)
    add_endpoint(run, "Get Profile", p95_ms=100.0)
    add_endpoint(run, "Get Lessons", p95_ms=300.0, ok=15)
    add_endpoint(run, "Get Materials", requests=0, not_measured="login failed (401)")
    add_endpoint(run, "API root", p95_ms=5000.0, configuration={"problem": "router root"})
    add_endpoint(run, "Get Profile", phase="sequential-http", p95_ms=900.0)
    add_level(run, 20, throughput=80.0, p95=50.0)
    add_level(run, 10, throughput=120.0, p95=40.0)
    add_finding(run, THRESHOLD, passed=True)
    add_finding(run, THRESHOLD, passed=False, title="p95 of Get Lessons < 200 ms", actual="300 ms")
    add_finding(
        run, THRESHOLD, passed=None, actual=NOT_MEASURED, title="RSS growth < 100 MB",
        evidence="no resource sample",
    )  # fmt: skip
    add_finding(run, CONFIGURATION, title="API root is a DRF router root")
    add_finding(run, BOTTLENECK)
    add_finding(run, BOTTLENECK)
    add_finding(run, KEY)
    write.save_verdict(run, verdict.of(read.StoredRun.of(run)))
    return run


#: The verdict of ``listed_run``: its configuration finding, its endpoint not measured, its
#: failed and its unmeasured threshold, one reason each.
LISTED_REASONS = [
    "FAIL: configuration: API root is a DRF router root",
    "FAIL: endpoint Get Materials (in-process pass) not measured: login failed (401)",
    "FAIL: p95 of Get Lessons < 200 ms (actual 300 ms)",
    "FAIL: RSS growth < 100 MB: not measured: no resource sample",
]


@pytest.mark.slow
def test_the_run_list_shows_each_runs_figures_newest_first(viewer):
    older = listed_run(label="older")
    newer = make_run(label="newer", started_at=STARTED + dt.timedelta(hours=1), finished_at=None)

    page = viewer.get(LIST).content.decode()

    assert cell(page, "label") == ["newer", "older"]
    assert cell(page, "endpoints_ok") == ["0/0", "1/4"]
    assert cell(page, "worst_p95") == ["—", "300.0 ms"]
    assert cell(page, "top_ok_throughput") == ["—", "80.0/s"]
    assert cell(page, "thresholds") == ["—", "1 / 2"]
    assert cell(page, "findings") == ["none", "1 configuration 2 bottleneck 1 fact"]
    assert cell(page, "duration") == ["—", "42 s"]
    assert cell(page, "status") == ["completed", "completed"]
    assert cell(page, "verdict") == ["—", f"RED — 4 reasons: {LISTED_REASONS[0]}; and 3 more"]
    assert 'class="perftest-badge perftest-bad">2</span>' in page  # the red thresholds
    assert f"/admin/perftest/run/{older.pk}/change/" in page
    assert f"/admin/perftest/run/{newer.pk}/change/" in page


def test_the_run_list_shows_each_runs_regressions_against_its_baseline(viewer):
    baseline = make_run(label="main")
    run = make_run(label="pr", baseline=baseline, started_at=STARTED + dt.timedelta(hours=1))
    for rule in ("regression", "regression", "improvement"):
        add_finding(run, BASELINE, rule=rule)

    page = viewer.get(LIST).content.decode()

    assert cell(page, "label") == ["pr", "main"]
    assert cell(page, "regressions") == [f"2 vs run #{baseline.pk}", "—"]
    assert 'class="perftest-badge perftest-bad">2</span> vs run' in page


def test_the_run_list_filters_by_status_and_searches_labels_and_targets(viewer):
    make_run(label="nightly", target="URLconf a")
    make_run(label="weekly", target="http://127.0.0.1:8000", status="failed")

    assert cell(viewer.get(LIST, {"status__exact": "failed"}).content.decode(), "label") == [
        "weekly"
    ]
    assert cell(viewer.get(LIST, {"q": "night"}).content.decode(), "label") == ["nightly"]
    assert cell(viewer.get(LIST, {"q": "127.0.0.1"}).content.decode(), "label") == ["weekly"]
    hierarchy = viewer.get(LIST, {"started_at__year": STARTED.year}).content.decode()
    assert sorted(cell(hierarchy, "label")) == ["nightly", "weekly"]


#: Queries of one list page: session, user, permissions (two), the count (filtered and
#: total), the page with every figure, the date hierarchy (two), the mode and target filters'
#: values.
LIST_QUERIES = 11


@pytest.mark.slow
@pytest.mark.parametrize("runs", [5, 200])
def test_the_run_list_costs_the_same_queries_whatever_the_number_of_runs(
    viewer, runs, django_assert_max_num_queries
):
    for n in range(runs):
        listed_run(label=f"run {n}", started_at=STARTED + dt.timedelta(minutes=n))

    with django_assert_max_num_queries(LIST_QUERIES):
        page = viewer.get(LIST, {"all": ""}).content.decode()

    assert cell(page, "endpoints_ok") == ["1/4"] * runs
    assert cell(page, "findings") == ["1 configuration 2 bottleneck 1 fact"] * runs


#: Queries of a run page: session, user, permissions (two), the run, its four kinds of rows,
#: the latest earlier run to compare with, the endpoint history (its runs, their endpoints,
#: their changes against their baselines), the run's content type (Django's History link).
RUN_PAGE_QUERIES = 14


@pytest.mark.parametrize("size", [1, 30])
def test_the_run_page_costs_the_same_queries_whatever_the_size_of_the_run(
    viewer, size, django_assert_max_num_queries
):
    run = listed_run()
    for n in range(size):
        add_endpoint(run, f"Endpoint {n}")
        add_level(run, n + 30, throughput=50.0, p95=20.0)
        add_finding(run, KEY, title=f"key {n}")
    add_samples(run, [50.0] * size, [10.0] * size)

    with django_assert_max_num_queries(RUN_PAGE_QUERIES):
        response = viewer.get(f"{LIST}{run.pk}/change/")

    assert response.status_code == 200
    page = response.content.decode()
    assert len(re.findall(r'<td data-label="Finding">key \d+</td>', page)) == size


def test_the_run_page_shows_the_rows_with_failed_thresholds_and_findings_coloured(viewer):
    baseline = make_run()
    run = listed_run(label="nightly", baseline=baseline)
    add_samples(run, [50.0, 52.5], [10.0, 20.0])

    page = viewer.get(f"{LIST}{run.pk}/change/").content.decode()

    assert "Executive summary" in page and "Endpoints measured: 3 of 4" in page
    for text in ("Endpoint results", "Load levels", "Findings", "Thresholds", "Stored plan"):
        assert f">{text}<" in page
    assert "Resource samples (2)" in page and "52.5 MB" in page
    failed = re.findall(r'<tr class="perftest-failed">(.*?)</tr>', page, re.S)
    assert any("FAIL" in row for row in failed) and any("NOT MEASURED" in row for row in failed)
    assert re.search(r'<tr class="perftest-passed">.*?PASS', page, re.S)
    assert '<tr class="perftest-severity-bad">' in page  # the configuration finding
    # The bottlenecks, each row with its id (the first screen links to it).
    assert len(re.findall(r'<tr class="perftest-severity-warn" id="[^"]+">', page)) == 2
    assert "login failed (401)" in page  # why Get Materials has no figures
    # The verdict opens the page: the word in red, the count and the first three reasons,
    # then every reason folded under it.
    top = re.search(
        r'<div class="perftest-section perftest-verdict" id="verdict">(.*?)</div>', page, re.S
    )
    assert top and page.index('id="verdict"') < page.index("Executive summary")
    assert '<span class="perftest-badge perftest-bad">RED</span>' in top[1]
    line = re.sub(
        r"<[^>]+>", "", re.search(r'<p class="perftest-verdict-line">(.*?)</p>', top[1], re.S)[1]
    )
    assert html.unescape(line) == f"RED — 4 reasons: {'; '.join(LISTED_REASONS[:3])}; and 1 more"
    folded = re.findall(r"<li>(.*?)</li>", top[1])
    assert [html.unescape(reason) for reason in folded] == LISTED_REASONS
    assert f'<a href="{LIST}{baseline.pk}/change/">run #{baseline.pk}</a>' in page


def test_the_runs_own_notes_read_as_a_list_never_as_json(viewer):
    run = make_run(notes=["No baseline: no earlier run of this plan.", 'A "quoted" <note>'])

    page = viewer.get(f"{LIST}{run.pk}/change/").content.decode()

    assert (
        "<ul><li>No baseline: no earlier run of this plan.</li>"
        "<li>A &quot;quoted&quot; &lt;note&gt;</li></ul>"
    ) in page
    assert '["No baseline' not in page and "[&quot;No baseline" not in page


def test_only_the_label_and_your_notes_can_be_changed_and_only_with_the_change_permission(
    viewer, editor
):
    run = make_run(label="before")
    url = f"{LIST}{run.pk}/change/"
    form = {
        "label": "after",
        "comment": "Measured after the index on lessons.\nCompare with #3.",
        "status": "failed",
        "target": "elsewhere",
        "notes": '["x"]',
    }

    assert viewer.post(url, form).status_code == 403
    page = viewer.get(url).content.decode()
    assert 'name="label"' not in page and 'name="comment"' not in page
    assert 'name="comment"' in editor.get(url).content.decode()
    assert editor.post(url, form).status_code == 302

    run.refresh_from_db()
    assert (run.label, run.comment, run.status, run.target, run.notes) == (
        "after",
        "Measured after the index on lessons.\nCompare with #3.",
        "completed",
        "URLconf tests.support.urls",
        [],
    )
    assert editor.get(f"{LIST}add/").status_code == 403
    refused = editor.post(url, {"label": "two\nlines"})
    assert "A label is one line of text, without line breaks or tabs." in refused.content.decode()
    run.refresh_from_db()
    assert run.label == "after"


def test_deleting_a_run_deletes_its_rows_and_keeps_the_others(editor):
    doomed, kept = listed_run(), listed_run()
    add_samples(doomed, [50.0], [10.0])
    add_samples(kept, [50.0], [10.0])
    tables = (models.EndpointResult, models.LoadLevel, models.ResourceSample, models.Finding)
    before = {table: table.objects.filter(run=kept).count() for table in tables}

    response = editor.post(f"{LIST}{doomed.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not models.Run.objects.filter(pk=doomed.pk).exists()
    left = {table: table.objects.filter(run_id=doomed.pk).count() for table in tables}
    assert left == dict.fromkeys(tables, 0)
    assert {table: table.objects.filter(run=kept).count() for table in tables} == before


@pytest.mark.slow
def test_every_report_download_is_perftest_reports_output_with_its_type_and_name(
    viewer, tmp_path, capsys
):
    run = real_run(tmp_path)

    for name, content_type in CONTENT_TYPES.items():
        response = viewer.get(reverse("admin:perftest_run_report", args=[run.pk, name]))
        capsys.readouterr()
        # (``stdout=`` would name the command's own --stdout option: capture the real one.)
        call_command("perftest_report", str(run.pk), "--format", name, "--stdout")
        printed = capsys.readouterr().out

        assert response.status_code == 200
        assert response["Content-Type"] == content_type
        extension = {"md": "md", "json": "json", "junit": "xml", "html": "html"}[name]
        how = "inline" if name == "html" else "attachment"
        assert response["Content-Disposition"] == f'{how}; filename="run-{run.pk}.{extension}"'
        assert response.content.decode("utf-8") == printed
    assert viewer.get(f"{LIST}{run.pk}/report/pdf/").status_code == 404
    assert viewer.get(f"{LIST}999999/report/md/").status_code == 404


@pytest.mark.slow
def test_two_selected_runs_open_their_comparison_older_as_baseline(viewer, tmp_path):
    before, after = real_run(tmp_path), real_run(tmp_path)

    chosen = viewer.post(
        LIST, {"action": "compare_runs", "_selected_action": [after.pk, before.pk]}
    )
    assert chosen["Location"] == f"{LIST}{after.pk}/compare/{before.pk}/"
    page = viewer.get(chosen["Location"]).content.decode()

    assert f"Compared with run #{before.pk}" in page
    assert "beyond noise" in page and "bootstrap" in page  # the headline and the noise rule
    assert f"p50 and p95 against run #{before.pk}" in page and "<svg" in page
    assert f"{LIST}{before.pk}/compare/{after.pk}/" in page  # the swap
    compared = rebaseline.compared_with(read.load(after.pk), read.load(before.pk))
    (p95,) = [
        metric
        for row in comparison.of(compared)["rows"]
        if (row["phase"], row["endpoint"]) == ("sequential", "Get Profile")
        for metric in row["metrics"]
        if metric["metric"] == "p95"
    ]
    before_after = "".join(
        f'<td data-label="{side.capitalize()}" class="perftest-right">'
        f"{comparison.value(p95, side)}</td>"
        for side in ("before", "after")
    )
    where = '<td data-label="Endpoint or level">Get Profile</td><td data-label="Figure">p95</td>'
    assert f"{where}{before_after}" in page  # every figure
    assert models.Run.objects.get(pk=after.pk).comparison == {}  # nothing stored


@pytest.mark.parametrize("selected", [1, 3])
def test_anything_but_two_runs_gives_a_warning_on_the_list(viewer, selected):
    runs = [make_run().pk for _ in range(selected)]

    response = viewer.post(LIST, {"action": "compare_runs", "_selected_action": runs}, follow=True)

    assert response.status_code == 200
    assert response.request["PATH_INFO"] == LIST
    messages = [str(m) for m in response.context["messages"]]
    assert messages == [f"Select exactly two runs to compare; {selected} selected."]


@pytest.mark.parametrize(
    ("baseline", "says"),
    [
        ({"target": "http://127.0.0.1:9"}, "measured http://127.0.0.1:9, this run measures"),
        ({"status": "failed"}, "is failed, not completed; compare with a completed run."),
        ({"config": {"iterations": 99}}, "measured another plan (iterations 99 → 20)"),
    ],
)
def test_runs_that_cannot_be_compared_send_back_to_the_list_saying_why(viewer, baseline, says):
    config = {"iterations": 20}
    older = make_run(**{"config": config, **baseline})
    newer = make_run(config=config, started_at=STARTED + dt.timedelta(hours=1))

    response = viewer.post(
        LIST, {"action": "compare_runs", "_selected_action": [older.pk, newer.pk]}, follow=True
    )

    assert response.request["PATH_INFO"] == LIST
    (message,) = [str(m) for m in response.context["messages"]]
    assert message.startswith(f"baseline run #{older.pk}: run #{older.pk} ") and says in message


def test_compare_with_previous_links_the_latest_earlier_run_of_the_same_target_and_plan(viewer):
    config = {"iterations": 20}
    fingerprint = fingerprint_of(RunPlan.from_dict(config))
    first = make_run(config=config, plan_fingerprint=fingerprint)
    make_run(config=config, plan_fingerprint=fingerprint, status="failed",
             started_at=STARTED + dt.timedelta(minutes=1))  # fmt: skip
    other = make_run(config=config, plan_fingerprint=fingerprint, target="http://elsewhere",
                     started_at=STARTED + dt.timedelta(minutes=2))  # fmt: skip
    last = make_run(config=config, plan_fingerprint=fingerprint,
                    started_at=STARTED + dt.timedelta(minutes=3))  # fmt: skip

    last_page = viewer.get(f"{LIST}{last.pk}/change/").content.decode()
    first_page = viewer.get(f"{LIST}{first.pk}/change/").content.decode()
    other_page = viewer.get(f"{LIST}{other.pk}/change/").content.decode()

    assert f'href="{LIST}{last.pk}/compare/{first.pk}/">Compare with previous' in last_page
    for page, run in ((first_page, first), (other_page, other)):
        assert "Compare with previous (" not in page
        assert (
            f"No earlier completed run with the target and plan of run #{run.pk} to compare "
            "with." in page
        )


def test_every_view_asks_for_staff_and_the_view_permission(tmp_path):
    run = make_run()
    baseline = make_run()
    urls = [
        LIST,
        f"{LIST}{run.pk}/change/",
        *(f"{LIST}{run.pk}/report/{name}/" for name in CONTENT_TYPES),
        f"{LIST}{run.pk}/compare/{baseline.pk}/",
        f"{LIST}{run.pk}/endpoint-history/",
        f"{LIST}{run.pk}/live/",
    ]
    anonymous = Client()
    not_staff = user("visitor", staff=False)
    no_permission = user("clerk", perms=())
    allowed = user("reader")

    for url in urls:
        for client in (anonymous, not_staff):
            refused = client.get(url)
            assert refused.status_code == 302, url
            assert refused["Location"].startswith("/admin/login/"), url
        assert no_permission.get(url).status_code == 403, url
        assert allowed.get(url).status_code in (200, 302), url
    action = {"action": "compare_runs", "_selected_action": [run.pk, baseline.pk]}
    assert no_permission.post(LIST, action).status_code == 403


@pytest.mark.slow
def test_no_admin_page_shows_the_seeded_password_or_the_login_token(viewer, tmp_path, monkeypatch):
    from perftest.measure import auth

    seen: dict[str, str] = {}
    real_log_in = auth.log_in

    def spying_log_in(transport, spec, credentials, redactor):
        attempt, headers = real_log_in(transport, spec, credentials, redactor)
        seen["password"], seen["token"] = credentials.password, headers[0][1].split()[-1]
        return attempt, headers

    monkeypatch.setattr("perftest.measure.sequential_pass.log_in", spying_log_in)
    before, after = real_run(tmp_path), real_run(tmp_path)
    pages = [
        LIST,
        f"{LIST}{after.pk}/change/",
        f"{LIST}{after.pk}/compare/{before.pk}/",
        *(f"{LIST}{after.pk}/report/{name}/" for name in CONTENT_TYPES),
    ]

    assert len(seen["password"]) >= 20 and len(seen["token"]) == 40
    for url in pages:
        response = viewer.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert seen["password"] not in body and seen["token"] not in body, url


def test_the_embedded_project_serves_the_admins_css_with_debug_off(settings):
    # runserver and gunicorn serve no static file when DEBUG is off; WhiteNoise, in the
    # project's middleware, serves the installed apps' files to both (and to this client).
    assert settings.DEBUG is False
    answer = Client().get("/static/admin/css/base.css")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/css")
    assert b"--body-bg" in b"".join(answer.streaming_content)
