"""A Locust worker's share of a perftest level: its users' loops, figures and reports.

The master sends every worker the plan and the level (``perftest_level``) just before it
spawns the level's users. Each user takes the next user number of its worker, which picks
its identity (whose token the command logged in and handed over) and its place in the mix,
then sends back to back (closed) or on its share of the arrival schedule (open) until the
level's end, and stops. Figures go straight into perftest's own ``EndpointResult`` per
endpoint; greenlets switch only inside I/O, so recording needs no lock. Every Locust report
carries what was measured since the last one, and when its users are done the worker sends
the rest (``perftest_done``): the master merges deltas, so nothing is counted twice.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any

import gevent

from perftest.measure.endpoint_result import EndpointResult
from perftest.measure.transport.base import RequestSpec, Sample
from perftest.plan.model import Mix
from perftest.redact import Redactor

from . import wire
from .client import UserConnection

_perf_ns = time.perf_counter_ns
_wall_ns = time.time_ns
#: How often a worker looks whether its users are done once the level's time is up.
DONE_POLL_S = 0.05
#: A request sent later than its intended time by more than this is counted late (as in
#: ``measure.load.open``).
LATE_TOLERANCE_S = 0.005


class WorkerLevel:
    """One level as this worker runs it: its clock, its users' figures since the last report."""

    def __init__(self, message: dict[str, Any], client_id: str):
        self.index, self.model = message["index"], message["model"]
        self.plan = message["plan"]
        workers = message["workers"]
        #: A worker that connected after the master handed the level out takes no part in it.
        self.taking_part = client_id in workers
        self.finished = not self.taking_part
        self.position = workers.index(client_id) if self.taking_part else 0
        self.stride = len(workers)
        self.redactor = Redactor()
        for secret in self.plan["secrets"]:
            self.redactor.add(secret)
        self.identities = [
            {name: wire.spec_from_wire(spec) for name, spec in identity.items()}
            for identity in self.plan["identities"]
        ]
        self.mix = Mix(tuple((name, weight) for name, weight in self.plan["mix"]))
        self.start_ns = _perf_ns()
        self.measure_from = self.start_ns + int(message["ramp_up_s"] * 1e9)
        self.deadline = self.measure_from + int(message["duration_s"] * 1e9)
        self.rate = message["rate"]
        self.slots_total = message["slots_total"]
        self._users = itertools.count()
        #: Slots of this worker's share of the schedule taken so far (open levels).
        self._taken = 0
        self.active = 0
        self._cpu = time.process_time()
        self._fresh()

    def _fresh(self) -> None:
        self.results = {
            name: EndpointResult.from_dict(template)
            for name, template in self.plan["endpoints"].items()
        }
        self.delta = wire.empty_delta(self.index)

    def take_delta(self, last: bool = False) -> dict[str, Any] | None:
        """What was measured since the last report (None when nothing was, unless it is the
        ``last`` of the level), then start anew.

        A delta carries the CPU this process used since the last delta shipped: CPU used
        while nothing was measured waits for the next one, so the level's sum loses none."""
        delta, results = self.delta, self.results
        cpu = time.process_time()
        delta["cpu_s"] = cpu - self._cpu
        delta["endpoints"] = [r.to_dict() for r in results.values() if r.requests]
        self._fresh()
        measured = ("endpoints", "rampup", "dropped", "failures")
        if not last and not any(delta[key] for key in measured):
            return None
        self._cpu = cpu
        return delta

    def count(self, name: str, sample: Sample, sent_wall_ns: int) -> None:
        self.results[name].record(sample, self.redactor)
        delta = self.delta
        if not delta["first_send_ns"]:
            delta["first_send_ns"] = sent_wall_ns
        delta["last_done_ns"] = _wall_ns()

    def run_user(self) -> None:
        """One user's part of the level, start to end; a failure becomes one line."""
        if self.finished:
            return
        number = next(self._users) * self.stride + self.position
        specs = self.identities[number % len(self.identities)]
        steps = ((specs[name], name) for name in self.mix.sequence(number))
        plan = self.plan
        self.active += 1
        connection = UserConnection(
            plan["base_url"], plan["connect_timeout"], plan["read_timeout"], plan["timing_token"]
        )
        try:
            if self.model == "open" and self.taking_part:
                self._open(connection.send, steps)
            else:
                self._closed(connection.send, steps)
        except Exception as exc:  # a user has no caller to raise to
            line = self.redactor.text(" ".join(f"{type(exc).__name__}: {exc}".split()))
            self.delta["failures"].append(f"user {number + 1}: {line}")
        finally:
            connection.close()
            self.active -= 1

    def _closed(self, send: Any, steps: Iterator[tuple[RequestSpec, str]]) -> None:
        """Back to back: the ramp-up's requests are sent, not counted; then every request
        started before the deadline is counted when it completes."""
        while _perf_ns() < self.measure_from:
            send(next(steps)[0])
            self.delta["rampup"] += 1
        while _perf_ns() < self.deadline:
            spec, name = next(steps)
            sent = _wall_ns()
            self.count(name, send(spec), sent)

    def _open(self, send: Any, steps: Iterator[tuple[RequestSpec, str]]) -> None:
        """This worker's share of the arrival schedule (every ``stride``-th slot from its
        position), as ``measure.load.open`` drives it: latency from the intended send time;
        a slot no user could start within the level is dropped, never sent late past it."""
        period_ns, t0, end = 1e9 / self.rate, self.start_ns, self.deadline
        tolerance_ns = int(LATE_TOLERANCE_S * 1e9)
        delta = self.delta
        while True:
            slot = self._taken * self.stride + self.position
            self._taken += 1
            if slot >= self.slots_total:
                return
            intended = t0 + int(slot * period_ns)
            now = _perf_ns()
            if now >= end:
                self.delta["dropped"] += 1
                continue
            if now < intended:
                gevent.sleep((intended - now) / 1e9)
                now = _perf_ns()
            delta = self.delta  # a report may have swapped it while this user slept
            lateness = now - intended
            delta["max_lateness_ns"] = max(delta["max_lateness_ns"], lateness)
            delta["late"] += lateness > tolerance_ns
            spec, name = next(steps)
            sent = _wall_ns()
            sample = send(spec)
            sample.elapsed_ns = _perf_ns() - intended
            self.count(name, sample, sent)

    def wait_done(self) -> dict[str, Any]:
        """Once the level's time is up and every user has stopped: the last delta."""
        gevent.sleep(max(0.0, (self.deadline - _perf_ns()) / 1e9))
        while self.active:
            gevent.sleep(DONE_POLL_S)
        self.finished = True
        if self.model == "open" and self.taking_part:
            # A share no user took (Locust gave this worker fewer users than it has slots
            # for, or none) is dropped too: sent + dropped = planned over all workers.
            share = len(range(self.position, self.slots_total, self.stride))
            self.delta["dropped"] += share - min(self._taken, share)
        return self.take_delta(last=True)
