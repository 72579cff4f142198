"""perftest's Locust master: ``python -m perftest.measure.load.locust_engine.master WORKDIR``.

Started by the command (``driver``) with a work folder holding the plan
(``plan.json``, 0600: it carries the identities' tokens). It binds Locust's master runner,
waits for the workers the plan expects, then runs each level the command asks for
(``level-N.json``): it hands every worker the plan and the level, spawns the level's users,
folds each worker's deltas into the level as they arrive (``wire.fold``), notes a worker that
stops sending heartbeats as lost, and writes the merged level (``level-N.result.json``; a
``.partial.json`` after every change, so a killed master loses nothing already merged).
``end.json`` or SIGTERM tells it to stop its workers and exit.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import gevent
from locust import events
from locust.env import Environment
from locust.runners import HEARTBEAT_LIVENESS, STATE_MISSING, STATE_STOPPED, MasterRunner

from perftest.measure.result import LevelResult
from perftest.plan.engine import parse_host_port
from perftest.text import about_share, quantity

from . import wire
from .user import PerftestUser

#: How often the master looks at its workers, writes the progress and the partial level.
POLL_S = 0.1
#: Beyond a level's planned length and its read timeout, how long the master waits for a
#: worker's end before it gives up on it.
END_GRACE_S = 15.0
#: How long a stopping level waits for Locust to see every worker stopped.
STOP_WAIT_S = 10.0


def write_json(path: Path, data: Any) -> None:
    """Replace ``path`` at once, so the command never reads half a file."""
    part = path.with_name(path.name + ".tmp")
    part.write_text(json.dumps(data))
    os.replace(part, path)


class MasterLevel:
    """One level as the master merges it: which workers take part, which ended or were lost."""

    def __init__(self, request: dict[str, Any], workers: list[str]):
        self.index = request["index"]
        self.request = request
        self.level = LevelResult.from_dict(request["template"])
        self.marks = [0, 0]
        self.workers = workers
        self.done: set[str] = set()
        self.lost: set[str] = set()
        #: Per worker: counted requests, answers as expected, reports merged so far.
        self.tally = {worker: [0, 0, 0] for worker in workers}
        #: Per worker: CPU seconds its process used during the level.
        self.cpu_s = dict.fromkeys(workers, 0.0)
        #: Per worker: the most users Locust saw it run (its users stop one by one at the end).
        self.users = dict.fromkeys(workers, 0)
        #: Per worker: seconds into the level when its last report was merged.
        self.reported_s = dict.fromkeys(workers, 0.0)
        self.started = time.monotonic()
        self._master_cpu = time.process_time()
        #: The processes that send the load: the workers taking part (the master only merges;
        #: its CPU counts in ``generator_cpu_s``, its process does not add a core to use).
        self.level.generator_processes = max(len(workers), 1)
        self.changed = True
        if not workers:
            self.level.worker_failures.append(
                "no Locust worker was connected when the level began (all were lost before)"
            )
            self.level.missing_data = {"workers": 0, "users": request["users"], "share": 1.0}

    @property
    def elapsed_s(self) -> float:
        return time.monotonic() - self.started

    def add(self, worker: str, delta: dict[str, Any]) -> None:
        if delta["level"] != self.index or worker in self.lost:
            return
        wire.fold(self.level, delta, self.marks)
        tally = self.tally.setdefault(worker, [0, 0, 0])
        requests, ok = wire.counted(delta)
        tally[0], tally[1], tally[2] = tally[0] + requests, tally[1] + ok, tally[2] + 1
        self.reported_s[worker] = self.elapsed_s
        self.cpu_s[worker] = self.cpu_s.get(worker, 0.0) + delta["cpu_s"]
        self.count_cpu()
        self.changed = True

    def count_cpu(self) -> None:
        """The whole generator's CPU so far: every worker's (each reports its own, from this
        machine or another) and the master's. The generator-limit rule weighs the sum against
        the processes and the cores they had, so a generator of several processes is judged
        whole, not by its busiest process."""
        master = time.process_time() - self._master_cpu
        self.level.generator_cpu_s = sum(self.cpu_s.values()) + master

    def end(self, worker: str, delta: dict[str, Any]) -> None:
        self.add(worker, delta)
        self.done.add(worker)

    def _users_of(self, worker: str) -> int:
        """The users ``worker`` carried: as Locust saw them, else those no other worker ran."""
        if self.users.get(worker):
            return self.users[worker]
        others = sum(users for name, users in self.users.items() if name != worker)
        return max(self.request["users"] - others, 0)

    def _load_share(self, worker: str, users: int) -> float:
        """The part of the level's load ``worker`` carried: its users of a closed level, its
        slots of an open level's schedule (every ``len(workers)``-th one)."""
        if self.request["model"] == "open":
            slots = self.request["slots_total"]
            mine = range(self.workers.index(worker), slots, len(self.workers))
            return len(mine) / slots if slots else 0.0
        return users / self.request["users"] if self.request["users"] else 0.0

    def _missing_share(self, worker: str, users: int) -> float:
        """The estimated share of the level's data lost with ``worker``: its part of the load
        times the part of the measured time after its last merged report."""
        ramp_up, duration = self.request["ramp_up_s"], self.request["duration_s"]
        covered = min(max(self.reported_s.get(worker, 0.0) - ramp_up, 0.0), duration)
        unreported = 1.0 - covered / duration if duration else 1.0
        return self._load_share(worker, users) * unreported

    def _lose(self, worker: str, why: str) -> None:
        requests, ok, reports = self.tally.get(worker, [0, 0, 0])
        users = self._users_of(worker)
        share = self._missing_share(worker, users)
        at = dt.datetime.now(dt.timezone.utc).strftime("%H:%M:%S UTC")
        last = (
            f"its last report ({quantity(reports, 'report')} in all, "
            f"{self.reported_s.get(worker, 0.0):.1f} s into the level) brought it to "
            f"{quantity(requests, 'counted request')} ({ok} as expected), all merged; what it "
            "measured after that is missing"
            if reports
            else "none of its reports arrived: everything it measured is missing"
        )
        self.level.worker_failures.append(
            f"Locust worker {worker} lost {self.elapsed_s:.1f} s into the level ({at}): {why}; "
            f"it carried {users} of the level's {quantity(self.request['users'], 'user')}; "
            f"{last} ({about_share(share)} of the level's data)"
        )
        missing = self.level.missing_data
        missing["workers"] = missing.get("workers", 0) + 1
        missing["users"] = min(missing.get("users", 0) + users, self.request["users"])
        missing["share"] = min(missing.get("share", 0.0) + share, 1.0)
        self.lost.add(worker)
        self.changed = True

    def check_workers(self, runner: MasterRunner, give_up_after_s: float) -> None:
        """Note the workers Locust no longer hears from, or that never reported an end."""
        for worker in self.workers:
            if worker in self.done or worker in self.lost:
                continue
            node = runner.clients.get(worker)
            if node is not None:
                self.users[worker] = max(self.users.get(worker, 0), node.user_count)
            if node is None or node.state == STATE_MISSING:
                self._lose(worker, f"no heartbeat for {HEARTBEAT_LIVENESS} s")
            elif self.elapsed_s > give_up_after_s:
                self._lose(worker, f"no end of level after {give_up_after_s:.0f} s")

    @property
    def finished(self) -> bool:
        return all(worker in self.done or worker in self.lost for worker in self.workers)

    def status(self) -> str:
        requests, ok = self.level.overall.requests, self.level.overall.ok
        lost = f", {len(self.lost)} lost" if self.lost else ""
        return (
            f"{self.elapsed_s:.1f}s, {requests} counted requests, {requests - ok} errors "
            f"(as of the workers' last reports; {len(self.workers)} Locust workers{lost})"
        )


