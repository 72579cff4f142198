"""Settings of the live test server: the project's own, plus request counting and /test/ views."""

from thebot_settings.settings import *  # noqa: F403
from thebot_settings.settings import MIDDLEWARE

MIDDLEWARE = ["tests.support.counting.CountingMiddleware", *MIDDLEWARE]
ROOT_URLCONF = "tests.support.urls"
