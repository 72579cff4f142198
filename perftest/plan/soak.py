"""``--soak DURATION``: hours of one open-model level, checked before anything runs.

Many failures take hours to show (memory that grows a few MB an hour, connections never
returned). A soak runs the plan's mix at one fixed ``--rate`` for DURATION after a warm-up
that is not judged (caches, pools and the JIT-free interpreter's first allocations settle
there), and stores what it has every ``checkpoint_s`` seconds, so a crash after three hours
loses at most one interval. This module parses the durations (``90s``, ``10m``, ``2h``,
``1h30m``, or bare seconds) and says how long each part lasts, as plain data the stored plan
keeps (``SoakPlan.from_dict`` reads it back; a stored plan without it ran no soak).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from perftest import limits
from perftest.conf import ConfigError, in_range

#: The warm-up when ``--soak-warmup`` does not say: this share of the steady part, at most
#: ``WARMUP_MAX_S`` (a 2 h soak warms up 5 min, a 10 min one 1 min).
WARMUP_SHARE = 0.10
WARMUP_MAX_S = 300.0
_UNIT_S = {"s": 1, "m": 60, "h": 3600}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([hms])")


def parse_duration(text: str, option: str) -> float:
    """Seconds that ``text`` writes: ``90``, ``90s``, ``10m``, ``2h``, ``1h30m``; a
    ``ConfigError`` naming ``option`` otherwise."""
    written = text.strip().lower().replace(" ", "")
    try:
        return float(written)
    except ValueError:
        pass
    parts = _DURATION.findall(written)
    if not parts or "".join(number + unit for number, unit in parts) != written:
        raise ConfigError(
            f"{option} takes a duration like 90s, 10m, 2h or 1h30m (bare numbers are "
            f"seconds), not {text!r}."
        )
    return sum(float(number) * _UNIT_S[unit] for number, unit in parts)


def default_warmup_s(steady_s: float) -> float:
    """The unjudged warm-up before ``steady_s`` seconds of steady load."""
    return min(WARMUP_MAX_S, WARMUP_SHARE * steady_s)


@dataclass(frozen=True)
class SoakPlan:
    """How long a soak's parts last, and how often it stores what it has."""

    #: The judged, steady part (``--soak``), in seconds.
    steady_s: float
    #: The unjudged warm-up before it (``--soak-warmup``), in seconds.
    warmup_s: float
    #: Seconds between two checkpoints (``PERFTEST["SOAK"]["CHECKPOINT_S"]``).
    checkpoint_s: float
    #: Whether an in-process soak names the lines where memory grew (``tracemalloc``,
    #: ``PERFTEST["SOAK"]["TRACE_ALLOCATIONS"]``); never over HTTP.
    trace_allocations: bool = False

    @property
    def total_s(self) -> float:
        """The level's whole length: warm-up, then the steady part."""
        return self.warmup_s + self.steady_s

    @classmethod
    def from_dict(cls, data: Any) -> SoakPlan | None:
        """A stored soak plan; None for a stored plan that ran no soak."""
        if not isinstance(data, Mapping):
            return None
        return cls(
            float(data["steady_s"]),
            float(data["warmup_s"]),
            float(data["checkpoint_s"]),
            # Soaks stored before allocations were traced did not trace them.
            bool(data.get("trace_allocations", False)),
        )


def soak_plan(soak: str, warmup: str | None, config: Mapping[str, Any]) -> SoakPlan:
    """``--soak`` and ``--soak-warmup`` as written, with the ``SOAK`` settings, checked."""
    steady_s = parse_duration(soak, "--soak")
    in_range("--soak", steady_s, limits.SOAK_SECONDS)
    warmup_s = default_warmup_s(steady_s)
    if warmup is not None:
        warmup_s = parse_duration(warmup, "--soak-warmup")
        in_range("--soak-warmup", warmup_s, limits.SOAK_WARMUP)
    settings = config["SOAK"]
    return SoakPlan(
        steady_s, warmup_s, float(settings["CHECKPOINT_S"]), bool(settings["TRACE_ALLOCATIONS"])
    )
