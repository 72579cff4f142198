#!/usr/bin/env python
"""Django's command-line utility for the perftest project (THE_BOT stand-in by default;
THE_BOT's own backend with perftest when ``THEBOT_BACKEND`` is set)."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thebot_settings.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.INSTALLED_APPS  # noqa: B018 - load the settings: a bad THEBOT_BACKEND ends here
    except ImproperlyConfigured as exc:
        print(f"manage.py: {exc}", file=sys.stderr)
        sys.exit(2)
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
