"""perftest on Locust's distributed runner: the side that runs inside Locust's processes.

Only this package imports Locust (and with it gevent, which patches the standard library on
import). The management command never imports it: ``measure.load.distributed`` starts the
master (``perftest.locust.master``) and the workers (``locust --worker -f`` this package's
``locustfile``) as processes of their own and reads the merged levels back from files.
"""

from __future__ import annotations

import sys
from pathlib import Path

#: ``perftest_worker --record DIR``: each worker also writes every delta it ships to DIR.
RECORD_ENV = "PERFTEST_WORKER_RECORD"
#: The file Locust's workers load (``locust --worker -f``).
LOCUSTFILE = Path(__file__).with_name("locustfile.py")


def worker_command(master_host: str, master_port: int) -> list[str]:
    """The command line of one Locust worker of a perftest run, with this Python."""
    return [
        sys.executable,
        "-m",
        "locust",
        "--worker",
        "-f",
        str(LOCUSTFILE),
        "--master-host",
        master_host,
        "--master-port",
        str(master_port),
    ]
