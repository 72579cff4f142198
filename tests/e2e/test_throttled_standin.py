"""The stand-in with THE_BOT's throttles on (``STANDIN_THROTTLE=1``): a run meets each limit and
the report names it by its window, with the 429 counts and the Retry-After values."""

from __future__ import annotations

import json

from perftest.analysis.rules.limits import RATE_LIMITS
from tests.support.commands import manage_subprocess, migrated_sqlite


def test_each_throttle_of_the_platform_is_named_with_its_429s_and_retry_after(tmp_path):
    database = migrated_sqlite(tmp_path)
    reports = tmp_path / "reports"
    ran = manage_subprocess(
        "perftest", "--iterations", "15", "--warmup", "0",
        "--endpoints", "Get Profile,Get Lessons", "--concurrency", "6", "--duration", "1",
        "--output", str(reports), "--format", "json,md",
        DATABASE_URL=database, STANDIN_THROTTLE="1",
    )  # fmt: skip
    # Red: every Get Lessons answer in the sequential pass was throttled, so it has no p95.
    assert ran.returncode == 1, ran.stdout + ran.stderr
    (document,) = [json.loads(path.read_text()) for path in reports.glob("run-*.json")]
    profile, lessons = document["endpoints"]["sequential"]
    # 15 requests in well under a second: the 10/s burst limit lets 10 through.
    assert profile["ok"] == 10 and profile["status_counts"]["429"] == 5

    (limits,) = [f for f in document["findings"] if f["rule"] == RATE_LIMITS]
    assert limits["title"].endswith("counted per second and per minute")
    per_second, per_minute, defaults = limits["evidence"].splitlines()
    # The views throttle by the project's defaults (none of their own), read in-process.
    assert defaults == (
        "REST_FRAMEWORK's DEFAULT_THROTTLE_CLASSES of these views: "
        "rest_framework.throttling.AnonRateThrottle (10/second, scope anon), "
        "rest_framework.throttling.UserRateThrottle (10/second, scope user)."
    )
    assert per_second.startswith("Counted per second: HTTP 429 ×")
    assert "Get Profile ×" in per_second and "Retry-After 1 ×" in per_second
    # 10 lesson lists a minute per user, and 5 logins a minute per IP (7 logins: the
    # sequential pass's and one per worker).
    assert per_minute.startswith("Counted per minute: HTTP 429 ×")
    assert "Get Lessons ×" in per_minute and "the login ×2" in per_minute
    waits = [int(part.split(" ×")[0]) for part in per_minute.split("Retry-After ")[1].split(", ")]
    assert all(1 < wait <= 60 for wait in waits)
    total = sum(
        row["status_counts"].get("429", 0)
        for row in (*document["endpoints"]["sequential"], *document["levels"][0]["endpoints"])
    )
    assert limits["title"].startswith(f"The platform's rate limits answered HTTP 429 ×{total + 2},")