class Master:
    """The run's master: Locust's runner, the work folder, the level under way."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.plan = json.loads((workdir / "plan.json").read_text())
        self.current: MasterLevel | None = None
        self.stopping = False
        host, port = parse_host_port("--master-bind", self.plan["master_bind"])
        environment = Environment(user_classes=[PerftestUser], events=events)
        self.runner = environment.create_master_runner(host, port)
        events.worker_report.add_listener(self._on_report)
        self.runner.register_message(wire.DONE_MESSAGE, self._on_done)

    def _on_report(self, client_id: str, data: dict[str, Any]) -> None:
        if self.current is not None and wire.REPORT_KEY in data:
            self.current.add(client_id, data[wire.REPORT_KEY])

    def _on_done(self, environment: Any, msg: Any, **kwargs: Any) -> None:
        if self.current is not None:
            self.current.end(msg.node_id, msg.data)

    def status(self, text: str) -> None:
        write_json(self.workdir / "status.json", {"text": text})

    def _connected(self) -> list[str]:
        return sorted(node.id for node in self.runner.clients.all if node.state != STATE_MISSING)

    def wait_for_workers(self) -> bool:
        expected = self.plan["expect_workers"]
        while not self.stopping and len(self._connected()) < expected:
            self.status(
                f"waiting for Locust workers: {len(self._connected())} of {expected} connected "
                f"to {self.plan['master_bind']}"
            )
            gevent.sleep(POLL_S)
        return not self.stopping

    def next_request(self, index: int) -> dict[str, Any] | None:
        """The command's request for level ``index``; None when it asks the master to end."""
        path, end = self.workdir / f"level-{index}.json", self.workdir / "end.json"
        while not self.stopping and not end.exists():
            if path.exists():
                return json.loads(path.read_text())
            gevent.sleep(POLL_S)
        return None

    def run_level(self, request: dict[str, Any]) -> None:
        workers = self._connected()
        level = self.current = MasterLevel(request, workers)
        partial = self.workdir / f"level-{level.index}.partial.json"
        message = {
            key: request[key] for key in ("index", "model", "rate", "slots_total", "duration_s")
        }
        message.update(ramp_up_s=request["ramp_up_s"], plan=self.plan["workers"], workers=workers)
        self.runner.send_message(wire.LEVEL_MESSAGE, message)
        users = request["users"]
        self.runner.start(users, spawn_rate=max(users, 1) * 10)
        give_up_after = (
            request["ramp_up_s"]
            + request["duration_s"]
            + self.plan["workers"]["read_timeout"]
            + END_GRACE_S
        )
        while not level.finished and not self.stopping:
            gevent.sleep(POLL_S)
            level.check_workers(self.runner, give_up_after)
            self.status(level.status())
            if level.changed:
                level.changed = False
                write_json(partial, level.level.to_dict())
        level.level.wall_s = level.elapsed_s
        level.count_cpu()
        level.level.interrupted = not level.finished
        write_json(partial, level.level.to_dict())
        self.runner.stop()
        waited = time.monotonic()
        while self.runner.state != STATE_STOPPED and time.monotonic() - waited < STOP_WAIT_S:
            gevent.sleep(POLL_S)
        self.current = None
        if not self.stopping:
            write_json(self.workdir / f"level-{level.index}.result.json", level.level.to_dict())

    def run(self) -> None:
        if self.wait_for_workers():
            index = 0
            while (request := self.next_request(index)) is not None:
                self.run_level(request)
                index += 1
        self.runner.quit()

    def stop(self) -> None:
        self.stopping = True


def main(argv: list[str]) -> int:
    master = Master(Path(argv[1]))
    gevent.signal_handler(signal.SIGTERM, master.stop)
    gevent.signal_handler(signal.SIGINT, master.stop)
    master.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
