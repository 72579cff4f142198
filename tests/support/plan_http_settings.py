"""The live test server's settings serving ``tests.support.plan_urls``, requests counted by
method."""

from tests.support.http_settings import *  # noqa: F403

ROOT_URLCONF = "tests.support.plan_urls"
