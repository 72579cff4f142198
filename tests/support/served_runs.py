"""Runs against a served target (gunicorn on loopback), read back as the tests judge them:
the stored run, every request it says it sent (to compare with the server's own count), and
the check that no token a login issued is kept in the stored rows or the report."""

from __future__ import annotations

import json
import re
from pathlib import Path

from django.core.management import call_command

from perftest.models import Run

#: THE_BOT's tokens: 40 hex characters.
TOKEN = re.compile(r"\b[0-9a-f]{40}\b")


def served_run(tmp_path: Path, *args: str) -> Run:
    """Run the command and return the stored run, whatever its exit verdict: these tests read
    the stored rows, and a CPU threshold may break under load on a shared machine (exit
    codes are proven in analysis/test_verdicts.py)."""
    call_command("perftest", "--output", str(tmp_path), "--exit-zero", *args)
    return Run.objects.latest("pk")


def sent_by_perftest(run: Run) -> int:
    """Every request the run reports having sent: sequential, logins, levels (all phases)."""
    sequential = sum(e.requests for e in run.endpoints.exclude(phase="level"))
    return sequential + len(run.logins) + sum(level.sent_total for level in run.levels.all())


def assert_no_token_kept(run: Run, report: str) -> None:
    """No login's token in the run's stored rows (run, endpoints, levels, findings) or its
    report."""
    stored = json.dumps(
        [
            list(Run.objects.filter(pk=run.pk).values()),
            list(run.endpoints.values()),
            list(run.levels.values()),
            list(run.findings.values()),
        ],
        default=str,
    )
    assert not TOKEN.search(stored) and not TOKEN.search(report)
