"""JSON and JUnit reports, and ``--format``: rendered from the stored run like the Markdown,
written by the run and by ``perftest_report`` with the same bytes."""

from __future__ import annotations

import copy
import json

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from perftest.models import Finding, Run
from perftest.reports import formats
from perftest.store import read
from tests.support.live_server import shared_database_url, standin_server  # noqa: F401
from tests.support.perftest_configs import THROTTLED_AND_PROFILE
from tests.support.report_checks import cases, missing_figures, missing_titles, validate

ALL = ",".join(formats.FORMATS)
LIGHT = ["--endpoints", "Get Profile,Get Notifications", "--iterations", "3"]


def perftest(tmp_path, *args: str) -> Run:
    """A run whatever its verdict (exit codes are proven in test_verdicts)."""
    call_command("perftest", "--output", str(tmp_path), "--exit-zero", *args)
    return Run.objects.latest("pk")


def rendered(tmp_path, run: Run, extension: str) -> str:
    return (tmp_path / f"run-{run.pk}.{extension}").read_text(encoding="utf-8")


def assert_json_carries_the_markdown(tmp_path, run: Run) -> dict:
    document = validate(rendered(tmp_path, run, "json"))
    markdown = rendered(tmp_path, run, "md")
    # (This stored run has no threshold snapshot, so only its percentages are checked here.)
    assert [figure for figure in missing_figures(markdown, document) if "%" in figure] == []
    titles = [f.title for f in run.findings.all()]
    assert titles and missing_titles(markdown, document, titles) == []
    return document


@pytest.mark.slow
@pytest.mark.django_db
def test_each_format_the_run_writes_is_byte_identical_to_perftest_report(tmp_path):
    run = perftest(tmp_path / "run", "--format", ALL, "--warmup", "1", *LIGHT)
    again = tmp_path / "again"
    call_command("perftest_report", str(run.pk), "--format", ALL, "--output", str(again))
    for report in formats.FORMATS.values():
        name = f"run-{run.pk}.{report.extension}"
        assert (again / name).read_bytes() == (tmp_path / "run" / name).read_bytes(), name


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_json_of_a_run_with_levels_matches_the_schema_and_carries_every_markdown_figure(
    shared_database_url,  # noqa: F811 - the level's threads reach the same database
    tmp_path,
):
    run = perftest(
        tmp_path, "--format", ALL, "--warmup", "1", "--concurrency", "1,2",
        "--requests", "20", "--ramp-up", "0", *LIGHT,
    )  # fmt: skip
    document = assert_json_carries_the_markdown(tmp_path, run)

    assert [level["concurrency"] for level in document["levels"]] == [1, 2]
    assert all(level["corrected"] for level in document["levels"])
    level_rows = document["levels"][1]["endpoints"]
    assert {row["name"] for row in level_rows} == {"Get Profile", "Get Notifications"}
    assert sum(row["requests"] for row in level_rows) == 20
    assert document["resources"]["samples"], "the sampler's series is in the JSON"


@pytest.mark.slow
@pytest.mark.django_db
@override_settings(ROOT_URLCONF="tests.support.urls", PERFTEST=THROTTLED_AND_PROFILE)
def test_json_of_a_throttled_run_carries_answer_classes_and_not_measured_thresholds(tmp_path):
    run = perftest(tmp_path, "--format", ALL, "--iterations", "10", "--warmup", "0")
    document = assert_json_carries_the_markdown(tmp_path, run)

    throttled = next(e for e in document["endpoints"]["sequential"] if e["name"] == "Throttled")
    (answers,) = throttled["answer_classes"]
    assert (answers["class"], answers["count"]) == ("HTTP 429", 10)
    assert throttled["not_judged"] == "no answer as expected: HTTP 429 ×10"
    not_measured = [t for t in document["thresholds"] if t["verdict"] == "NOT MEASURED"]
    assert [t["subject"] for t in not_measured] == ["Throttled"]
    assert not_measured[0]["reason"] == "no answer as expected: HTTP 429 ×10"
    assert document["verdict"]["exit_code"] == 1


@pytest.mark.slow
@pytest.mark.django_db
@override_settings(ROOT_URLCONF="tests.support.urls", PERFTEST=THROTTLED_AND_PROFILE)
def test_the_round_trip_check_fails_when_the_json_drops_a_figure_or_a_title(tmp_path):
    run = perftest(tmp_path, "--format", "md,json", "--iterations", "10", "--warmup", "0")
    document = validate(rendered(tmp_path, run, "json"))
    markdown = rendered(tmp_path, run, "md")
    titles = [f.title for f in run.findings.all()]

    # (This stored run has no threshold snapshot, so only its percentages are checked here.)
    assert [figure for figure in missing_figures(markdown, document) if "%" in figure] == []
    without_latency = copy.deepcopy(document)
    for endpoint in without_latency["endpoints"]["sequential"]:
        for row in (endpoint, *endpoint["answer_classes"]):
            row.update({key: -1.0 for key in row if key.endswith("_ms")})
    assert missing_figures(markdown, without_latency)
    without_findings = {**document, "findings": []}
    assert missing_titles(markdown, without_findings, titles)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_json_totals_count_every_request_the_server_handled(
    standin_server,  # noqa: F811
    tmp_path,
):
    before = standin_server.handled()
    run = perftest(
        tmp_path, "--format", "json", "--base-url", standin_server.base_url,
        "--warmup", "2", "--concurrency", "2", "--requests", "20", "--ramp-up", "0.3", *LIGHT,
    )  # fmt: skip
    totals = validate(rendered(tmp_path, run, "json"))["totals"]

    (level,) = run.levels.all()
    assert totals["rampup_requests"] == level.rampup_requests > 0
    assert totals["warmup_requests"] == 2 * 2
    assert totals["login_requests"] == len(run.logins) + level.login_requests
    assert totals["requests_counted"] == 2 * 3 + 20
    assert totals["requests_sent"] == standin_server.handled() - before


