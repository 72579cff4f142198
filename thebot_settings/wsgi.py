"""WSGI entry point, for runserver and gunicorn."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thebot_settings.settings")
application = get_wsgi_application()
