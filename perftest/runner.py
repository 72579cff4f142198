"""One run from plan to stored rows: seed, log in, measure, sample, store, analyse, clean up.

Whatever ends the run (completion, Ctrl-C, an error), what was measured so far is stored with
the matching status before the seeded data is removed, and the findings are computed from the
stored rows. Only this module joins the measuring core to storage.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from django.conf import settings
from django.utils import timezone

from . import environment, store
from .analysis.findings import analyze
from .auth import Headers, log_in, login_request
from .conf import ConfigError
from .load.sequential import measure
from .models import Run
from .redact import Redactor
from .resources import own_process_sampler
from .result import EndpointResult, RunResult
from .scenario import RunPlan
from .seeding import Identity, Seeding
from .transport.base import Transport
from .transport.inprocess import InProcessTransport, quiet_request_log


def _snapshot(plan: RunPlan, redactor: Redactor) -> dict:
    """The plan as stored: every knob that shaped the run, secrets masked."""
    data = dataclasses.asdict(plan)
    data["endpoints"] = [dataclasses.asdict(e) for e in plan.endpoints]
    return redactor.mapping(data)


def _new_result(plan: RunPlan, redactor: Redactor) -> RunResult:
    return RunResult(
        mode="in-process",
        target=f"URLconf {settings.ROOT_URLCONF}",
        label=plan.label,
        iterations=plan.iterations,
        warmup=plan.warmup,
        config=_snapshot(plan, redactor),
        environment=environment.describe(),
        started_at=timezone.now(),
    )


class _Session:
    """The measuring part of a run, with the state it needs between endpoints."""

    def __init__(self, plan: RunPlan, result: RunResult, redactor: Redactor, tick: Callable):
        self.plan, self.result, self.redactor, self.tick = plan, result, redactor, tick

    def _log_in(self, transport: Transport, identity: Identity) -> Headers | None:
        attempt, headers = log_in(transport, self.plan.login, identity, self.redactor)
        self.result.logins.append(attempt)
        return headers

    def measure_all(self, transport: Transport, identity: Identity) -> None:
        headers = self._log_in(transport, identity) if self.plan.endpoints else None
        total = len(self.plan.endpoints)
        for index, endpoint in enumerate(self.plan.endpoints, start=1):
            result = EndpointResult(
                endpoint.name, endpoint.method, endpoint.path, endpoint.expected_status
            )
            self.result.endpoints.append(result)
            if endpoint.auth and headers is None:
                failed = self.result.logins[-1]
                result.not_measured = f"login failed ({failed.reason})"
                continue
            if endpoint.is_login and endpoint.body is None:
                spec = dataclasses.replace(
                    login_request(self.plan.login, identity), endpoint=endpoint.name
                )
            else:
                spec = endpoint.request(headers or ())
            measure(
                transport,
                spec,
                result,
                iterations=self.plan.iterations,
                warmup=self.plan.warmup,
                redactor=self.redactor,
                tick=lambda text, i=index: self.tick(f"[{i}/{total}] {text}"),
            )
            if endpoint.is_login and any(e.auth for e in self.plan.endpoints[index:]):
                # Every login rotates the token: log in once more for the endpoints after it.
                headers = self._log_in(transport, identity)


def _mark_unreached(plan: RunPlan, result: RunResult) -> None:
    """List the endpoints an interruption kept from running, so the report names them."""
    for endpoint in plan.endpoints[len(result.endpoints) :]:
        unreached = EndpointResult(
            endpoint.name, endpoint.method, endpoint.path, endpoint.expected_status
        )
        unreached.not_measured = "the run was interrupted before this endpoint"
        result.endpoints.append(unreached)


class RunInterrupted(Exception):
    """Ctrl-C ended the run; ``run`` is stored as interrupted with what was measured."""

    def __init__(self, run: Run):
        super().__init__(f"run #{run.pk} interrupted")
        self.run = run


def execute(plan: RunPlan, tick: Callable[[str], None] = lambda text: None) -> Run:
    """Run the plan in-process and return the stored run (findings included).

    Raises ConfigError (exit code 2) or RunInterrupted only after the run is stored.
    """
    redactor = Redactor()
    result = _new_result(plan, redactor)
    run = store.begin(result)
    seeding = Seeding(plan.identity, plan.seeder, run)
    sampler = own_process_sampler(plan.resource_interval)
    pending: Exception | None = None
    try:
        with quiet_request_log():
            tick("seeding test data")
            identity = seeding.create_identities(1)[0]
            sampler.start()
            transport = InProcessTransport()
            try:
                _Session(plan, result, redactor, tick).measure_all(transport, identity)
            finally:
                transport.close()
        result.status = Run.Status.COMPLETED
    except KeyboardInterrupt:
        result.status = Run.Status.INTERRUPTED
        pending = RunInterrupted(run)
        _mark_unreached(plan, result)
    except ConfigError as exc:
        result.status, result.failure = Run.Status.FAILED, str(exc)
        pending = exc
    except Exception as exc:  # noqa: BLE001 - any failure is stored with its reason
        result.status = Run.Status.FAILED
        result.failure = redactor.text(f"{type(exc).__name__}: {exc}")
    result.resources = sampler.stop()
    result.finished_at = timezone.now()
    result.notes.extend(seeding.notes)
    if plan.keep_data:
        result.notes.append(f"test data kept (--keep-data), seeding batch {seeding.batch}")
    else:
        tick("removing test data")
        result.notes.extend(seeding.cleanup())
    store.save(run, result)
    store.save_findings(run, analyze(run))
    if pending is not None:
        raise pending
    return run
