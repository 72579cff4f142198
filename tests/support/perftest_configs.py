"""``PERFTEST`` settings the tests run with instead of the stand-in's own: its settings with
other endpoints (test-only views, a path value captured from another endpoint's answer)."""

from __future__ import annotations

from thebot_settings.settings import PERFTEST as THEBOT

TUNABLE = {"name": "Tunable", "method": "GET", "path": "/test/tunable/", "expected_status": 200}
ONE_VIEW = {**THEBOT, "ENDPOINTS": [TUNABLE], "SEEDER": None}

THROTTLED = {
    "name": "Throttled",
    "method": "GET",
    "path": "/test/throttled/",
    "expected_status": 200,
}
PROFILE = THEBOT["ENDPOINTS"][1]
THROTTLED_AND_PROFILE = {**THEBOT, "ENDPOINTS": [THROTTLED, PROFILE], "SEEDER": None}

#: Login, a list, an id captured from the list.
CAPTURED = {
    **THEBOT,
    "ENDPOINTS": [
        *THEBOT["ENDPOINTS"][:1],
        {"name": "Get Lessons", "method": "GET", "path": "/api/scheduling/lessons/"},
        {
            "name": "Get Lesson",
            "method": "GET",
            "path": "/api/scheduling/lessons/{lesson_id}/",
            "params": {"lesson_id": {"from": "Get Lessons", "json": "results.0.id"}},
        },
    ],
}
