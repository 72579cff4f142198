#!/usr/bin/env python
"""Django's command-line utility for the perftest project (THE_BOT stand-in by default)."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thebot_settings.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
