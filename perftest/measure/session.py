"""One call down, one value up: ``measure(session)`` runs every phase of a plan.

It orchestrates and does nothing else: the sequential pass (``sequential_pass``: in-process,
over HTTP, or both one after the other); after the in-process one, ``--profile`` and
``--explain``'s extra, uncounted requests (``diagnosis.requests``); then the load levels
(``levels``: each identity's set-up built once by ``setup``, the levels sent by the plan's
engine). Between phases the session keys gathered go to the clean-up's records. Ctrl-C ends
measuring with what was measured so far: the result says ``interrupted`` and names the
endpoints never reached. A run that goes over HTTP makes its timing token first (the server's
own account of each request, ``perftest.timing_header``), a secret like any other.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from perftest.conf import timing_secret
from perftest.measure.endpoint_result import EndpointResult
from perftest.plan.model import Mix, RunPlan
from perftest.redact import Redactor, is_sensitive_key
from perftest.timing_header import new_token

from .auth import Identity
from .calibration import Calibration
from .diagnosis.requests import run_diagnosis
from .levels import Levels
from .params import PATH_PARAMETER
from .result import COMPLETED, INTERRUPTED, LevelResult, RunResult
from .sequential_pass import run_sequential
from .transport.base import SessionKeys

Tick = Callable[[str], None]


@dataclass
class Session:
    """What measuring needs: the plan, the seeded identities, and the result to fill."""

    plan: RunPlan
    identities: Sequence[Identity]
    result: RunResult
    redactor: Redactor
    tick: Tick = lambda text: None
    #: The measured server's pid over HTTP, when known; in-process the target is this process.
    target_pid: int | None = None
    #: Per identity number, the first expected answer of each endpoint a later one captures a
    #: path value from, as the in-process (or only) sequential pass saw it: ``--profile`` and
    #: ``--explain`` reuse it.
    answers: dict[int, dict] = dataclasses.field(default_factory=dict)
    #: The machine's yardstick, sampled between endpoints and before each level.
    calibration: Calibration = dataclasses.field(default_factory=Calibration)
    #: Where every transport puts the session keys the target's answers set, for clean-up.
    sessions: SessionKeys | None = None
    #: The run's signed timing header over HTTP ("" in-process, or until ``measure`` makes
    #: it): a credential, masked by the redactor, never stored.
    timing_token: str = ""
    #: A soak's level as it goes, every checkpoint interval: stored by the lifecycle
    #: (``measure.soak``); None stores nothing before the run ends.
    checkpoint: Callable[[LevelResult], None] | None = None

    def keep_sessions(self) -> None:
        """Between phases, outside any measured window: the session keys gathered so far go
        to the clean-up's records."""
        if self.sessions is not None:
            self.sessions.keep()


def _register_secrets(plan: RunPlan, redactor: Redactor) -> None:
    """Values of sensitive-looking headers and query parameters an endpoint configures
    (Authorization, Cookie, X-Api-Key, token=…) are masked wherever an answer repeats them."""
    for endpoint in plan.endpoints:
        for name, value in (*endpoint.headers, *endpoint.query):
            if is_sensitive_key(name):
                redactor.add(value)


def _level_mix(session: Session) -> Mix | None:
    """The levels' mix without the endpoints whose path could not be filled in the
    sequential pass (their configuration finding says why); None when no level runs."""
    mix, result = session.plan.load.mix, session.result
    if not session.plan.load.active or mix is None:
        return None
    broken = {
        row.name for row in result.endpoints if row.configuration.get("problem") == PATH_PARAMETER
    }
    weights = tuple((name, weight) for name, weight in mix.weights if name not in broken)
    if not weights:
        result.notes.append(
            "no load level ran: the path of every endpoint of the mix could not be filled "
            "(see the configuration findings)"
        )
        return None
    return dataclasses.replace(mix, weights=weights)


def mark_unreached(plan: RunPlan, result: RunResult) -> None:
    """List the endpoints (per role) an interruption kept from running, so the report names
    them."""
    roles = [role.name for role in plan.roles] if len(plan.roles) > 1 else [""]
    planned = [(endpoint, role) for endpoint in plan.endpoints for role in roles]
    for endpoint, role in planned[len(result.endpoints) :]:
        unreached = EndpointResult.empty(endpoint, role)
        unreached.planned = plan.iterations
        unreached.not_measured = "the run was interrupted before this endpoint"
        result.endpoints.append(unreached)


def measure(session: Session) -> RunResult:
    """Every phase of the plan; the result's status says whether it completed or was stopped.

    Ctrl-C is absorbed here (status ``interrupted``, what was measured kept); any other error
    propagates to the lifecycle, which stores it as the reason the run failed.
    """
    plan, result = session.plan, session.result
    _register_secrets(plan, session.redactor)
    if plan.http is not None and not session.timing_token:
        session.timing_token = new_token(timing_secret())
    session.redactor.add(session.timing_token)
    calibration = session.calibration
    try:
        session.tick("sequential pass")
        calibration.sample()
        with calibration.phase("sequential", session.target_pid):
            run_sequential(session, over_http=plan.mode == "http", into=result.endpoints)
        if plan.mode != "http":
            run_diagnosis(session)
        session.keep_sessions()
        if plan.mode == "both":
            session.tick("sequential pass over HTTP")
            with calibration.phase("sequential-http", session.target_pid):
                run_sequential(session, over_http=True, into=result.http_endpoints)
            session.keep_sessions()
        mix = _level_mix(session)
        if mix is not None:
            Levels(session, mix).run_all()
        result.status = COMPLETED
    except KeyboardInterrupt:
        result.status = INTERRUPTED
        mark_unreached(plan, result)
    finally:
        result.calibration = calibration.to_dict()
    return result
