"""Rules that read a stored run and choose what its report says: thresholds and findings."""

from __future__ import annotations

from perftest import models


def finding(**fields: object) -> models.Finding:
    """An unsaved Finding whose texts fit their columns (PostgreSQL rejects longer strings)."""
    for name, value in fields.items():
        limit = models.Finding._meta.get_field(name).max_length
        if limit and isinstance(value, str) and len(value) > limit:
            fields[name] = value[: limit - 1] + "…"
    return models.Finding(**fields)


def bottleneck(
    rule: str, subject: str, title: str, evidence: str, recommendation: str
) -> models.Finding:
    return finding(
        kind=models.Finding.Kind.BOTTLENECK,
        rule=rule,
        subject=subject,
        title=title,
        evidence=evidence,
        recommendation=recommendation,
    )


def key(rule: str, subject: str, title: str, evidence: str = "") -> models.Finding:
    return finding(
        kind=models.Finding.Kind.KEY, rule=rule, subject=subject, title=title, evidence=evidence
    )
