"""The Locust engine's parent side: load levels on Locust's distributed runner, driven from
processes of their own.

Locust monkey-patches the standard library with gevent on import; the process that runs this
module owns the run's database connection and stored run, so it never imports Locust.
Instead ``LocustEngine`` starts perftest's Locust master (``python -m
perftest.measure.load.locust_engine.master``) and the local workers (``locust --worker -f``
this package's ``locustfile.py``) as processes in sessions of their own, hands them the plan
through a private work folder (0700, the plan file 0600: it carries the identities' tokens,
and is removed with the folder), asks for one level at a time and reads back the level the
master merged from every worker's HDR histograms. The master sums the generator's CPU (its own
and every worker's, local or remote); this process reads the machine over the level
(``CpuWindow``), counting the master's and local workers' process trees as perftest's.

Identities log in in the command's process, once each, through the platform's login
(``measure.setup``, as for ``--login once``), and each Locust user sends with the token of the
identity its number picks: THE_BOT deletes a user's tokens on every login, so users logging in
themselves on several machines would invalidate each other, and sharing a token is harmless
while nobody logs in.

Ctrl-C (or SIGTERM) stops every process this engine started, by pid, and keeps what the master
had merged; a master that ends before its level did leaves the level interrupted the same way.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perftest.measure.endpoint_result import EndpointResult
from perftest.measure.machine import CpuWindow
from perftest.measure.result import LevelResult
from perftest.measure.transport.base import RequestSpec
from perftest.plan.model import Endpoint, Mix, RunPlan
from perftest.redact import Redactor
from perftest.text import quantity

from ..closed import Closed
from ..engine import TICK_S, Engine, LevelInterrupted, Tick, correct_for_coordinated_omission
from ..schedule import Schedule
from . import wire, worker_command

if TYPE_CHECKING:
    from perftest.measure.soak import Checkpoints

#: The module Locust's master runs as (``python -m``).
MASTER_MODULE = "perftest.measure.load.locust_engine.master"
#: How long a process this engine started gets to end after SIGTERM before SIGKILL.
STOP_TIMEOUT_S = 10.0


def _free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stop(process: subprocess.Popen) -> None:
    """End one process this engine started, by its pid: SIGTERM, then SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def handover(
    plan: RunPlan,
    mix: Mix,
    specs: Sequence[Mapping[str, RequestSpec]],
    endpoints: Mapping[str, Endpoint],
    secrets: Sequence[str],
    timing_token: str = "",
) -> dict[str, Any]:
    """What every worker is told: where to send, the mix, each identity's requests, the run's
    timing token (each request carries it, ``perftest.timing_header``), and the secrets its
    redactor must mask in what it records, the token among them. ``mix`` is the levels' mix
    (without endpoints whose path could not be filled)."""
    assert plan.http is not None
    return {
        "base_url": plan.http.base_url,
        "connect_timeout": plan.http.connect_timeout,
        "read_timeout": plan.http.read_timeout,
        "mix": [list(pair) for pair in mix.weights],
        "endpoints": {name: EndpointResult.empty(endpoints[name]).to_dict() for name in mix.names},
        "identities": [
            {name: wire.spec_to_wire(requests[name]) for name in mix.names} for requests in specs
        ],
        "timing_token": timing_token,
        "secrets": sorted({*secrets, timing_token} - {""}),
    }


