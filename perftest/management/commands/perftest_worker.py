"""``manage.py perftest_worker --master HOST:PORT``: lend this machine to a perftest run.

The run's command (``perftest --engine locust --master``) owns the plan, the database and the
stored run; a worker needs only perftest with its ``locust`` extra and a route to the master
(and to the target). This command becomes a Locust worker running perftest's locustfile
(``os.execv``: the same pid, so it is stopped like any process), which gets the plan and
each level from the master and ships its figures back; it ends when the master ends the run
or goes silent.
"""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import CommandParser

from perftest.conf import ConfigError
from perftest.management import usage
from perftest.management.usage import usage_error
from perftest.measure.load.locust_engine import RECORD_ENV, worker_command
from perftest.plan.engine import locust_installed, parse_host_port


class Command(usage.Command):
    help = "Join a perftest run's Locust master as a worker (needs perftest[locust])."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--master",
            required=True,
            metavar="HOST:PORT",
            help="Where the run's master listens (perftest --engine locust --master).",
        )
        parser.add_argument(
            "--record",
            metavar="DIR",
            help="Also write every report this worker ships to DIR, one JSON file each: what "
            "the master was sent to merge, for an audit.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            host, port = parse_host_port("--master", options["master"])
        except ConfigError as exc:
            raise usage_error(str(exc)) from None
        if not locust_installed():
            raise usage_error(
                "perftest_worker needs Locust, which is not installed: "
                "pip install 'perftest[locust]'."
            )
        if options["record"]:
            os.environ[RECORD_ENV] = os.path.abspath(options["record"])
        command = worker_command(host, port)
        os.execv(command[0], command)
