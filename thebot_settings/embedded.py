"""The embedded default: perftest plus a stand-in of THE_BOT's API, in this repository.

SQLite by default so the project runs on a fresh machine; ``DATABASE_URL`` (read with
dj-database-url) points it at PostgreSQL or any other database instead.
"""

import importlib
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from thebot_settings.thebot import THEBOT_PERFTEST

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "perftest-standin-not-a-production-secret")
DEBUG = os.environ.get("DJANGO_DEBUG", "") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "thebot_settings.standin",
    "perftest",
]

MIDDLEWARE = [
    # Outermost, so its account covers every other middleware; it answers only requests
    # signed by a perftest run (docs/how-a-run-works.md, "The server's own account").
    "perftest.middleware.ServerTimingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # The admin's CSS and scripts, from the installed apps (WHITENOISE_USE_FINDERS below):
    # DEBUG is off here, so neither runserver nor gunicorn would serve them.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "thebot_settings.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "thebot_settings.wsgi.application"
ASGI_APPLICATION = "thebot_settings.asgi.application"

#: The driver each database engine imports, and how to install it; one missing is a
#: one-line error here (manage.py prints it, exit 2) rather than a traceback on first use.
DRIVERS = {
    "django.db.backends.postgresql": (("psycopg", "psycopg2"), "pip install 'perftest[postgres]'"),
    "django.contrib.gis.db.backends.postgis": (
        ("psycopg", "psycopg2"),
        "pip install 'perftest[postgres]'",
    ),
    "django.db.backends.mysql": (("MySQLdb",), "pip install mysqlclient"),
    "django.contrib.gis.db.backends.mysql": (("MySQLdb",), "pip install mysqlclient"),
    "django.db.backends.oracle": (("oracledb", "cx_Oracle"), "pip install oracledb"),
}


def _database(url: str | None) -> dict:
    """``DATABASE_URL`` (SQLite next to manage.py without it) as Django's database settings;
    ImproperlyConfigured, one line naming the fix, for an unknown scheme or a missing driver.
    Whether the server answers is asked by the command's first database access."""
    max_age = os.environ.get("DATABASE_CONN_MAX_AGE", "0")
    if not max_age.isdigit():
        raise ImproperlyConfigured(
            f"DATABASE_CONN_MAX_AGE must be a whole number of seconds (0: a connection per "
            f"request), not {max_age!r}."
        )
    try:
        database = dj_database_url.parse(
            url or f"sqlite:///{BASE_DIR / 'db.sqlite3'}", conn_max_age=int(max_age)
        )
    except ValueError as exc:
        scheme, separator, _ = (url or "").partition("://")
        if separator and not isinstance(exc, dj_database_url.UnknownSchemeError):
            problem = f"cannot be read ({exc})"  # the URL itself is not shown: its password
        else:
            problem = f"has an unknown scheme {scheme + '://'!r}" if separator else "has no scheme"
        raise ImproperlyConfigured(
            f"DATABASE_URL {problem}; write postgres://USER:PASSWORD@HOST:5432/NAME, "
            "mysql://USER:PASSWORD@HOST:3306/NAME or sqlite:///path/to/db.sqlite3."
        ) from None
    modules, install = DRIVERS.get(database["ENGINE"], ((), ""))
    for module in modules:
        try:
            importlib.import_module(module)
            break
        except ImportError:
            continue
    else:
        if modules:
            raise ImproperlyConfigured(
                f"DATABASE_URL names a {database['ENGINE'].rsplit('.', 1)[-1]} database, but "
                f"its driver ({' or '.join(modules)}) is not installed: {install}."
            )
    return database


DATABASES = {"default": _database(os.environ.get("DATABASE_URL"))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Under load, concurrent logins write tokens: IMMEDIATE transactions take the write lock
    # at BEGIN and wait up to the timeout for it, instead of failing with "database is
    # locked" when a reading transaction later tries to write.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )
    # Tests use a file too, as a real SQLite deployment does: an in-memory test database is
    # one shared cache, whose table locks fail concurrent logins at once ("database table is
    # locked") instead of waiting out the timeout as a file's write lock does.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "test-db.sqlite3")}

AUTH_USER_MODEL = "standin.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
# The embedded project is run straight from the repository (runserver, gunicorn), never
# through collectstatic: WhiteNoise serves the apps' static files where they are installed.
WHITENOISE_USE_FINDERS = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    # THE_BOT throttles outside its test environment; the stand-in does not by default.
    # STANDIN_THROTTLE=1 turns on THE_BOT's limits: 10 requests/s burst per client, 5 logins a
    # minute per IP, 10 lesson-list requests a minute per user (views/throttling.py).
    "DEFAULT_THROTTLE_CLASSES": [],
    "DEFAULT_THROTTLE_RATES": {"burst": "10/second", "login": "5/minute", "lessons": "10/minute"},
}
if os.environ.get("STANDIN_THROTTLE") == "1":
    REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = ["rest_framework.throttling.AnonRateThrottle"]
    REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["anon"] = "10/second"
    REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["user"] = "10/second"
    REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"].append("rest_framework.throttling.UserRateThrottle")

# perftest measures the stand-in as it would measure THE_BOT: THE_BOT's endpoints, login and
# student role (``thebot.py``), and the stand-in's seeder for their sample data.
PERFTEST = {**THEBOT_PERFTEST, "SEEDER": "thebot_settings.standin.seed.seed_sample_data"}
