"""Settings of the live test server: the project's own, plus request counting and /test/ views."""

from tests.support.passwords import FAST_HASHERS
from thebot_settings.settings import *  # noqa: F403
from thebot_settings.settings import MIDDLEWARE

MIDDLEWARE = ["tests.support.counting.CountingMiddleware", *MIDDLEWARE]
ROOT_URLCONF = "tests.support.urls"
# The identities the tests seed hash their passwords with the tests' fast hasher: the server
# checks them with it, first in its list, so a login never re-hashes with a slower one.
PASSWORD_HASHERS = FAST_HASHERS
