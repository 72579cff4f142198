"""The Locust engine: perftest's load levels on Locust's distributed runner.

Everything of perftest that imports Locust (and with it gevent, which patches the standard
library on import) lives in this package, in the modules that run inside Locust's processes:
``master``, ``user``, ``worker``, ``client`` and ``locustfile``. The rest of the package never
imports them: ``driver`` (the ``Engine`` the session uses) starts the master (``python -m``
``driver.MASTER_MODULE``) and the workers (``locust --worker -f`` this package's
``locustfile``) as processes of their own and reads the merged levels back from files;
``wire`` is what crosses between those processes. This ``__init__`` imports nothing of it, so
the ``perftest_worker`` command can name the worker's command line without Locust.
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
