"""Settings of the live test server: the project's own (with the tests' fast password hasher),
plus request counting and /test/ views."""

from tests.support.fast_settings import *  # noqa: F403
from tests.support.fast_settings import MIDDLEWARE

MIDDLEWARE = ["tests.support.counting.CountingMiddleware", *MIDDLEWARE]
ROOT_URLCONF = "tests.support.urls"
