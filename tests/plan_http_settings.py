"""The live test server's settings serving ``tests.plan_urls``, requests counted by method."""

from tests.http_settings import *  # noqa: F403

ROOT_URLCONF = "tests.plan_urls"
