"""How figures read as text, in one place, so a number looks the same in every report.

Findings, the Markdown report and the terminal summary all format through these helpers; a
threshold row that says "2500.0 ms" and the table cell beside it can never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from perftest import models

MB = 2**20


def ms(value: float) -> str:
    """Milliseconds with one decimal, or two below 10 ms where one decimal hides the spread."""
    return f"{value:.2f} ms" if abs(value) < 10 else f"{value:.1f} ms"


def mb(value: float) -> str:
    return f"{value:.1f} MB"


def percent(value: float) -> str:
    return f"{value:.1f}%"


def number(value: float) -> str:
    """A configured limit as written: 2000, not 2000.0; 0.5 stays 0.5."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def quantity(n: int, singular: str, plural: str = "") -> str:
    """``1 core``, ``4 cores``: counts read as sentences, not as templates."""
    return f"{n} {singular if n == 1 else plural or singular + 's'}"


def status_counts(counts: dict[str, int]) -> str:
    """``{"200": 18, "500": 2}`` as ``200×18, 500×2``, codes in order."""
    return ", ".join(f"{code}×{n}" for code, n in sorted(counts.items()))


def unmeasured(endpoint: models.EndpointResult) -> str:
    """Why an endpoint has no figures ("" when it has some): its stored reason, or none ran."""
    if endpoint.not_measured:
        return endpoint.not_measured
    if endpoint.requests:
        return ""
    if endpoint.interrupted:
        return "the run was interrupted before a request completed"
    return "no request completed"


def measured(endpoints: Iterable[models.EndpointResult]) -> list[models.EndpointResult]:
    """The endpoints that have figures."""
    return [endpoint for endpoint in endpoints if not unmeasured(endpoint)]


def login_endpoint(run: models.Run) -> str:
    """The login endpoint as stored in the run's configuration snapshot, e.g. ``POST /login/``."""
    login = run.config.get("login") or {}
    return f"{login.get('method', '')} {login.get('path', '')}".strip() or "the login endpoint"


def errors(endpoint: models.EndpointResult) -> str:
    """What went wrong for an endpoint: why it was not measured, else its error groups."""
    reason = unmeasured(endpoint)
    if reason:
        return f"not measured: {reason}"
    parts = [f"{group['reason']} ×{group['count']}" for group in endpoint.errors]
    if endpoint.interrupted:
        parts.append(f"interrupted after {endpoint.requests} of {endpoint.planned} planned")
    return "; ".join(parts)


def latencies(endpoint: models.EndpointResult, *fields: str) -> list[str]:
    """The named latency figures (``"p95_ms"``...) as text, or dashes when nothing was measured."""
    if unmeasured(endpoint):
        return ["—"] * len(fields)
    return [ms(getattr(endpoint, name)) for name in fields]


def threshold_tally(findings: Iterable[models.Finding]) -> str:
    """How the threshold checks came out, e.g. ``5 passed, 1 failed, 2 not evaluated``."""
    verdicts = [f.passed for f in findings if f.kind == models.Finding.Kind.THRESHOLD]
    return (
        f"{verdicts.count(True)} passed, {verdicts.count(False)} failed, "
        f"{verdicts.count(None)} not evaluated"
    )


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


def level_label(level: models.LoadLevel) -> str:
    """``10 concurrent`` (closed model) or ``50 req/s open, 20 workers`` (open model)."""
    if level.model == models.LoadLevel.Model.OPEN:
        return f"{number(level.rate or 0)} req/s open, {quantity(level.concurrency, 'worker')}"
    return f"{level.concurrency} concurrent"


def error_groups(groups: Iterable[dict]) -> str:
    """Stored error groups as ``HTTP 429 ×3; connection refused ×2``, in stored order."""
    return "; ".join(f"{group['reason']} ×{group['count']}" for group in groups)


def cell(value: object) -> str:
    """Markdown table cell text: a pipe or a line break in stored text must not break the table."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---" for _ in headers) + "|",
    ]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)
