"""How numbers read as words, in one place, so a figure looks the same everywhere.

Findings, reports and progress lines all format through these helpers; a threshold row that
says "2500.0 ms" and the table cell beside it can never disagree. Plain values in, text out:
nothing here knows about models or about any output format.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

MB = 2**20


def ms(value: float) -> str:
    """Milliseconds with one decimal, or two below 10 ms where one decimal hides the spread."""
    return f"{value:.2f} ms" if abs(value) < 10 else f"{value:.1f} ms"


def mb(value: float) -> str:
    return f"{value:.1f} MB"


def size(value: float) -> str:
    """Bytes as read aloud: ``512 B``, ``50.0 KB``, ``12.3 MB`` (1 KB = 1024 B)."""
    if abs(value) >= MB:
        return mb(value / MB)
    if abs(value) >= 1024:
        return f"{value / 1024:.1f} KB"
    return f"{value:.0f} B"


def percent(value: float) -> str:
    return f"{value:.1f}%"


def about_share(share: float) -> str:
    """An estimated share (0 to 1) as ``about 70%``; ``under 1%`` rather than ``about 0%``."""
    return f"about {share:.0%}" if share >= 0.005 else "under 1%"


def number(value: float) -> str:
    """A configured limit as written: 2000, not 2000.0; 0.5 stays 0.5."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def span(seconds: float) -> str:
    """A length of time as read aloud: ``45 s``, ``4 min 30 s``, ``1 h 50 min``, ``2 h``."""
    whole = round(seconds)
    if whole < 60:
        return (
            f"{seconds:.1f} s" if seconds < 10 and not float(seconds).is_integer() else f"{whole} s"
        )
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min {secs} s" if secs else f"{minutes} min"


def quantity(n: int, singular: str, plural: str = "") -> str:
    """``1 core``, ``4 cores``: counts read as sentences, not as templates."""
    return f"{n} {singular if n == 1 else plural or singular + 's'}"


def status_counts(counts: dict[str, int]) -> str:
    """``{"200": 18, "500": 2}`` as ``200×18, 500×2``, codes in order."""
    return ", ".join(f"{code}×{n}" for code, n in sorted(counts.items()))


def ms_value(value: float) -> str:
    """Milliseconds as ``ms`` writes them, without the unit: ``40.0``, ``3.14``."""
    return ms(value)[: -len(" ms")]


def growth(value: float | None) -> str:
    """Change against the previous level: ``+4.2 %``, ``+180 %``; ``—`` when there is no base."""
    if value is None:
        return "—"
    return f"{value:+.0f} %" if abs(value) >= 100 else f"{value:+.1f} %"


def cores(value: float) -> str:
    """CPU time over wall time: ``0.97 cores``."""
    return f"{value:.2f} cores"


def level_label_of(model: str, concurrency: int, rate: float | None) -> str:
    """``10 concurrent`` (closed model) or ``50 req/s open, 20 workers`` (open model)."""
    if model == "open":
        return f"{number(rate or 0)} req/s open, {quantity(concurrency, 'worker')}"
    return f"{concurrency} concurrent"


def level_label(level: Any) -> str:
    """The label of a load level: anything with ``model``, ``concurrency`` and ``rate``."""
    return level_label_of(level.model, level.concurrency, level.rate)


def error_groups(groups: Iterable[dict]) -> str:
    """Stored error groups as ``HTTP 429 ×3; connection refused ×2``, in stored order."""
    return "; ".join(f"{group['reason']} ×{group['count']}" for group in groups)
