"""``manage.py perftest_runs``: the stored runs, newest first, one line each."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from perftest import limits
from perftest.conf import ConfigError, in_range
from perftest.management import usage
from perftest.management.usage import ranged
from perftest.plan.preflight import check_migrated
from perftest.reports import console, run_list
from perftest.store import listing


class Command(usage.Command):
    help = "List the stored runs, newest first (see perftest_report RUN_ID for one run)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--target", default="", help="Only runs whose target contains this.")
        parser.add_argument("--label", default="", help="Only runs whose label contains this.")
        parser.add_argument(
            "--limit", type=ranged(limits.RUN_LIST), default=20, help="How many runs (default 20)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            in_range("--limit", options["limit"], limits.RUN_LIST)
            check_migrated()
        except ConfigError as exc:
            raise CommandError(str(exc), returncode=2) from None
        listings = listing.listing(options["target"], options["label"], options["limit"])
        asked = "".join(
            f" with {name} containing {options[name]!r}"
            for name in ("target", "label")
            if options[name]
        )
        self.stdout.write(console.render(run_list.blocks(listings, asked)))
