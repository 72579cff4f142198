"""Resource usage of the measured process (or process tree) over the run."""

from __future__ import annotations

from perftest.analysis import summaries
from perftest.analysis.metrics import CPU_AVG
from perftest.analysis.rules.resources import IN_PROCESS_MEMORY
from perftest.analysis.summaries import ResourceSummary
from perftest.store.read import StoredRun
from perftest.text import mb, number, percent, quantity

from ..blocks import Block, Heading, Paragraph, Table


def _own_cpu_note(stored: StoredRun) -> str:
    """Where perftest's own CPU is, when the sampled process may be a server's."""
    if stored.row.mode not in ("http", "both") or not stored.levels:
        return ""
    return (
        "perftest's own CPU per level is shown separately, as generator CPU under Concurrent "
        "request testing."
    )


def _figures(stored: StoredRun, summary: ResourceSummary, gap: str) -> Table:
    rows: list[list[object]] = [
        ["Samples", f"{summary.samples} over {summary.duration_s:.1f} s"],
        [
            "RSS min / mean / max",
            f"{mb(summary.rss_min_mb)} / {mb(summary.rss_mean_mb)} / {mb(summary.rss_max_mb)}",
        ],
    ]
    if not gap:
        rows += [
            ["RSS growth (last − first)", f"{summary.rss_growth_mb:+.1f} MB"],
            ["RSS trend (least squares)", summaries.rss_trend(summary)],
            [
                f"CPU mean / max (% of {quantity(stored.row.resource_cpu_count, 'core')})",
                f"{CPU_AVG.text(summary)} / {percent(summary.cpu_max_pct)}",
            ],
        ]
    if summary.machine_cpu_pct is not None:
        mean, top = summary.machine_cpu_pct
        rows.append(
            ["Whole machine CPU mean / max (% of all cores)", f"{percent(mean)} / {percent(top)}"]
        )
    if summary.generator_cpu_pct is not None:
        mean, top = summary.generator_cpu_pct
        rows.append(
            ["perftest's own CPU mean / max (% of one core)", f"{percent(mean)} / {percent(top)}"]
        )
    rows += [
        ["Threads (max)", summary.threads_max],
        ["Open files (max)", summary.open_files_max],
    ]
    return Table(["Metric", "Value"], rows)


def _per_process(stored: StoredRun) -> list[Block]:
    processes = summaries.per_process(stored.samples, stored.row.resource_cpu_count)
    if not processes:
        return []
    return [
        Paragraph("Per process (the figures above are their sums):"),
        Table(
            ["Process", "Samples", "RSS max", "CPU mean (% of all cores)"],
            [
                [f"{p.name} (pid {p.pid})", p.samples, mb(p.rss_max_mb), percent(p.cpu_mean_pct)]
                for p in processes
            ],
        ),
    ]


def usage(stored: StoredRun) -> list[Block]:
    run = stored.row
    heading = Heading("Resource usage")
    note = _own_cpu_note(stored)
    summary = summaries.resources(stored)
    if summary is None:
        reason = run.resource_unavailable or "no samples were recorded"
        return [
            heading,
            Paragraph(f"No resource figures: {reason}." + (f" {note}" if note else "")),
        ]
    gap = summaries.resource_gap(stored, summary)
    blocks: list[Block] = [
        heading,
        Paragraph(
            f"Measured: {run.resource_description or 'the measured process'}, sampled every "
            f"{number(run.resource_interval_s)} s."
        ),
        _figures(stored, summary, gap),
        *_per_process(stored),
    ]
    if run.mode == "in-process":
        blocks.append(Paragraph(f"{IN_PROCESS_MEMORY}."))
    if gap:
        blocks.append(Paragraph(f"Growth, trend and CPU are not evaluated: {gap}."))
    elif run.resource_unavailable:
        blocks.append(Paragraph(f"Sampling stopped early: {run.resource_unavailable}."))
    if note:
        blocks.append(Paragraph(note))
    return blocks
