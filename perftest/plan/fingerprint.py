"""What a plan measures, the part two runs must share to be compared: its fingerprint and,
when two plans differ there, each difference in a short phrase.

A run stores its plan's fingerprint (``store.write``) so that ``--baseline latest`` finds the
newest run of the same plan with one query, and ``--baseline <id>`` says what differs when the
plans do. Labels, thresholds, output and diagnostics change the verdicts or the reports, not
the figures, so they are not part of it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from .model import RunPlan

#: What of each endpoint a plan fingerprint covers (its body is the seeded data's concern).
_ENDPOINT_KEYS = ("name", "method", "path", "expected_status", "auth")


def role_counts(plan: RunPlan) -> list[str]:
    """``student×5``, ``teacher×2``: the roles as the fingerprint and differences name them (a
    run without roles has no such key, so its fingerprint is as before roles existed)."""
    return [f"{role.name}×{role.count}" for role in plan.roles]


def measures(plan: RunPlan) -> dict[str, Any]:
    """What ``plan`` measures: endpoints (by name, order aside), roles, mode, iterations,
    warm-up and the load, as plain data."""
    load = plan.load
    roles = {"roles": role_counts(plan)} if plan.roles else {}
    return {
        **roles,
        "endpoints": sorted(
            (
                {key: getattr(endpoint, key) for key in _ENDPOINT_KEYS}
                for endpoint in plan.endpoints
            ),
            key=lambda endpoint: str(endpoint["name"]),
        ),
        "mode": plan.mode,
        "iterations": plan.iterations,
        "warmup": plan.warmup,
        "load": {
            "concurrency": list(load.concurrency),
            "rate": load.rate,
            "duration_s": load.duration_s,
            "requests": load.requests,
            "ramp_up_s": load.ramp_up_s,
            "mix": load.mix.text if load.mix else None,
            "identities": load.identities,
            "login_mode": load.login_mode,
            # Only with a search, so the fingerprints of plans without one stay as they were.
            **({"capacity": load.capacity.expression} if load.capacity else {}),
        },
    }


def fingerprint(plan: RunPlan) -> str:
    """sha256 of ``measures(plan)`` as canonical JSON: equal for runs that can be compared."""
    canonical = json.dumps(measures(plan), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _value_text(value: Any) -> str:
    """A plan value in a difference: ``1,10``, ``0.5``, ``none``."""
    if value is None or value == []:
        return "none"
    if isinstance(value, list):
        return ",".join(_value_text(item) for item in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _endpoint_text(endpoint: Mapping[str, Any]) -> str:
    """``GET /api/x/ 200 (auth)``: an endpoint as a plan difference names it."""
    auth = " (auth)" if endpoint.get("auth") else ""
    return (
        f"{endpoint.get('method')} {endpoint.get('path')} {endpoint.get('expected_status')}{auth}"
    )


def differences(
    plan: RunPlan, other: RunPlan, own: str = "this plan", others: str = "the other plan"
) -> list[str]:
    """Each way ``other`` measures differently from ``plan``, one short phrase each, ``plan``'s
    value first: ``iterations 20 → 50``, ``endpoint Get Lessons only in run #12``."""
    mine, theirs = measures(plan), measures(other)
    found: list[str] = []
    by_name = {e["name"]: e for e in mine["endpoints"]}
    other_by_name = {e["name"]: e for e in theirs["endpoints"]}
    for name, endpoint in by_name.items():
        if name not in other_by_name:
            found.append(f"endpoint {name} only in {own}")
        elif endpoint != other_by_name[name]:
            found.append(
                f"endpoint {name} {_endpoint_text(endpoint)} → "
                f"{_endpoint_text(other_by_name[name])}"
            )
    found += [f"endpoint {name} only in {others}" for name in other_by_name if name not in by_name]
    for key in ("roles", "mode", "iterations", "warmup"):
        if mine.get(key) != theirs.get(key):
            found.append(f"{key} {_value_text(mine.get(key))} → {_value_text(theirs.get(key))}")
    for key, value in mine["load"].items():
        if value != theirs["load"][key]:
            found.append(
                f"{key.replace('_', ' ')} {_value_text(value)} → {_value_text(theirs['load'][key])}"
            )
    return found
