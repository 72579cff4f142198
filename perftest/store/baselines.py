"""Which stored run a run is compared with (``--baseline``), and a stored run as if compared
with another.

The baseline is resolved before anything runs, so that a refused comparison records nothing:
an id must name a completed run of the same target and plan (``plan.fingerprint`` says what
must match), ``latest`` is the newest such run. ``--check --baseline`` reads the routes the
named run stored; ``perftest_report --baseline`` renders a run compared again, saving nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from django.db.models import QuerySet

from perftest import models
from perftest.plan.fingerprint import differences, fingerprint
from perftest.plan.model import RunPlan
from perftest.store.read import FINDING_FIELDS, Status, StoredRun


class BaselineRefused(ValueError):
    """``--baseline`` names a run this one cannot be compared with; the message says why."""


#: The note a run stores when ``--baseline latest`` finds no run to compare with.
NO_BASELINE = "not compared: no earlier completed run with this target and plan (--baseline latest)"


def comparable(target: str, plan: RunPlan) -> QuerySet[models.Run]:
    """The completed runs of ``target`` whose plan fingerprint is ``plan``'s: the runs a run
    of ``plan`` can be compared with (``--baseline latest``) and whose figures make its
    history (``store.history``)."""
    return models.Run.objects.filter(
        status=Status.COMPLETED, target=target, plan_fingerprint=fingerprint(plan)
    )


def baseline_for(
    choice: str, target: str, plan: RunPlan, before: models.Run | None = None
) -> models.Run | None:
    """The run ``--baseline`` names for a run of ``plan`` against ``target``, checked before
    anything runs so that a refused comparison records nothing; for a stored run ``before``
    (``perftest_report --baseline``), only runs that started before it count as ``latest``.

    A run id must name a completed run of the same target and plan, else ``BaselineRefused``
    says which differs. ``latest`` is the newest completed run of the same target and plan
    fingerprint, or None when there is none: the first run of a CI pipeline has nothing to
    be compared with, and establishes the baseline instead of failing.
    """
    if choice == "latest":
        runs = comparable(target, plan)
        if before is not None:
            runs = runs.filter(started_at__lte=before.started_at).exclude(pk=before.pk)
        return runs.order_by("-started_at", "-pk").first()
    pk = int(choice)
    row = models.Run.objects.filter(pk=pk).first()
    if row is None:
        raise BaselineRefused(f"--baseline {pk}: no stored run #{pk}.")
    if row.status != Status.COMPLETED:
        raise BaselineRefused(
            f"--baseline {pk}: run #{pk} is {row.status}, not completed; compare with a "
            "completed run."
        )
    if row.target != target:
        raise BaselineRefused(
            f"--baseline {pk}: run #{pk} measured {row.target}, this run measures {target}; "
            "compare runs of the same target."
        )
    differ = differences(RunPlan.from_dict(row.config), plan, own=f"run #{pk}", others="this run")
    if differ:
        raise BaselineRefused(
            f"--baseline {pk}: run #{pk} measured another plan ({'; '.join(differ)}); "
            "repeat its options or compare with another run."
        )
    return row


def routes_of(choice: str, target: str) -> tuple[int, tuple[str, ...] | None] | None:
    """``--check --baseline``: the id of the run ``choice`` names and the target's routes it
    stored (None for a run stored before routes were kept). ``latest`` is the newest
    completed run of ``target`` whatever its plan (None when there is none); an id must name a
    stored run of the same target, else ``BaselineRefused``."""
    if choice == "latest":
        row = (
            models.Run.objects.filter(status=Status.COMPLETED, target=target)
            .order_by("-started_at", "-pk")
            .first()
        )
        if row is None:
            return None
    else:
        row = models.Run.objects.filter(pk=int(choice)).first()
        if row is None:
            raise BaselineRefused(f"--baseline {choice}: no stored run #{choice}.")
        if row.target != target:
            raise BaselineRefused(
                f"--baseline {choice}: run #{choice} measured {row.target}, this plan "
                f"measures {target}; name a run of the same target."
            )
    return row.pk, RunPlan.from_dict(row.config).routes


def recompared(
    stored: StoredRun, baseline_pk: int, comparison: Mapping[str, Any], findings: Iterable[Any]
) -> StoredRun:
    """``stored`` as if it had been compared with run ``baseline_pk``: its comparison and its
    baseline findings replaced by ``comparison`` and ``findings`` (the other findings kept),
    nothing saved, so ``perftest_report --baseline`` renders it without changing the run."""
    row = copy.copy(stored.row)
    row.baseline_id, row.comparison = baseline_pk, dict(comparison)
    kept = [f for f in stored.findings if f.kind != models.Finding.Kind.BASELINE]
    fresh = [
        models.Finding(
            run=row, position=position, **{name: getattr(f, name) for name in FINDING_FIELDS}
        )
        for position, f in enumerate(findings, start=len(kept))
    ]
    return replace(stored, row=row, findings=(*kept, *fresh))
