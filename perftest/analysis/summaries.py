"""Pure reductions of a stored run's rows: the resource series, the scaling curve, and the
in-process vs HTTP pairs of ``--mode both``.

Rules choose findings from these figures and reports print them, so both read one reduction.
CPU is reported as percent of the whole machine: the sampler stores percent of one core
summed over processes, which reads as "350%" on a four-core box and misleads. psutil's first
``cpu_percent`` reading is always 0 (it has nothing to compare with), so the CPU figures skip
it whenever there is a later reading. Each reading is the CPU since the one before, and the
sampler's last reading (taken when the run stops) may follow the previous one by milliseconds,
where the kernel's 10 ms CPU-time ticks make a percentage meaningless (a 5 ms interval with one
tick reads 200 %). So the mean weighs every reading by the time it covers, and the maximum is
taken over readings that cover at least ``CPU_MIN_INTERVAL_S``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from perftest.store.read import LevelModel, StoredRun
from perftest.store.vocabulary import judged, measured
from perftest.text import MB

from .metrics import MEAN, OK_THROUGHPUT, P50, P95


@dataclass(frozen=True)
class ResourceSummary:
    samples: int
    duration_s: float
    rss_min_mb: float
    rss_mean_mb: float
    rss_max_mb: float
    rss_growth_mb: float
    rss_slope_mb_per_min: float
    cpu_mean_pct: float
    cpu_max_pct: float
    threads_max: int
    open_files_max: int
    #: The whole machine, percent of all cores; perftest's own process beside a server it
    #: measured over HTTP, percent of one core: (mean, max), None when not sampled.
    machine_cpu_pct: tuple[float, float] | None = None
    generator_cpu_pct: tuple[float, float] | None = None


def _mean_max(values: Sequence[float | None]) -> tuple[float, float] | None:
    known = [value for value in values if value is not None]
    return (sum(known) / len(known), max(known)) if known else None


@dataclass(frozen=True)
class ProcessSummary:
    """One process of a sampled tree (gunicorn master or a worker)."""

    pid: int
    name: str
    samples: int
    rss_max_mb: float
    cpu_mean_pct: float


#: A CPU reading over a shorter interval is too coarse (10 ms ticks) to be a maximum.
CPU_MIN_INTERVAL_S = 0.1


def cpu_readings(series: Sequence[Any]) -> Sequence[Any]:
    """The readings that carry CPU figures: all but the first, unless there is only one."""
    return series[1:] if len(series) >= 2 else series


def _cpu_mean_max(values: Sequence[float], offsets: Sequence[float]) -> tuple[float, float]:
    """Time-weighted mean and maximum of CPU readings taken at ``offsets`` (seconds, in order;
    one more offset than values when the first reading was skipped)."""
    spans = [max(b - a, 0.0) for a, b in zip(offsets, offsets[1:], strict=False)]
    if len(spans) != len(values) or not sum(spans):
        return sum(values) / len(values), max(values)
    mean = sum(v * span for v, span in zip(values, spans, strict=True)) / sum(spans)
    steady = [v for v, span in zip(values, spans, strict=True) if span >= CPU_MIN_INTERVAL_S]
    return mean, max(steady or values)


def process_readings(samples: Iterable[Any]) -> dict[int, list[dict]]:
    """Each sampled process's readings in time order, by pid (in pid order), each reading
    with its sample's offset as ``at``; empty when the samples carry no per-process detail."""
    readings: dict[int, list[dict]] = {}
    for sample in sorted(samples, key=lambda s: s.offset_s):
        for process in sample.processes:
            readings.setdefault(process["pid"], []).append({**process, "at": sample.offset_s})
    return dict(sorted(readings.items()))


