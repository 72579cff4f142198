"""Which transport a phase measures on: in-process, or over HTTP when the plan names a server.

One place decides it for the sequential pass, the load levels and ``--check``, so a phase never
measures over another path than the one the plan says.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from perftest.plan.model import RunPlan

from .base import SessionKeys, Transport
from .http import HttpTransport
from .inprocess import InProcessTransport


def transport_factory(
    plan: RunPlan, over_http: bool, sessions: SessionKeys | None = None, timing_token: str = ""
) -> Callable[[], Transport]:
    """Transports for the plan's target: over HTTP when asked and a server is planned; each
    puts the session keys the answers set into ``sessions``. Over HTTP each request carries
    the run's ``timing_token`` (when given), asking the server for its own account; in-process
    the transport sees the SQL itself and sends none."""
    http = plan.http
    if not over_http or http is None:
        return functools.partial(InProcessTransport, sessions)
    return lambda: HttpTransport(
        http.base_url, http.connect_timeout, http.read_timeout, sessions, timing_token
    )
