"""Which stored endpoints and levels have figures, and which have a latency verdict.

The words every reader shares: an endpoint is *measured* when it has figures (``unmeasured``
says why not), and *judged* when some of its answers were as expected, so that percentiles,
throughput and rankings come from those answers only (``unjudged`` says why not). Analysis,
reports and the admin ask here rather than each deciding again.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from perftest import models
from perftest.text import error_groups


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


def unjudged(figures: Any) -> str:
    """Why an endpoint or level has no latency verdict ("" when it has one).

    Verdicts (percentiles, throughput, rankings, SQL share) come from the answers as
    expected only; figures with none of those have nothing to judge, however many answers
    they counted. An endpoint with a configuration problem (a DRF router root) answered
    something other than the data it was meant to time, so it is not judged either.
    """
    reason = unmeasured(figures) if isinstance(figures, models.EndpointResult) else ""
    if reason:
        return reason
    problem = getattr(figures, "configuration", None)
    if problem:
        return f"no verdict: {problem.get('detail') or problem.get('problem')}"
    if not figures.requests:
        return "no request was counted"
    if figures.ok:
        return ""
    return f"no answer as expected: {error_groups(figures.errors) or 'no reason stored'}"


def judged(rows: Iterable[Any]) -> list[Any]:
    """The endpoints or levels that have a latency verdict (some answer as expected)."""
    return [row for row in rows if not unjudged(row)]
