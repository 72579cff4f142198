"""The live test server's settings with a login that opens a Django session as well
(``tests.support.views.SessionLogin``): a platform that leaves one ``django_session`` row per
login."""

from tests.support.http_settings import *  # noqa: F403
from tests.support.http_settings import PERFTEST as PROJECT

SESSION_LOGIN_PATH = "/test/session-login/"
PERFTEST = {**PROJECT, "LOGIN": {**PROJECT["LOGIN"], "PATH": SESSION_LOGIN_PATH}}