def per_process(samples: Iterable[Any], cpu_count: int) -> list[ProcessSummary]:
    """Each process of the tree, in pid order; empty when only one process was sampled."""
    readings = process_readings(samples)
    if len(readings) < 2:
        return []
    summaries = []
    for pid, series in readings.items():
        cpu = [r["cpu_percent"] for r in cpu_readings(series)]
        offsets = [r["at"] for r in series]
        cpu_mean, _ = _cpu_mean_max(cpu, offsets if len(series) >= 2 else offsets[:1])
        summaries.append(
            ProcessSummary(
                pid=pid,
                name=series[-1]["name"],
                samples=len(series),
                rss_max_mb=max(r["rss_bytes"] for r in series) / MB,
                cpu_mean_pct=cpu_mean / max(cpu_count, 1),
            )
        )
    return summaries


def _slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope of ys over xs; 0 when xs do not vary (one sample, or one instant)."""
    n = len(xs)
    mean_x = sum(xs) / n
    mean_y = sum(ys) / n
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return 0.0
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


def summarize(samples: Iterable[Any], cpu_count: int) -> ResourceSummary | None:
    """Figures of a resource series in time order; None when nothing was sampled."""
    series = sorted(samples, key=lambda s: s.offset_s)
    if not series:
        return None
    rss = [s.rss_bytes / MB for s in series]
    readings = cpu_readings(series)
    cpu = [s.cpu_percent / max(cpu_count, 1) for s in readings]
    offsets = [s.offset_s for s in series] if len(series) >= 2 else [series[0].offset_s]
    cpu_mean, cpu_max = _cpu_mean_max(cpu, offsets)
    minutes = [s.offset_s / 60 for s in series]
    return ResourceSummary(
        samples=len(series),
        duration_s=series[-1].offset_s - series[0].offset_s,
        rss_min_mb=min(rss),
        rss_mean_mb=sum(rss) / len(rss),
        rss_max_mb=max(rss),
        rss_growth_mb=rss[-1] - rss[0],
        rss_slope_mb_per_min=_slope(minutes, rss),
        cpu_mean_pct=cpu_mean,
        cpu_max_pct=cpu_max,
        threads_max=max(s.threads for s in series),
        open_files_max=max(s.open_files for s in series),
        machine_cpu_pct=_mean_max([getattr(s, "system_cpu_percent", None) for s in readings]),
        generator_cpu_pct=_mean_max([getattr(s, "generator_cpu_percent", None) for s in readings]),
    )


def resources(stored: StoredRun) -> ResourceSummary | None:
    """The run's resource series summarized, CPU as percent of the machine's cores."""
    return summarize(stored.samples, stored.row.resource_cpu_count)


#: A per-minute RSS trend is stated only from a series at least this long (seconds): a slope
#: fitted over 22 s and multiplied up to a minute is an extrapolation, not a measurement.
TREND_MIN_S = 60.0


def rss_trend(summary: ResourceSummary) -> str:
    """``+1.25 MB/min`` from a long enough series; otherwise why no per-minute trend is given."""
    if summary.duration_s >= TREND_MIN_S:
        return f"{summary.rss_slope_mb_per_min:+.2f} MB/min"
    return (
        f"not stated: {summary.duration_s:.1f} s of samples, a per-minute trend needs "
        f"{TREND_MIN_S:.0f} s (growth over the real duration: {summary.rss_growth_mb:+.1f} MB)"
    )


def measured_process(stored: StoredRun) -> str:
    """What the resource figures describe: in-process, perftest and the app are one process."""
    if stored.row.mode == "in-process":
        return "this process (server + perftest)"
    return "the measured process"


def resource_gap(stored: StoredRun, summary: ResourceSummary | None) -> str:
    """Why resource figures cannot be judged ("" when they can): growth needs two readings,
    and a process that went away during the run has no growth over the run to judge."""
    gone = stored.row.resource_gone_s
    if gone is not None:
        return (
            f"the measured process went away {gone:.1f} s into sampling, so its figures stop "
            "there and say nothing about the rest of the run"
        )
    if summary is not None and summary.samples >= 2:
        return ""
    return stored.row.resource_unavailable or "fewer than 2 samples"


@dataclass(frozen=True)
class Step:
    """One closed level on the scaling curve, compared with the level before it (if any).

    Growth is of the throughput as expected and of the expected answers' p95: a level
    answered by a throttle or a dead server does not scale, however fast its failures come.
    """

    level: Any
    previous: Any | None
    throughput_growth: float | None
    p95_growth: float | None


def change(before: float, after: float) -> float | None:
    """Growth from ``before`` to ``after`` in percent; None when ``before`` is 0 (no base)."""
    return 100 * (after - before) / before if before else None


def closed_levels(levels: Iterable[Any]) -> list[Any]:
    """The closed-model levels that counted requests, by concurrency (then stored order)."""
    closed = [level for level in levels if level.model == LevelModel.CLOSED and level.requests]
    return sorted(closed, key=lambda level: (level.concurrency, level.position))


def curve(levels: Iterable[Any]) -> list[Step]:
    """Each closed level with its growth of throughput and p95 over the previous one."""
    steps: list[Step] = []
    previous = None
    for level in closed_levels(levels):
        steps.append(
            Step(
                level=level,
                previous=previous,
                throughput_growth=(
                    change(OK_THROUGHPUT.of(previous), OK_THROUGHPUT.of(level))
                    if previous
                    else None
                ),
                p95_growth=change(P95.of(previous), P95.of(level)) if previous else None,
            )
        )
        previous = level
    return steps


def peak(levels: Iterable[Any]) -> Any | None:
    """The level (closed or open) with the highest throughput as expected; the first one on a
    tie; None when no level had an answer as expected."""
    answered = [level for level in levels if level.ok]
    return max(answered, key=OK_THROUGHPUT.of, default=None)


class LittlesLaw(NamedTuple):
    """A level's requests in flight by Little's law, beside the workers that sent them."""

    #: Throughput as expected × the mean latency of those answers: how many were open at once
    #: on average.
    in_flight: float
    #: The level's workers (closed: its concurrency; open: its pool).
    concurrency: int


def littles_law(level: Any) -> LittlesLaw:
    """Little's law (in flight = throughput × latency) over the answers as expected: a closed
    level keeps about one request per worker in flight, so a figure well under its workers
    says the workers spent time outside requests (their own work, or answers not as expected);
    a measurement check rather than a finding."""
    return LittlesLaw(OK_THROUGHPUT.of(level) * MEAN.of(level) / 1000, level.concurrency)


@dataclass(frozen=True)
class Overhead:
    """One endpoint measured sequentially both in-process and over HTTP (``--mode both``)."""

    inprocess: Any
    http: Any | None

    @property
    def comparable(self) -> bool:
        """Both passes have answers as expected, so both p50s are verdict figures."""
        return self.http is not None and len(judged([self.inprocess, self.http])) == 2

    @property
    def difference_ms(self) -> float:
        """What the server stack and the network add to the p50: HTTP p50 − in-process p50."""
        return P50.of(self.http) - P50.of(self.inprocess)

    @property
    def share(self) -> float:
        """The difference as percent of the HTTP p50."""
        return 100 * self.difference_ms / P50.of(self.http) if P50.of(self.http) else 0.0


def transport_overhead(stored: StoredRun) -> list[Overhead]:
    """Each sequential in-process row paired with its HTTP twin (same name, method and path)."""
    http = {(e.name, e.role, e.method, e.path): e for e in stored.sequential_http}
    return [Overhead(e, http.get((e.name, e.role, e.method, e.path))) for e in stored.sequential]


@dataclass(frozen=True)
class Phase:
    """The requests of one phase of a run: the sequential pass(es) or the load levels."""

    label: str
    requests: int
    ok: int
    #: What the plan asked for; None when the phase has no fixed count (levels by duration).
    planned: int | None


def _sequential_phase(label: str, rows: Sequence[Any], iterations: int) -> Phase:
    """A sequential pass: every planned endpoint counts its iterations, reached or not."""
    planned = sum(max(row.planned, iterations) for row in rows)
    return Phase(label, sum(r.requests for r in rows), sum(r.ok for r in rows), planned)


def phases(stored: StoredRun) -> list[Phase]:
    """Every phase that ran or was planned, in order: sequential, sequential over HTTP
    (``--mode both``), load levels."""
    iterations = stored.row.iterations
    found = [_sequential_phase("sequential", stored.sequential, iterations)]
    if stored.sequential_http:
        found.append(_sequential_phase("sequential over HTTP", stored.sequential_http, iterations))
    if stored.levels:
        asked = [level.planned_requests for level in stored.levels]
        found.append(
            Phase(
                f"load levels ({len(stored.levels)})",
                sum(level.requests for level in stored.levels),
                sum(level.ok for level in stored.levels),
                None if None in asked else sum(asked),
            )
        )
    return found


@dataclass(frozen=True)
class Sent:
    """Every request a run sent to its target, by why it was sent: the counted ones (what
    the tables count) and those sent but never counted, so that ``total`` can be checked
    against the server's own access log."""

    counted: int
    #: The platform's login: the sequential pass's, ``--login once``'s, each worker's.
    logins: int
    #: ``warmup`` per measured endpoint of each sequential pass.
    warmup: int
    #: The first seconds of each closed level (``--ramp-up``).
    rampup: int
    #: One per worker (Locust: per identity) and endpoint a path value is captured from.
    captures: int
    #: ``--profile`` and ``--explain``, after the measured requests.
    diagnostic: int

    @property
    def total(self) -> int:
        return (
            self.counted + self.logins + self.warmup + self.rampup + self.captures + self.diagnostic
        )


