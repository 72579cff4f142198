"""The server's own account over HTTP, for real: gunicorn serving the project with perftest's
``ServerTimingMiddleware`` (first in the embedded settings' ``MIDDLEWARE``), a run on either
engine, and what it stores; a request that is not the run's learns nothing."""

from __future__ import annotations

import json
import urllib.request

import pytest
from django.test import override_settings

from perftest import sqlnorm
from perftest.conf import timing_secret
from perftest.measure import session as measuring
from perftest.models import Run
from perftest.plan.engine import locust_installed
from perftest.timing_header import ANSWER, HEADER, new_token, parse_server_timing
from tests.support import views
from tests.support.live_server import shared_database_url, standin_server  # noqa: F401
from tests.support.served_runs import assert_no_token_kept, served_run
from thebot_settings.settings import PERFTEST as THEBOT

pytestmark = pytest.mark.django_db(transaction=True)

SLEEP_MS = 50
ENDPOINTS = [
    {"name": "Sleep", "method": "GET", "path": "/test/sleep/", "query": {"ms": SLEEP_MS}},
    {"name": "N+1", "method": "GET", "path": "/test/n-plus-one-sql/"},
    {"name": "Get Profile", "method": "GET", "path": "/api/profile/me/"},
]
TIMED = override_settings(
    ROOT_URLCONF="tests.support.urls",
    PERFTEST={**THEBOT, "ENDPOINTS": ENDPOINTS, "SEEDER": None},
)
FORMATS = ("md", "json", "html", "junit")


@pytest.fixture
def tokens(monkeypatch) -> list[str]:
    """The timing tokens the runs made (each run makes one, in ``measure``)."""
    made: list[str] = []

    def recording(secret: str) -> str:
        made.append(new_token(secret))
        return made[-1]

    monkeypatch.setattr(measuring, "new_token", recording)
    return made


def _stored_text(run: Run) -> str:
    """Everything stored of the run, as text."""
    rows = [
        list(Run.objects.filter(pk=run.pk).values()),
        list(run.endpoints.values()),
        list(run.levels.values()),
        list(run.findings.values()),
    ]
    return json.dumps(rows, default=str)


def assert_token_never_kept(token: str, run: Run, tmp_path) -> None:
    """Neither the token nor its signature in the stored run or any report file."""
    nonce, _, signature = token.split(".")
    texts = [_stored_text(run)] + [p.read_text() for p in tmp_path.glob(f"run-{run.pk}.*")]
    assert len(texts) == 1 + len(FORMATS)
    for text in texts:
        assert token not in text and signature not in text and nonce not in text


def _figures_match_the_servers_account(rows) -> None:
    for row in rows:
        timing = row.server_timing
        assert row.ok > 0 and timing["answers"] == row.ok, row.name
        assert timing["app"]["p50_ms"] <= row.p50_ms, row.name
        assert timing["outside"]["p50_ms"] >= 0


def _n_plus_one_is_named_as_sql(row) -> None:
    timing = row.server_timing
    (group,) = row.duplicate_queries
    assert group["sql"] == sqlnorm.normalize(views.N_PLUS_ONE_SQL)
    assert (group["max_per_request"], group["requests"]) == (6, row.ok)
    # The SQL is timed inside the app's time (how large a share depends on the machine's load).
    assert 0 < timing["sql"]["mean_ms"] <= timing["app"]["mean_ms"]
    assert timing["queries"] == 7 * row.ok


@TIMED
def test_an_http_run_stores_the_servers_own_account_and_never_the_token(
    standin_server,  # noqa: F811
    tmp_path,
    tokens,
):
    run = served_run(
        tmp_path, "--base-url", standin_server.base_url, "--concurrency", "2",
        "--requests", "30", "--ramp-up", "0", "--iterations", "4", "--warmup", "0",
        "--format", ",".join(FORMATS),
    )  # fmt: skip

    assert run.status == Run.Status.COMPLETED, run.failure
    (level,) = run.levels.all()
    assert level.server_timing["answers"] == level.ok > 0
    assert level.server_timing["app"]["p50_ms"] <= level.p50_ms
    sequential = {row.name: row for row in run.endpoints.filter(phase="sequential")}
    in_level = {row.name: row for row in level.endpoints.all()}
    assert set(sequential) == set(in_level) == {e["name"] for e in ENDPOINTS}
    for rows in (sequential, in_level):
        _figures_match_the_servers_account(rows.values())
        assert rows["Sleep"].server_timing["app"]["mean_ms"] >= SLEEP_MS * 0.9
        assert rows["Sleep"].server_timing["sql"]["max_ms"] < SLEEP_MS * 0.9
        _n_plus_one_is_named_as_sql(rows["N+1"])
        assert rows["Get Profile"].server_timing["queries"] >= rows["Get Profile"].ok
    (token,) = tokens
    assert_token_never_kept(token, run, tmp_path)
    assert_no_token_kept(run, (tmp_path / f"run-{run.pk}.md").read_text())


@pytest.mark.skipif(not locust_installed(), reason="needs perftest[locust]")
@TIMED
def test_the_locust_engine_stores_the_servers_own_account_too(
    standin_server,  # noqa: F811
    tmp_path,
    tokens,
):
    run = served_run(
        tmp_path, "--base-url", standin_server.base_url, "--engine", "locust",
        "--processes", "1", "--concurrency", "2", "--duration", "1.5", "--ramp-up", "0",
        "--iterations", "1", "--warmup", "0", "--format", ",".join(FORMATS),
    )  # fmt: skip

    assert run.status == Run.Status.COMPLETED, run.failure
    (level,) = run.levels.all()
    assert level.server_timing["answers"] == level.ok > 0
    in_level = {row.name: row for row in level.endpoints.all()}
    _figures_match_the_servers_account(in_level.values())
    assert in_level["Sleep"].server_timing["app"]["mean_ms"] >= SLEEP_MS * 0.9
    _n_plus_one_is_named_as_sql(in_level["N+1"])
    (token,) = tokens
    assert_token_never_kept(token, run, tmp_path)


def _answer_header(url: str, header: str | None) -> str | None:
    request = urllib.request.Request(url, headers={HEADER: header} if header is not None else {})
    with urllib.request.urlopen(request, timeout=30) as answer:
        answer.read()
        return answer.headers.get(ANSWER)


@pytest.mark.parametrize("header", [None, "garbage", "1.2.3", "signed elsewhere"])
def test_a_request_that_is_not_the_runs_gets_no_server_timing(
    standin_server,  # noqa: F811
    header,
):
    url = standin_server.base_url + "/test/n-plus-one-sql/?rows=10"
    if header == "signed elsewhere":
        header = new_token("another project's secret")

    assert _answer_header(url, header) is None
    # The same server answers the run's signed request, so the silence above is the signature's.
    signed = _answer_header(url, new_token(timing_secret()))
    assert signed is not None and parse_server_timing(signed).repeated == 6
