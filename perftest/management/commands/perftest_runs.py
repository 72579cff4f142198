"""``manage.py perftest_runs``: the stored runs, newest first, one line each."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from perftest.conf import ConfigError
from perftest.management import usage
from perftest.management.usage import whole_number
from perftest.plan.checks import check_migrated
from perftest.reports import console, run_list
from perftest.store import read


class Command(usage.Command):
    help = "List the stored runs, newest first (see perftest_report RUN_ID for one run)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--target", default="", help="Only runs whose target contains this.")
        parser.add_argument("--label", default="", help="Only runs whose label contains this.")
        parser.add_argument(
            "--limit", type=whole_number, default=20, help="How many runs (default 20)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["limit"] < 1:
            raise usage.usage_error(f"--limit must be at least 1, got {options['limit']}.")
        try:
            check_migrated()
        except ConfigError as exc:
            raise CommandError(str(exc), returncode=2) from None
        listings = read.listing(options["target"], options["label"], options["limit"])
        asked = "".join(
            f" with {name} containing {options[name]!r}"
            for name in ("target", "label")
            if options[name]
        )
        self.stdout.write(console.render(run_list.blocks(listings, asked)))
