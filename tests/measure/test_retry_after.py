"""Retry-After counted exactly, and a view's own throttle named with its rate.

Real in-process runs of ``manage.py perftest`` against test-only views: one answering 429
with seven different Retry-After values in turn (more than a report names), and one throttled
by its own DRF ``throttle_classes`` (10 a minute, so Retry-After up to 60).
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import override_settings
from django.urls import resolve

from perftest.analysis.rules import endpoints as endpoint_rules
from perftest.analysis.rules.base import retry_after_text
from perftest.analysis.rules.limits import RATE_LIMITS
from perftest.models import Run
from perftest.plan.inventory import throttles
from perftest.plan.model import Throttle
from tests.support import views
from thebot_settings.settings import PERFTEST as THEBOT

pytestmark = pytest.mark.django_db

SEVEN_VALUES = {"name": "Throttled", "method": "GET", "path": "/test/throttled/", "auth": False}
OWN = {"name": "Own Throttle", "method": "GET", "path": "/test/own-throttle/", "auth": False}
OWN_THROTTLE = "tests.support.views.TenPerMinute (10/min, scope ten-per-minute)"


def measured(tmp_path, endpoint: dict, iterations: int) -> tuple[Run, str, dict]:
    """One sequential run of ``endpoint``: the stored run, its Markdown and its JSON report."""
    settings = {**THEBOT, "ENDPOINTS": [endpoint], "SEEDER": None}
    with override_settings(ROOT_URLCONF="tests.support.urls", PERFTEST=settings):
        call_command(
            "perftest", "--output", str(tmp_path), "--exit-zero", "--format", "md,json",
            "--iterations", str(iterations), "--warmup", "0",
        )  # fmt: skip
    run = Run.objects.latest("pk")
    markdown = (tmp_path / f"run-{run.pk}.md").read_text()
    return run, markdown, json.loads((tmp_path / f"run-{run.pk}.json").read_text())


def test_seven_retry_after_values_are_counted_exactly_and_the_rest_is_n_more_values(tmp_path):
    run, report, document = measured(tmp_path, SEVEN_VALUES, iterations=17)

    (answers,) = run.endpoints.get(name="Throttled").answer_classes
    seen = Counter(answers["retry_after"])
    # 17 answers over 7 values in turn: three values came 3 times, four came twice, and
    # every answer carried the header.
    assert set(seen) == set(views.RETRY_AFTER_VALUES)
    assert sorted(seen.values()) == [2, 2, 2, 2, 3, 3, 3]
    assert answers["count"] == answers["retry_after_answers"] == 17
    text = retry_after_text(seen)
    assert text.endswith(" and 2 more values") and text.count(" ×3") == 3
    assert "| Throttled | HTTP 429 | 17 |" in report and f"| {text} |" in report

    (limits,) = [f for f in document["findings"] if f["rule"] == RATE_LIMITS]
    assert "with no Retry-After" not in limits["evidence"]
    per_second, per_minute = limits["evidence"].splitlines()
    assert per_second == f"Counted per second: HTTP 429 ×{seen['1']} (Throttled ×{seen['1']}); " \
        f"Retry-After 1 ×{seen['1']}."  # fmt: skip
    assert per_minute.startswith(f"Counted per minute: HTTP 429 ×{17 - seen['1']} (Throttled ×")
    assert per_minute.endswith(" and 1 more value.")  # six values of 2 to 7 s: five named
    assert limits["title"] == (
        "The platform's rate limits answered HTTP 429 ×17, counted per second and per minute"
    )
    (throttled,) = run.findings.filter(rule=endpoint_rules.RATE_LIMITED)
    assert f"The server asked to retry after {text} (Retry-After)." in throttled.evidence
    assert "carried none" not in throttled.evidence


def test_a_views_own_throttle_is_named_with_its_rate_apart_from_the_platforms(tmp_path):
    cache.clear()  # DRF's throttles count in the default cache: no earlier test's requests
    run, _, document = measured(tmp_path, OWN, iterations=20)

    (planned,) = run.config["endpoints"]
    assert planned["throttles"] == [
        {
            "name": "tests.support.views.TenPerMinute",
            "own": True,
            "scope": "ten-per-minute",
            "rate": "10/min",
            "window_s": 60,
        }
    ]
    row = run.endpoints.get(name="Own Throttle")
    refused = row.status_counts["429"]
    assert row.ok >= 10 and refused == 20 - row.ok > 0  # ten a minute pass, then 429s
    (answers,) = row.answer_classes
    assert answers["retry_after_answers"] == refused
    assert all(0 < int(wait) <= 60 for wait in answers["retry_after"])

    (throttled,) = run.findings.filter(rule=endpoint_rules.RATE_LIMITED)
    assert throttled.title == (
        f"Own Throttle was throttled by its view's own throttle {OWN_THROTTLE}: "
        f"HTTP 429 for {refused} of 20 requests"
    )
    assert throttled.evidence.startswith(f"The run measured its view's own throttle {OWN_THROTTLE}")
    (limits,) = [f for f in document["findings"] if f["rule"] == RATE_LIMITS]
    assert limits["title"] == (
        f"Own Throttle's view's own throttle {OWN_THROTTLE} answered HTTP 429 ×{refused}"
    )
    assert "platform" not in limits["title"] and "Counted per" not in limits["evidence"]
    assert limits["evidence"].startswith(
        f"Own Throttle's view's own throttle {OWN_THROTTLE}: HTTP 429 ×{refused}; Retry-After "
    )


@override_settings(ROOT_URLCONF="tests.support.urls")
def test_discovery_reads_a_views_throttle_classes_scope_and_rate():
    assert throttles(resolve("/test/own-throttle/").func) == (
        Throttle("tests.support.views.TenPerMinute", True, "ten-per-minute", "10/min", 60),
    )
    # A ScopedRateThrottle reads its rate from the scope the view names.
    assert throttles(resolve("/test/scoped-throttle/").func) == (
        Throttle("rest_framework.throttling.ScopedRateThrottle", True, "lessons", "10/minute", 60),
    )
    # The project's DEFAULT_THROTTLE_CLASSES are empty here: a view of its own has none.
    assert throttles(resolve("/api/profile/me/").func) == ()
    assert throttles(resolve("/test/throttled/").func) == ()  # a plain Django view