def _passes(stored: StoredRun, over_http: bool) -> list[Sequence[Any]]:
    """The sequential passes' rows: both, or only those sent over HTTP."""
    if not over_http:
        return [stored.sequential, stored.sequential_http]
    return [stored.sequential if stored.row.mode == "http" else [], stored.sequential_http]


def _diagnostic_requests(stored: StoredRun) -> int:
    """Requests of the diagnostic pass: each endpoint's profiled ones, and its one request
    that captured SQL for EXPLAIN (a stored plan list, even one saying why it has no plan)."""
    return sum(e.profile.get("requests", 0) + bool(e.explain) for e in stored.sequential)


def sent(stored: StoredRun, over_http: bool = False) -> Sent:
    """Every request the run sent to the target, by purpose; ``over_http``: only those sent
    over HTTP, which the server's access log counts (all of them with ``--mode http``, the
    HTTP pass and the levels with ``--mode both``, none in-process).

    Warm-up is the run's warm-up count for each measured endpoint of each sequential pass (an
    endpoint not measured was not warmed up either); the diagnostic requests are in-process.
    """
    passes = _passes(stored, over_http)
    levels = [level for level in stored.levels if not over_http or level.transport == "http"]
    mode = stored.row.mode
    logins = [
        attempt
        for attempt in stored.row.logins
        if not over_http or attempt.get("transport", mode) == "http"
    ]
    return Sent(
        counted=sum(e.requests for rows in passes for e in rows)
        + sum(level.requests for level in levels),
        logins=len(logins) + sum(level.login_requests for level in levels),
        warmup=stored.row.warmup * sum(len(measured(rows)) for rows in passes),
        rampup=sum(level.rampup_requests for level in levels),
        captures=stored.row.capture_requests + sum(level.capture_requests for level in levels),
        diagnostic=0 if over_http else _diagnostic_requests(stored),
    )


def sent_over_http(stored: StoredRun) -> Sent | None:
    """What the server's access log counts (``sent(over_http=True)``); None for a ``--mode
    both`` run stored before each login recorded its transport, which cannot be split."""
    if stored.row.mode == "both" and any("transport" not in a for a in stored.row.logins):
        return None
    return sent(stored, over_http=True)
