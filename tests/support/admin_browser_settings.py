"""Settings of the admin browser test's server: the live server's, plus the admin's own CSS
and scripts served from ``/static/`` (gunicorn serves no static files, and DEBUG is off), so
the screenshots show the admin as a deployment with its static files shows it."""

from tests.support.http_settings import *  # noqa: F403

ROOT_URLCONF = "tests.support.admin_browser_urls"
