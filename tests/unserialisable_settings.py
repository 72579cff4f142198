"""Project settings whose endpoint body is a Python value JSON cannot carry (a date)."""

import datetime

from thebot_settings.settings import *  # noqa: F403
from thebot_settings.settings import PERFTEST as THEBOT

PERFTEST = {
    **THEBOT,
    "ENDPOINTS": [
        *THEBOT["ENDPOINTS"],
        {
            "name": "Book Lesson",
            "method": "POST",
            "path": "/api/scheduling/lessons/",
            "expected_status": 201,
            "body": {"date": datetime.date(2026, 1, 5)},
        },
    ],
}
