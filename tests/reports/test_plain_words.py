"""Plain words: web pages say command-line options in words (the Markdown report and the
terminal keep them, where a person types the next command), and advice comes from what was
found, never a sentence every report repeats.

Runs are built with the stored-row builders and analysed as the runner analyses them.
"""

from __future__ import annotations

import pytest

from perftest.analysis.rules import baseline as baseline_rules
from perftest.analysis.rules import endpoints as rules
from perftest.reports import html, markdown
from perftest.reports.web_words import without_flags
from perftest.store import read
from tests.support.admin_pages import LIST, user
from tests.support.stored_rows import add_endpoint, add_samples, analyzed, make_run, of_rule

#: A stored plan whose login endpoint is set apart (``PERFTEST["LOGIN"]["UNDER_TEST"]`` False).
LOGIN_PLAN = {
    "login": {"method": "POST", "path": "/api/auth/login/"},
    "endpoints": [{"name": "Login", "method": "POST", "is_login": True}],
}


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("(--profile, --explain)", "(profiling, EXPLAIN plans)"),
        ("processes (--engine locust --processes N)", "processes (the Locust engine with more"),
        ("--baseline 12: run #12 is running", "baseline run #12: run #12 is running"),
        ("its token (--login once, or --identities)", "its token (one login per identity, or the"),
        ("a longer --ramp-up", "a longer ramp-up"),
        ("a separate server (`--base-url`): in-process", "a separate server (its base URL): in"),
        ("SELECT 1 -- a comment; a--b; --7", "SELECT 1 -- a comment; a--b; --7"),
    ],
)
def test_a_web_page_says_each_option_in_words(typed, read):
    assert without_flags(typed).startswith(read)
    assert "--profile" not in without_flags(typed) and "--engine" not in without_flags(typed)


@pytest.mark.django_db
def test_the_html_report_and_the_admin_say_in_words_what_the_markdown_report_types():
    """The login-hash finding advises ``--login once`` and ``--identities``."""
    hashed = {"algorithm": "x", "ms": 300.0}
    run = make_run(config=LOGIN_PLAN, environment={"password_hash": hashed})
    add_endpoint(run, "Login", method="POST", p50_ms=400.0, set_apart=True)
    (hashed,) = of_rule(analyzed(run), rules.LOGIN_HASH)
    assert "--login once" in hashed.recommendation
    stored = read.load(run.pk)

    assert "--login once" in markdown.render(stored)
    page = html.render(stored)
    assert "--login once" not in page and "--identities" not in page
    assert "(one login per identity, or the number of identities)" in page
    admin_page = user("viewer").get(f"{LIST}{run.pk}/change/").content.decode()
    assert "--login once" not in admin_page and "one login per identity" in admin_page


def slow(run, name: str, **fields):
    """An endpoint over the 2000 ms p95 limit, 20 answers of 2500 ms on average."""
    return add_endpoint(run, name, p95_ms=3000.0, sum_ns=20 * 2500 * 10**6, **fields)


@pytest.mark.django_db
def test_a_slow_endpoint_is_advised_from_where_its_time_went():
    run = make_run()
    repeated = [{"sql": "SELECT 1", "max_per_request": 40, "requests": 20}]
    slow(run, "Repeats", sql_captured=True, queries_total=800, duplicate_queries=repeated)
    slow(run, "Mostly SQL", sql_captured=True, queries_total=60, sql_ms_total=40_000.0)
    slow(run, "Mostly Python", sql_captured=True, queries_total=20, sql_ms_total=5_000.0)
    slow(run, "Over HTTP")

    advice = {f.subject: f.recommendation for f in of_rule(analyzed(run), rules.SLOW_ENDPOINT)}

    assert advice == {
        "Repeats": "Cut its repeated statement first (up to 40 times in one request, see its "
        "N+1 finding), then measure again.",
        "Mostly SQL": "80% of its time is SQL (3.0 queries per request): start with its "
        "queries (the Database section).",
        "Mostly Python": "Only 10% of its time is SQL: the rest is Python (serialisers, "
        "permissions, the functions they call); profile the endpoint to see which.",
        "Over HTTP": "Its SQL was not captured here: profile the endpoint to see whether its "
        "time is in the database or in Python.",
    }


def compared(endpoint: str, level: dict | None, *metrics: tuple[str, str]) -> dict:
    """One row of a stored comparison: its figures' names and verdicts."""
    return {
        "endpoint": endpoint,
        "phase": "level" if level else "sequential",
        "level": level,
        "metrics": [
            {
                "metric": name,
                "verdict": verdict,
                "why": "",
                "unit": "ms",
                "before": 10.0,
                "after": 30.0,
                "change": 2.0,
            }
            for name, verdict in metrics
        ],  # fmt: skip
        "new_sql": [],
        "new_repeated": [],
    }


def test_a_regression_of_a_levels_figures_names_the_endpoints_it_sent_never_the_level_as_code():
    level = {"label": "5 concurrent (closed)"}
    row = compared("all", level, ("p95", "regression"))

    (found,) = baseline_rules._metric_findings(row, "regression", "run #3")

    assert "the code 5 concurrent (closed) runs" not in found.recommendation
    assert found.recommendation.startswith(
        "Look at what changed since run #3 in the code of the endpoints 5 concurrent (closed) "
        "sent: its queries, serialisers and the functions they call"
    )


def test_a_slower_endpoint_that_also_gained_queries_is_sent_to_its_queries_first():
    gained = compared("Get Lessons", None, ("p95", "regression"), ("queries_mean", "regression"))
    same = compared("Get Profile", None, ("p95", "regression"), ("queries_mean", "unchanged"))

    slower = baseline_rules._metric_findings(gained, "regression", "run #3")[0]
    unchanged = baseline_rules._metric_findings(same, "regression", "run #3")[0]

    assert slower.recommendation.startswith("Start with the queries Get Lessons gained since run")
    assert unchanged.recommendation.endswith(
        "Its queries per request did not change, so look past the SQL count first."
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("mode", "ending"),
    [("in-process", "measure over HTTP before blaming the app."), ("http", "(cProfile, py-spy).")],
)
def test_high_cpu_names_the_endpoints_that_took_most_time_never_the_login(mode, ending):
    run = make_run(mode=mode, config={"thresholds": {"CPU_PERCENT_AVG": 80}, **LOGIN_PLAN})
    add_endpoint(run, "Login", method="POST", sum_ns=20 * 900 * 10**6, set_apart=True)
    add_endpoint(run, "Get Lessons", sum_ns=20 * 300 * 10**6)
    add_endpoint(run, "Get Profile", sum_ns=20 * 200 * 10**6)
    add_endpoint(run, "Get Materials", sum_ns=20 * 10 * 10**6)
    add_samples(run, [50.0] * 4, [380.0] * 4)  # 95% of the run's 4 cores

    (busy,) = of_rule(analyzed(run), "bottleneck.cpu_high")

    assert busy.recommendation.startswith(
        "Profile Get Lessons and Get Profile first, which took most of the measured time"
    )
    assert ("In-process, this CPU includes perftest's own work" in busy.recommendation) == (
        mode == "in-process"
    )
    assert busy.recommendation.endswith(ending)