@pytest.mark.slow
@pytest.mark.django_db
@override_settings(ROOT_URLCONF="tests.support.urls", PERFTEST=THROTTLED_AND_PROFILE)
def test_junit_has_a_case_per_threshold_failing_fail_and_not_measured(tmp_path):
    run = perftest(tmp_path, "--format", "junit", "--iterations", "10", "--warmup", "0")
    suites = cases(rendered(tmp_path, run, "xml"))

    checks = run.findings.filter(kind=Finding.Kind.THRESHOLD)
    assert [c.get("name") for c in suites["thresholds"]] == [f.title for f in checks]
    failing = {c.get("name") for c in suites["thresholds"] if c.find("failure") is not None}
    red = {f.title for f in checks if f.passed is False or f.actual == "not measured"}
    assert failing == red and any("Throttled" in title for title in red)
    assert suites["configuration"] == []


@pytest.mark.slow
@pytest.mark.django_db
def test_junit_skips_not_evaluated_checks_and_fails_each_configuration_finding(tmp_path):
    run = perftest(tmp_path, "--format", "md", "--warmup", "0", *LIGHT)
    run.findings.create(
        position=90, kind="configuration", rule="configuration.router_root",
        subject="Get Profile", title="Get Profile is a DRF router root",
        evidence="it lists routes", recommendation="point it at a list route",
    )  # fmt: skip
    run.findings.create(
        position=91, kind="threshold", rule="threshold.concurrency_all_ok", subject="10",
        title="At 10 concurrent all succeed", target="100%", actual="not evaluated",
    )  # fmt: skip
    suites = cases(formats.FORMATS["junit"].render(read.load(run.pk)))

    (configuration,) = suites["configuration"]
    failure = configuration.find("failure")
    assert failure.get("message") == "configuration: Get Profile is a DRF router root"
    assert "point it at a list route" in failure.text
    skipped = [c.get("name") for c in suites["thresholds"] if c.find("skipped") is not None]
    assert skipped == ["At 10 concurrent all succeed"]


@pytest.mark.django_db
@pytest.mark.parametrize("command", ["perftest", "perftest_report"])
def test_an_unknown_format_is_one_line_and_exit_2_before_anything_runs(command, tmp_path):
    stored = Run.objects.count()
    args = ["--format", "md,pdf,docx", "--output", str(tmp_path)]
    with pytest.raises(CommandError) as ended:
        call_command(command, *(["1"] if command == "perftest_report" else []), *args)
    assert ended.value.returncode == 2
    message = str(ended.value)
    assert message == (
        "Unknown report format 'pdf', 'docx': --format takes a comma-separated list of "
        "md, json, junit, html."
    )
    assert Run.objects.count() == stored and not list(tmp_path.iterdir())


@pytest.mark.slow
@pytest.mark.django_db
def test_perftest_report_prints_a_json_report_to_stdout(tmp_path, capsys):
    run = perftest(tmp_path, "--warmup", "0", *LIGHT)
    capsys.readouterr()
    call_command("perftest_report", str(run.pk), "--format", "json", "--stdout")
    assert json.loads(capsys.readouterr().out)["run"]["label"] == run.label


@pytest.mark.django_db
def test_json_carries_how_much_of_a_busy_machine_each_level_had():
    from tests.support.stored_rows import add_level, analyzed, load_run

    run = load_run(resource_cpu_count=2)
    add_level(run, 1, 100.0, 10.0, system_cores=1.32, other_cores=1.1)
    add_level(run, 10, 400.0, 20.0, system_cores=1.9, other_cores=0.9)
    analyzed(run)
    stored = read.load(run.pk)
    markdown = formats.FORMATS["md"].render(stored)
    document = validate(formats.FORMATS["json"].render(stored))

    assert "34% of the machine was free" in markdown and "5% of the machine was free" in markdown
    assert [level["machine_free_share"] for level in document["levels"]] == pytest.approx(
        [0.34, 0.05]
    )
    # (This stored run has no threshold snapshot, so only its percentages are checked here.)
    assert [figure for figure in missing_figures(markdown, document) if "%" in figure] == []
