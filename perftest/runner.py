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
from .conf import ConfigError
from .discovery import describe_process, find_server_pid
from .load.base import Mix
from .models import Run
from .phases import LevelRunner, measure_sequential
from .redact import Redactor
from .resources import ResourceSampler, own_process_sampler
from .result import EndpointResult, RunResult
from .scenario import RunPlan
from .seeding import Seeding
from .transport.base import Transport
from .transport.http import HttpTransport
from .transport.inprocess import InProcessTransport, quiet_request_log


def _snapshot(plan: RunPlan, redactor: Redactor) -> dict:
    """The plan as stored: every knob that shaped the run, secrets masked."""
    data = dataclasses.asdict(plan)
    data["endpoints"] = [dataclasses.asdict(e) for e in plan.endpoints]
    return redactor.mapping(data)


def _new_result(plan: RunPlan, redactor: Redactor) -> RunResult:
    target = f"URLconf {settings.ROOT_URLCONF}"
    if plan.http is not None:
        target = plan.http.base_url if plan.mode == "http" else f"{target} and {plan.http.base_url}"
    return RunResult(
        mode=plan.mode,
        target=target,
        label=plan.label,
        iterations=plan.iterations,
        warmup=plan.warmup,
        config=_snapshot(plan, redactor),
        environment=environment.describe(),
        started_at=timezone.now(),
    )


def _http_factory(plan: RunPlan) -> Callable[[], Transport]:
    http = plan.http
    assert http is not None
    return lambda: HttpTransport(http.base_url, http.connect_timeout, http.read_timeout)


def _sampler(plan: RunPlan) -> ResourceSampler:
    """In-process: this process. Over HTTP: the server process tree, or the reason it can't."""
    if plan.http is None:
        return own_process_sampler(plan.resource_interval)
    if plan.http.server_pid is not None:
        pid, description = plan.http.server_pid, describe_process(plan.http.server_pid)
    else:
        pid, description = find_server_pid(plan.http.base_url)
    sampler = ResourceSampler(pid or 0, plan.resource_interval, description, children=True)
    if pid is None:
        sampler.series.unavailable = description
    return sampler


def _mark_unreached(plan: RunPlan, result: RunResult) -> None:
    """List the endpoints an interruption kept from running, so the report names them."""
    for endpoint in plan.endpoints[len(result.endpoints) :]:
        unreached = EndpointResult(
            endpoint.name, endpoint.method, endpoint.path, endpoint.expected_status
        )
        unreached.not_measured = "the run was interrupted before this endpoint"
        result.endpoints.append(unreached)


def _nothing_measured(result: RunResult) -> bool:
    sequential = [*result.endpoints, *result.http_endpoints]
    return not any(ep.requests for ep in sequential) and not any(
        level.overall.requests for level in result.levels
    )


class RunInterrupted(Exception):
    """Ctrl-C ended the run; ``run`` is stored as interrupted with what was measured."""

    def __init__(self, run: Run):
        super().__init__(f"run #{run.pk} interrupted")
        self.run = run


def _measure(
    plan: RunPlan,
    result: RunResult,
    seeding: Seeding,
    sampler: ResourceSampler,
    redactor: Redactor,
    tick: Callable[[str], None],
) -> None:
    identities = seeding.create_identities(plan.identity_count)
    sampler.start()
    primary: Callable[[], Transport] = (
        InProcessTransport if plan.mode != "http" else _http_factory(plan)
    )
    tick("sequential pass")
    measure_sequential(plan, primary, identities[0], result, result.endpoints, redactor, tick)
    if plan.mode == "both":
        tick("sequential pass over HTTP")
        measure_sequential(
            plan, _http_factory(plan), identities[0], result, result.http_endpoints, redactor, tick
        )
    if plan.load.active:
        mix = Mix.parse(plan.load.mix, plan.endpoints) if plan.load.mix else None
        factory = _http_factory(plan) if plan.http is not None else InProcessTransport
        levels = LevelRunner(plan, factory, identities, mix, redactor, tick)
        levels.run_all(result)


def execute(plan: RunPlan, tick: Callable[[str], None] = lambda text: None) -> Run:
    """Run the plan and return the stored run (findings included).

    Raises ConfigError (exit code 2) or RunInterrupted only after the run is stored.
    """
    redactor = Redactor()
    result = _new_result(plan, redactor)
    run = store.begin(result)
    seeding = Seeding(plan.identity, plan.seeder, run)
    sampler = _sampler(plan)
    pending: Exception | None = None
    try:
        with quiet_request_log():
            tick("seeding test data")
            _measure(plan, result, seeding, sampler, redactor, tick)
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
    if result.status == Run.Status.COMPLETED and _nothing_measured(result):
        result.status = Run.Status.FAILED
        failed_logins = [a.reason for a in result.logins if not a.ok]
        result.failure = "nothing could be measured" + (
            f": login failed ({failed_logins[0]})" if failed_logins else ""
        )
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
