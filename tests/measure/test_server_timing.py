"""The server's own account of perftest's requests: ``ServerTimingMiddleware`` answers a
``Server-Timing`` header to the run's signed requests only, and perftest's HTTP side reads it
into its figures (the N+1 statement it names included)."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from perftest import sqlnorm
from perftest.conf import ConfigError, get_config, timing_secret
from perftest.measure.endpoint_result import EndpointResult
from perftest.measure.transport.base import Sample
from perftest.measure.transport.http import server_timing
from perftest.middleware import ServerTimingMiddleware
from perftest.plan import scenario_file
from perftest.redact import Redactor
from perftest.timing_header import (
    ANSWER,
    LIFETIME_S,
    META_KEY,
    ServerTiming,
    new_token,
    parse_server_timing,
)
from tests.support import views

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.support.urls")]


def signed_get(path: str, token: str | None = None, client: Client | None = None):
    """GET ``path`` through the project's whole middleware stack, with ``token`` as the
    timing header when given."""
    extra = {META_KEY: token} if token is not None else {}
    return (client or Client()).get(path, **extra)


def test_a_signed_request_gets_its_app_time_sql_time_and_query_count():
    with CaptureQueriesContext(connection) as ran:
        response = signed_get("/test/n-plus-one/", new_token(timing_secret()))

    assert response.status_code == 200
    timing = parse_server_timing(response[ANSWER])
    assert timing is not None
    assert timing.queries == len(ran.captured_queries) == 2 * views.N_PLUS_ONE_ROWS
    assert 0 < timing.sql_ns <= timing.app_ns
    assert response[ANSWER].startswith("app;dur=") and 'queries"' in response[ANSWER]


def test_a_view_repeating_a_statement_five_times_is_named_with_its_count():
    response = signed_get("/test/n-plus-one-sql/?times=5&rows=10", new_token(timing_secret()))

    timing = parse_server_timing(response[ANSWER])
    assert timing is not None
    assert (timing.repeated_sql, timing.repeated) == (views.N_PLUS_ONE_SQL, 5)
    assert timing.queries == 6  # the count of items, then the statement once per item


def test_a_request_without_repeats_names_no_statement():
    response = signed_get("/test/sleep/?ms=1", new_token(timing_secret()))

    timing = parse_server_timing(response[ANSWER])
    assert timing is not None and timing.app_ns >= 1_000_000
    assert (timing.sql_ns, timing.queries, timing.repeated_sql, timing.repeated) == (0, 0, "", 0)
    assert "repeat" not in response[ANSWER]


def _tampered(token: str) -> str:
    nonce, expires, signature = token.split(".")
    flipped = "0" if signature[-1] != "0" else "1"
    return f"{nonce}.{expires}.{signature[:-1]}{flipped}"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "garbage",
        "",
        "a.b.c",
        "tampered",
        "expired",
        "another secret",
        "longer expiry than signed",
    ],
)
def test_no_one_without_the_runs_valid_signature_learns_the_servers_timing(header):
    secret = timing_secret()
    token = {
        "tampered": _tampered(new_token(secret)),
        "expired": new_token(secret, now=time.time() - LIFETIME_S - 60),
        "another secret": new_token("not the project's secret"),
    }.get(header, header)
    if header == "longer expiry than signed":
        nonce, expires, signature = new_token(secret).split(".")
        token = f"{nonce}.{int(expires) + 3600}.{signature}"

    response = signed_get("/test/n-plus-one/", token)

    assert response.status_code == 200
    assert ANSWER not in response
    assert not any("timing" in name.lower() for name in response.headers)


def test_a_token_verified_once_is_refused_after_it_expires(monkeypatch):
    token = new_token(timing_secret(), lifetime_s=60)
    client = Client()
    assert ANSWER in signed_get("/test/sleep/?ms=0", token, client)
    assert ANSWER in signed_get("/test/sleep/?ms=0", token, client)  # from the verified cache

    later = time.time() + 120
    monkeypatch.setattr(time, "time", lambda: later)

    assert ANSWER not in signed_get("/test/sleep/?ms=0", token, client)


def test_the_signed_header_is_never_echoed():
    token = new_token(timing_secret())

    response = signed_get("/test/n-plus-one/", token)

    assert token not in str(response.headers) and token.encode() not in response.content


def test_timing_key_signs_instead_of_the_secret_key_on_both_sides(settings):
    settings.PERFTEST = {**settings.PERFTEST, "TIMING_KEY": "shared-timing-key"}
    assert timing_secret() == "shared-timing-key" and get_config()["TIMING_KEY"]

    assert ANSWER in signed_get("/test/sleep/?ms=0", new_token("shared-timing-key"))
    assert ANSWER not in signed_get("/test/sleep/?ms=0", new_token(settings.SECRET_KEY))


@pytest.mark.parametrize("value", ["", 42, ["key"]])
def test_a_malformed_timing_key_is_one_line_naming_it(settings, value):
    settings.PERFTEST = {**settings.PERFTEST, "TIMING_KEY": value}

    with pytest.raises(ConfigError, match=r"PERFTEST\['TIMING_KEY'\] must be a non-empty string"):
        get_config()
    with pytest.raises(ConfigError, match="TIMING_KEY"):
        ServerTimingMiddleware(lambda request: None)


def test_a_scenario_file_cannot_carry_the_timing_key(tmp_path):
    path = tmp_path / "scenario.toml"
    path.write_text('timing_key = "in a file"\n')

    with pytest.raises(ConfigError, match=r"scenario.toml: timing_key: is a secret"):
        scenario_file.apply(str(path), get_config())


# perftest's side: the answer's header block, and the figures it feeds.


def test_the_answer_header_is_found_in_any_case_and_across_fields():
    fields = (
        b"\r\nContent-Type: application/json"
        b'\r\nserver-timing: cdn;desc="hit"'
        b'\r\nSERVER-TIMING: app;dur=12.5, db;dur=3.25;desc="4 queries"'
    )

    assert server_timing(fields) == ServerTiming(12_500_000, 3_250_000, 4)
    assert server_timing(b"\r\nContent-Type: application/json") is None
    assert server_timing(b'\r\nServer-Timing: cdn;desc="hit"') is None  # not perftest's


def _answer(timing: ServerTiming | None, status: int = 200) -> Sample:
    return Sample("N+1", 20_000_000, status, 2, None, b"{}", server=timing)


def test_the_servers_named_repeat_is_an_n_plus_one_finding_over_http():
    sql = 'SELECT "app_item"."id" FROM "app_item" WHERE "app_item"."owner_id" = %s'
    result = EndpointResult("N+1", "GET", "/n/", 200)

    for times in (5, 7, 2):  # twice is no N+1 suspect (sqlnorm.DUPLICATE_THRESHOLD)
        timing = ServerTiming(10_000_000, 8_000_000, times + 1, sql, times)
        result.record(_answer(timing), Redactor())
    result.record(_answer(ServerTiming(1_000_000, 0, 0)), Redactor())
    result.record(_answer(None), Redactor())

    (group,) = result.duplicate_queries.values()
    assert (group.sql, group.max_per_request, group.requests) == (sqlnorm.normalize(sql), 7, 2)
    assert result.server.answers == 4 and result.server.queries == 6 + 8 + 3
    assert result.server.app.max_ns >= 10_000_000 and not result.sql_captured


def test_an_unexpected_answers_account_counts_its_repeat_but_not_the_timing():
    result = EndpointResult("N+1", "GET", "/n/", 200)

    result.record(_answer(ServerTiming(5_000_000, 4_000_000, 4, "SELECT 1", 3), 500), Redactor())

    assert result.server.answers == 0 and result.errors["HTTP 500"].count == 1
    assert list(result.duplicate_queries) == ["SELECT ?"]


@pytest.mark.parametrize("path", ["/test/sleep/?ms=30", "/test/cpu/?ms=30"])
def test_the_test_views_take_the_time_they_are_asked_for(path):
    response = signed_get(path, new_token(timing_secret()))

    timing = parse_server_timing(response[ANSWER])
    assert timing is not None and timing.app_ns >= 30_000_000 and timing.queries == 0
