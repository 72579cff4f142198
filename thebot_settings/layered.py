"""THE_BOT's backend with perftest layered on top, chosen by ``THEBOT_BACKEND``.

The platform's settings module (``THEBOT_SETTINGS``, default ``config.settings``) is imported
from the backend folder and copied as it is: its URLconf, database, user model, apps and
middleware are what perftest measures. Only ``perftest`` is added to ``INSTALLED_APPS``,
perftest's ``ServerTimingMiddleware`` goes first in ``MIDDLEWARE`` (it answers only requests a
perftest run signed, so served this way the platform tells a run its app and SQL time), and
``PERFTEST`` defaults to THE_BOT's endpoints and login (``thebot.py``) when the platform
defines none. The stand-in is not installed, so nothing of it can be measured by mistake.
"""

import importlib
import os
import sys
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from thebot_settings.thebot import THEBOT_PERFTEST

TIMING_MIDDLEWARE = "perftest.middleware.ServerTimingMiddleware"
BACKEND = Path(os.environ["THEBOT_BACKEND"]).expanduser().resolve()
SETTINGS_MODULE = os.environ.get("THEBOT_SETTINGS") or "config.settings"

if not BACKEND.is_dir():
    raise ImproperlyConfigured(
        f"THEBOT_BACKEND={os.environ['THEBOT_BACKEND']!r} is not a folder; point it at the "
        "folder that holds THE_BOT's manage.py."
    )
if str(BACKEND) not in sys.path:
    sys.path.insert(0, str(BACKEND))
try:
    _platform = importlib.import_module(SETTINGS_MODULE)
except ModuleNotFoundError as exc:
    raise ImproperlyConfigured(
        f"THEBOT_SETTINGS={SETTINGS_MODULE!r} cannot be imported from {BACKEND} ({exc}); set "
        "THEBOT_SETTINGS to the platform's settings module, e.g. config.settings."
    ) from None

globals().update({name: value for name, value in vars(_platform).items() if name.isupper()})

INSTALLED_APPS = list(globals().get("INSTALLED_APPS", []))
if "perftest" not in INSTALLED_APPS and "perftest.apps.PerftestConfig" not in INSTALLED_APPS:
    INSTALLED_APPS.append("perftest")
PERFTEST = globals().get("PERFTEST") or dict(THEBOT_PERFTEST)
MIDDLEWARE = list(globals().get("MIDDLEWARE", []))
if TIMING_MIDDLEWARE not in MIDDLEWARE:
    MIDDLEWARE.insert(0, TIMING_MIDDLEWARE)