class LocustEngine(Engine):
    """The Locust processes of one run: started on entry, stopped by pid on exit."""

    def __init__(
        self,
        plan: RunPlan,
        workers_plan: dict[str, Any],
        notes: list[str],
        redactor: Redactor,
        target_pid: int | None = None,
    ):
        self.engine = plan.load.engine
        #: The measured server's pid (None when not known), for the machine's load per level.
        self.target_pid = target_pid
        self.aborts = plan.aborts
        self.workers_plan, self.notes, self.redactor = workers_plan, notes, redactor
        self.workdir = Path()
        self.master: subprocess.Popen | None = None
        self.local_workers: list[subprocess.Popen] = []
        self._levels = 0

    @property
    def processes(self) -> list[subprocess.Popen]:
        """Every process this engine started, the master first."""
        return [p for p in (self.master, *self.local_workers) if p is not None]

    def __enter__(self) -> LocustEngine:
        self.workdir = Path(tempfile.mkdtemp(prefix="perftest-locust-"))  # 0700
        try:
            self._start()
        except BaseException:
            self._close()
            raise
        return self

    def _start(self) -> None:
        engine = self.engine
        bind = engine.master_bind or f"127.0.0.1:{_free_loopback_port()}"
        plan_file = self.workdir / "plan.json"
        descriptor = os.open(plan_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(
                {
                    "master_bind": bind,
                    "expect_workers": engine.workers,
                    "workers": self.workers_plan,
                },
                handle,
            )
        master = [sys.executable, "-m", MASTER_MODULE, str(self.workdir)]
        self.master = self._spawn("master", master)
        port = bind.rpartition(":")[2]
        for number in range(1, engine.processes + 1):
            command = worker_command("127.0.0.1", int(port))
            self.local_workers.append(self._spawn(f"worker-{number}", command))
        remote = (
            f" and {quantity(engine.remote_workers, 'worker')} from other machines "
            f"(master bound at {bind})"
            if engine.remote_workers
            else ""
        )
        local = quantity(engine.processes, "local worker process", "local worker processes")
        self.notes.append(
            f"Load levels ran on Locust {metadata.version('locust')}'s distributed runner: a "
            f"master and {local}{remote}; each level's figures are perftest's own per-worker "
            "HDR histograms, merged exactly by the master, not Locust's statistics."
        )
        if self.aborts:
            self.notes.append(
                "Abort thresholds were not checked while the Locust levels ran (the thread "
                "engine checks them); they were judged on the stored figures afterwards."
            )

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen:
        """A process in a session of its own (Ctrl-C reaches only this one, which stops the
        others by pid), logging to the work folder, which holds no config file for Locust."""
        with (self.workdir / f"{name}.log").open("w") as log:
            return subprocess.Popen(
                command,
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def run_level(
        self, schedule: Schedule, tick: Tick, checkpoints: Checkpoints | None = None
    ) -> LevelResult:
        """Have the master run ``schedule``'s level; Ctrl-C or a lost master raises
        ``LevelInterrupted`` with what the master had merged. A soak's checkpoints are the
        thread engine's (the plan refuses ``--soak`` here): refused."""
        if checkpoints is not None:
            raise ValueError("the Locust engine stores no checkpoints: --soak is refused on it")
        index = self._levels
        self._levels += 1
        # Locust's processes are the generator: never "other" load on the machine.
        window = CpuWindow(self.target_pid, [process.pid for process in self.processes])
        window.start()
        self._request(index, schedule)
        result = self.workdir / f"level-{index}.result.json"
        try:
            while not result.exists():
                assert self.master is not None
                if self.master.poll() is not None and not result.exists():
                    raise self._master_gone(index, schedule)
                tick(f"{schedule.label}: {self._status()}")
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.master.wait(TICK_S)
        except LevelInterrupted:  # the master's end, already described: not a Ctrl-C
            raise
        except KeyboardInterrupt:
            self._stop_all()
            raise LevelInterrupted(self._partial(index, schedule)) from None
        level = LevelResult.from_dict(json.loads(result.read_text()))
        window.stop().machine_into(level)
        if level.model == "closed" and level.overall.requests:
            correct_for_coordinated_omission(level)
        return level

    def _master_gone(self, index: int, schedule: Schedule) -> Exception:
        """The master ended before level ``index`` did: a master that never began a level
        could not start (its log says why); otherwise the level is interrupted with what the
        master had merged."""
        master = self.master
        assert master is not None
        ended = f"the Locust master (pid {master.pid}) ended with exit code {master.returncode}"
        if not (self.workdir / f"level-{index}.partial.json").exists() and index == 0:
            lines = (self.workdir / "master.log").read_text(errors="replace").splitlines()
            said = self.redactor.text(lines[-1].strip()) if lines else "it wrote nothing"
            return RuntimeError(f"{ended} before the first level: {said}")
        level = self._partial(index, schedule)
        level.worker_failures.append(f"{ended} before the level did; what it had merged is kept")
        return LevelInterrupted(level)

    def _request(self, index: int, schedule: Schedule) -> None:
        template = schedule.describe()
        template.endpoints = {
            name: EndpointResult.from_dict(empty)
            for name, empty in self.workers_plan["endpoints"].items()
        }
        request = {
            "index": index,
            "template": template.to_dict(),
            "users": schedule.workers,
            "model": template.model,
            "rate": template.rate,
            "slots_total": template.planned_requests if template.model == "open" else 0,
            "duration_s": template.duration_s,
            "ramp_up_s": schedule.ramp_up_s if isinstance(schedule, Closed) else 0.0,
        }
        path = self.workdir / f"level-{index}.json"
        part = path.with_name(path.name + ".tmp")
        part.write_text(json.dumps(request))
        os.replace(part, path)

    def _status(self) -> str:
        try:
            return json.loads((self.workdir / "status.json").read_text())["text"]
        except (OSError, ValueError, KeyError):
            return "starting Locust"

    def _partial(self, index: int, schedule: Schedule) -> LevelResult:
        """What the master had merged of level ``index``, marked interrupted."""
        try:
            data = json.loads((self.workdir / f"level-{index}.partial.json").read_text())
            level = LevelResult.from_dict(data)
        except (OSError, ValueError):
            level = schedule.describe()
        level.interrupted = True
        return level

    def _stop_all(self) -> None:
        for process in self.processes:
            _stop(process)

    def _close(self) -> None:
        try:
            self._stop_all()
        finally:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __exit__(self, *exc_info: object) -> None:
        """Ask the master to stop its workers and end; then stop whatever is left, by pid."""
        if self.master is not None and self.master.poll() is None:
            (self.workdir / "end.json").write_text("{}")
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.master.wait(STOP_TIMEOUT_S)
        self._close()
