"""``manage.py perftest_report ID``: render a stored run's reports again, from stored rows only;
with ``--baseline``, compared now with another stored run (nothing stored changes)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from perftest.analysis import rebaseline
from perftest.conf import ConfigError, get_config
from perftest.management import usage
from perftest.plan.preflight import check_migrated
from perftest.reports import formats
from perftest.store import read


class Command(usage.Command):
    help = "Write the reports of a stored run (byte-for-byte those of the run itself)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("run_id", type=int, help="The run's number (see perftest_runs).")
        parser.add_argument("--output", help="Report folder (default PERFTEST['OUTPUT_DIR']).")
        parser.add_argument(
            "--format",
            default=formats.DEFAULT,
            help=f"Report formats, comma-separated: {', '.join(formats.FORMATS)} (default md).",
        )
        parser.add_argument(
            "--baseline",
            metavar="RUN_ID|latest",
            help="Compare with this stored run (or the latest earlier one with the same target "
            "and plan) instead of the comparison stored with the run; nothing is stored.",
        )
        # dest differs from "stdout": BaseCommand.execute takes options["stdout"] as its stream.
        parser.add_argument(
            "--stdout", dest="to_stdout", action="store_true", help="Print instead of writing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            chosen = formats.parse(options["format"])
            check_migrated()
            stored = read.load(options["run_id"])
            if options["baseline"]:
                baseline = rebaseline.resolve(stored, options["baseline"])
                stored = rebaseline.compared_with(stored, baseline)
        except (
            formats.UnknownFormat,
            read.RunNotFound,
            rebaseline.NotComparable,
            ConfigError,
        ) as exc:
            raise CommandError(str(exc), returncode=2) from None
        if options["to_stdout"]:
            for report in chosen:
                self.stdout.write(report.render(stored), ending="")
            return
        try:
            output = options["output"] or get_config()["OUTPUT_DIR"]
            paths = [formats.write(stored, report, output) for report in chosen]
        except ConfigError as exc:
            raise CommandError(str(exc), returncode=2) from None
        except OSError as exc:
            raise CommandError(f"Cannot write the report: {exc}", returncode=2) from None
        self.stdout.write(f"Report: {', '.join(str(path) for path in paths)}")
