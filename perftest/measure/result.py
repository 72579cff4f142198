"""RunResult and its parts: plain data that the measuring core hands to storage.

These classes (with ``measure.endpoint_result``'s ``EndpointResult``, one endpoint's figures)
are the only thing that crosses from measuring (transport, load, stats, resources) to storing
and reporting; per-worker results merge exactly. Level results also cross process boundaries
(a worker process hands its figures to the one that stores them): ``to_dict``/``from_dict``
carry every figure as JSON-ready data, the latency histogram encoded, and lose nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from .endpoint_result import EndpointResult, row_key
from .stats import LatencyStats

#: How a run ended, as the measuring core reports it (``Run.Status`` stores the same words).
COMPLETED, FAILED, INTERRUPTED = "completed", "failed", "interrupted"


@dataclass
class LoginAttempt:
    """One login through the platform's endpoint, as the run's identities did it."""

    identity: str
    status: int | None
    ok: bool
    elapsed_ns: int
    reason: str = ""
    #: The transport it went through (``Transport.kind``): "http" ones reach the server's log.
    transport: str = ""
    #: The length of the token it got (0: none), so a refused token can be described as sent
    #: (``Authorization: Bearer <token 40 chars>``) without the token.
    token_chars: int = 0


@dataclass
class ResourceSample:
    """One reading of the measured process tree (summed over its processes)."""

    offset_s: float
    rss_bytes: int
    cpu_percent: float
    threads: int
    open_files: int
    #: Per process of the tree: {"pid", "name", "rss_bytes", "cpu_percent"}; the fields above
    #: are their sums.
    processes: list[dict] = field(default_factory=list)
    #: The whole machine's CPU over the same interval, percent of all cores.
    system_cpu_percent: float | None = None
    #: perftest's own process beside a server it measures over HTTP, percent of one core
    #: (None in-process, where perftest is the sampled process itself).
    generator_cpu_percent: float | None = None


@dataclass
class ResourceSeries:
    """What the sampler saw, or why it saw nothing."""

    description: str
    interval_s: float
    cpu_count: int
    samples: list[ResourceSample] = field(default_factory=list)
    unavailable: str = ""
    #: Seconds into sampling when the measured process was found gone (None: it lasted).
    gone_s: float | None = None


@dataclass
class LevelResult:
    """One load level (closed: N workers looping; open: a fixed arrival rate), merged.

    ``overall`` holds every counted request of the level; ``endpoints`` the same split per
    endpoint (and per role, when the run has several: keys from ``row_key``). ``window_ns``
    runs from the first counted send to the last counted completion,
    so throughput is requests over the real window, not over the planned duration.
    Requests sent but not counted (ramp-up, logins, and the capture requests a worker sends at
    set-up to read its path values) are kept too, so the total sent can be checked against the
    server's own count.
    """

    model: str
    concurrency: int
    rate: float | None = None
    duration_s: float | None = None
    planned_requests: int | None = None
    identities: int = 0
    login_mode: str = "per-worker"
    overall: EndpointResult = field(default_factory=lambda: EndpointResult("all", "", "", 0))
    endpoints: dict[str, EndpointResult] = field(default_factory=dict)
    window_ns: int = 0
    rampup_requests: int = 0
    login_requests: int = 0
    login_failures: int = 0
    capture_requests: int = 0
    late: int = 0
    #: Open model: of ``late``, those a worker was idle and waiting for (``load.open``), and
    #: the workers' time inside counted requests, summed (None: not followed, as by Locust's
    #: engine).
    late_while_idle: int = 0
    busy_ns: int | None = None
    dropped: int = 0
    max_lateness_ns: int = 0
    generator_cpu_s: float = 0.0
    wall_s: float = 0.0
    interrupted: bool = False
    #: Why and when an abort rule stopped the level early ("" when it ran its course).
    aborted: str = ""
    worker_failures: list[str] = field(default_factory=list)
    #: What never arrived from lost Locust workers: {"workers", "users", "share"} (the users
    #: they carried and the estimated share of the level's data missing); {} when all arrived.
    missing_data: dict[str, Any] = field(default_factory=dict)
    #: Closed model: the interval a worker normally waits between sends (the level's p50),
    #: and ``overall``'s latency corrected for coordinated omission with it.
    expected_interval_ns: int = 0
    corrected: LatencyStats | None = None
    #: Cores busy on the whole machine over the level, and those used by processes other than
    #: perftest and the measured target (None when the machine could not be read).
    system_cores: float | None = None
    other_cores: float | None = None
    #: The busiest of those other processes: [{"name", "pid", "cores"}], most first.
    other_processes: list[dict] = field(default_factory=list)
    #: Cores the measured server's process tree and a local database server used over the
    #: level (None when not on this machine or not read).
    server_cores: float | None = None
    database_cores: float | None = None
    #: The processes that generated the load: ``generator_cpu_s`` is their CPU summed (one
    #: for the thread engine; the master and local workers for Locust's).
    generator_processes: int = 1
    #: Connections open to the run's database during the level and the server's limits
    #: (``measure.database.ConnectionUse`` as a dict; {} when not watched).
    database_connections: dict[str, Any] = field(default_factory=dict)
    #: The wall clock (``time.time_ns``) when the level's workers were released (0: unknown).
    started_unix_ns: int = 0
    #: A soak's parts and where its warm-up ends (``measure.soak.describe``); {} otherwise.
    soak: dict[str, Any] = field(default_factory=dict)

    @property
    def throughput(self) -> float:
        """Every counted answer per second of window, whatever it was."""
        return self.overall.requests / (self.window_ns / 1e9) if self.window_ns else 0.0

    @property
    def ok_throughput(self) -> float:
        """Answers as expected per second of window: the throughput verdicts judge."""
        return self.overall.ok / (self.window_ns / 1e9) if self.window_ns else 0.0

    @property
    def sent_total(self) -> int:
        return (
            self.overall.requests
            + self.rampup_requests
            + self.login_requests
            + self.capture_requests
        )

    def to_dict(self) -> dict[str, Any]:
        """Every figure as JSON-ready data; ``from_dict`` rebuilds an equal result."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["overall"] = self.overall.to_dict()
        data["endpoints"] = [result.to_dict() for result in self.endpoints.values()]
        data["worker_failures"] = list(self.worker_failures)
        data["missing_data"] = dict(self.missing_data)
        data["other_processes"] = [dict(other) for other in self.other_processes]
        data["corrected"] = self.corrected.to_dict() if self.corrected else None
        data["soak"] = dict(self.soak)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LevelResult:
        fields = dict(data)
        fields["overall"] = EndpointResult.from_dict(data["overall"])
        endpoints = [EndpointResult.from_dict(item) for item in data["endpoints"]]
        fields["endpoints"] = {row_key(result.name, result.role): result for result in endpoints}
        fields["worker_failures"] = list(data["worker_failures"])
        fields["missing_data"] = dict(data.get("missing_data", {}))
        corrected = data.get("corrected")
        fields["corrected"] = LatencyStats.from_dict(corrected) if corrected else None
        return cls(**fields)


@dataclass
class RunResult:
    """A whole run as plain data: what ran, how it ended, and every figure."""

    mode: str
    target: str
    label: str
    iterations: int
    warmup: int
    config: dict[str, Any]
    environment: dict[str, Any]
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    status: str = "running"
    failure: str = ""
    endpoints: list[EndpointResult] = field(default_factory=list)
    #: The same endpoints measured sequentially over HTTP when --mode both compares transports.
    http_endpoints: list[EndpointResult] = field(default_factory=list)
    levels: list[LevelResult] = field(default_factory=list)
    logins: list[LoginAttempt] = field(default_factory=list)
    #: Requests sent once per identity before the levels to capture path values from answers
    #: (the Locust engine's handover); a level's own workers count theirs in the level.
    capture_requests: int = 0
    resources: ResourceSeries | None = None
    notes: list[str] = field(default_factory=list)
    #: The machine's yardstick and each sequential phase's CPU (``Calibration.to_dict``).
    calibration: dict[str, Any] = field(default_factory=dict)
    #: ``--capacity``'s search: its bounds, each step's rate and outcome, and the answer
    #: (``measure.capacity``; {} when the run searched no capacity).
    capacity: dict[str, Any] = field(default_factory=dict)
