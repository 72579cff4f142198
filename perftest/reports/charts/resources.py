"""The measured processes over the run: resident memory and CPU, one series per process."""

from __future__ import annotations

from collections.abc import Callable

from perftest.analysis import summaries
from perftest.store.read import StoredRun
from perftest.text import MB

from .model import Chart, Series


def _process_series(
    stored: StoredRun, value: Callable[[dict], float], cpu: bool
) -> tuple[Series, ...]:
    """One series per sampled process (``value`` of each reading), or one for the sampled
    total when the samples carry no per-process detail (runs stored before it existed);
    none when no process has two readings."""
    readings = summaries.process_readings(stored.samples)
    if not readings:
        totals = {
            "the measured process": [
                {"rss_bytes": s.rss_bytes, "cpu_percent": s.cpu_percent, "at": s.offset_s}
                for s in sorted(stored.samples, key=lambda s: s.offset_s)
            ]
        }
    else:
        totals = {f"{rows[-1]['name']} (pid {pid})": rows for pid, rows in readings.items()}
    drawn = tuple(
        Series(
            name,
            "",  # one process of several alike: coloured in turn
            tuple(
                (row["at"], value(row)) for row in (summaries.cpu_readings(rows) if cpu else rows)
            ),
        )
        for name, rows in totals.items()
        if rows
    )
    # One reading per process is no line over time: then there is no chart.
    return drawn if any(len(series.points) >= 2 for series in drawn) else ()


def rss(stored: StoredRun) -> Chart | None:
    """Resident memory of each measured process over the run."""
    series = _process_series(stored, lambda row: row["rss_bytes"] / MB, cpu=False)
    if not series:
        return None
    return Chart(
        "rss", "RSS over time per process", "seconds into the run", "resident memory (MB)", series
    )


def cpu(stored: StoredRun) -> Chart | None:
    """CPU of each measured process over the run, in percent of all the machine's cores (as
    the resource table); the first reading of each process carries no CPU figure."""
    cores = max(stored.row.resource_cpu_count, 1)
    series = _process_series(stored, lambda row: row["cpu_percent"] / cores, cpu=True)
    if not series:
        return None
    return Chart(
        "cpu", "CPU over time per process", "seconds into the run", "CPU (% of all cores)", series
    )
