"""Every figure perftest reports, named once: where it is read, its unit, how it reads.

Thresholds, rules and reports all name a figure through these records, so "p95" is the same
number, read from the same field and written the same way, in a check, a finding and a table.
A figure is read from anything that carries its field: an endpoint row, a load level, or a
``summaries.ResourceSummary``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from perftest import text


@dataclass(frozen=True)
class Metric:
    """One named figure: ``P95.text(row)`` reads ``12.3 ms`` and ``P95.phrase(row)``
    ``p95 12.3 ms``."""

    name: str
    unit: str
    read: Callable[[Any], float]
    format: Callable[[float], str]

    def of(self, subject: Any) -> float:
        return self.read(subject)

    def text(self, subject: Any) -> str:
        return self.format(self.read(subject))

    def phrase(self, subject: Any) -> str:
        return f"{self.name} {self.text(subject)}"


def _latency(name: str) -> Metric:
    return Metric(name, "ms", attrgetter(f"{name}_ms"), text.ms)


def _error_rate(figures: Any) -> float:
    """Percent of the counted requests that did not answer as expected."""
    return 100 * figures.errors_total / figures.requests if figures.requests else 0.0


MIN = _latency("min")
P50 = _latency("p50")
P90 = _latency("p90")
P95 = _latency("p95")
P99 = _latency("p99")
MAX = _latency("max")
MEAN = _latency("mean")
STDEV = _latency("stdev")
REQUESTS = Metric("requests", "requests", attrgetter("requests"), str)
OK = Metric("ok", "requests", attrgetter("ok"), str)
ERROR_RATE = Metric("error rate", "%", _error_rate, lambda value: f"{value:.1f} %")
THROUGHPUT = Metric("throughput", "req/s", attrgetter("throughput"), lambda v: f"{v:.1f} req/s")
#: Answers as expected per second: the throughput headlines, peak and knee are judged on.
OK_THROUGHPUT = Metric(
    "throughput as expected", "req/s", attrgetter("ok_throughput"), lambda v: f"{v:.1f} req/s"
)
#: The load generator's CPU over a level's wall time, summed over every process that sent the
#: load (one for the thread engine; the Locust engine's master and workers): up to one core
#: per process, and no more than the machine had left (``analysis.generator_use``).
GENERATOR_CORES = Metric("generator CPU", "cores", attrgetter("generator_cores"), text.cores)
QUERIES_MEAN = Metric("queries/request", "queries", attrgetter("queries_mean"), "{:.1f}".format)
QUERIES_MAX = Metric("queries/request (max)", "queries", attrgetter("queries_max"), str)
SQL_SHARE = Metric("SQL time share", "fraction", attrgetter("sql_share"), "{:.1%}".format)
RSS_GROWTH = Metric("RSS growth", "MB", attrgetter("rss_growth_mb"), text.mb)
CPU_AVG = Metric("CPU average", "%", attrgetter("cpu_mean_pct"), text.percent)


def _success(figures: Any) -> float:
    """Percent of the counted requests answered as expected (every answer counts)."""
    return 100 * figures.ok / figures.requests if figures.requests else 0.0


SUCCESS = Metric("success rate", "%", _success, text.percent)

#: A failure line that names one worker of a level: ``worker 3: …`` (a thread of the thread
#: engine: its setup, login or sending broke) or ``user 7: …`` (a Locust user). Lines about the
#: level as a whole (workers left behind by an interruption, a Locust process or master lost)
#: name no one worker and are not counted here; the failed-workers finding shows them all.
_ONE_WORKER = re.compile(r"(worker|user) (\d+): ")


def failed_workers(level: Any) -> list[str]:
    """The failure lines of a level that each name one of its workers, one line per worker."""
    named: dict[tuple[str, str], str] = {}
    for line in map(str, level.worker_failures):
        match = _ONE_WORKER.match(line)
        if match:
            named.setdefault(match.groups(), line)
    return list(named.values())


def _failed_worker_share(level: Any) -> float:
    """Percent of the level's workers that failed (none planned: none failed)."""
    if not level.concurrency:
        return 0.0
    return 100 * min(len(failed_workers(level)), level.concurrency) / level.concurrency


def _dropped_share(level: Any) -> float:
    """Percent of an open level's schedule never sent: no worker was free before its window
    ended (``planned_requests`` is the schedule's count; sent + dropped = planned)."""
    planned = level.planned_requests
    return 100 * level.dropped / planned if planned else 0.0


FAILED_WORKERS = Metric("workers failed", "%", _failed_worker_share, text.percent)
DROPPED = Metric("requests dropped", "%", _dropped_share, text.percent)

#: The figure each threshold expression name reads (``plan.expressions.METRICS`` holds the
#: grammar's names and units; a test keeps the two the same set).
BY_EXPRESSION: dict[str, Metric] = {
    "min": MIN,
    "p50": P50,
    "p90": P90,
    "p95": P95,
    "p99": P99,
    "max": MAX,
    "mean": MEAN,
    "error_rate": ERROR_RATE,
    "queries_mean": QUERIES_MEAN,
    "queries_max": QUERIES_MAX,
    "success": SUCCESS,
    "rps": THROUGHPUT,
    "ok_rps": OK_THROUGHPUT,
    "failed_workers": FAILED_WORKERS,
    "dropped": DROPPED,
    "rss_growth": RSS_GROWTH,
    "cpu_avg": CPU_AVG,
}

#: The latency figures of a full distribution, in the order tables show them.
DISTRIBUTION = (MIN, P50, P90, P95, P99, MAX, MEAN, STDEV)


def phrases(subject: Any, *metrics: Metric) -> str:
    """``p50 3.14 ms, p95 12.3 ms``: several figures of one subject in a sentence."""
    return ", ".join(metric.phrase(subject) for metric in metrics)


def covered(figures: Any) -> str:
    """The answers latency figures cover: ``20 requests``, or ``12 answers as expected of 20
    requests`` when some answered otherwise (their classes are shown apart)."""
    if figures.judged_count == figures.requests:
        return f"{figures.requests} requests"
    return f"{figures.judged_count} answers as expected of {figures.requests} requests"
