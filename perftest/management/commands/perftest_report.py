"""``manage.py perftest_report ID``: render a stored run's report again, from stored rows only."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from perftest.conf import ConfigError, get_config
from perftest.plan.checks import check_migrated
from perftest.reports import markdown
from perftest.store import read


class Command(BaseCommand):
    help = "Write the Markdown report of a stored run (byte-for-byte the one of the run itself)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("run_id", type=int, help="The run's number (see the admin).")
        parser.add_argument("--output", help="Report folder (default PERFTEST['OUTPUT_DIR']).")
        parser.add_argument("--stdout", action="store_true", help="Print instead of writing.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            check_migrated()
            stored = read.load(options["run_id"])
        except (read.RunNotFound, ConfigError) as exc:
            raise CommandError(str(exc), returncode=2) from None
        if options["stdout"]:
            self.stdout.write(markdown.render(stored), ending="")
            return
        try:
            output = options["output"] or get_config()["OUTPUT_DIR"]
            path = markdown.write(stored, output)
        except ConfigError as exc:
            raise CommandError(str(exc), returncode=2) from None
        except OSError as exc:
            raise CommandError(f"Cannot write the report: {exc}", returncode=2) from None
        self.stdout.write(f"Report: {path}")
