"""Round axis ticks (1, 2 or 5 times a power of ten), so an axis reads 0, 20, 40 and never
23.06, 46.12."""

from __future__ import annotations

import math


def step(span: float, count: int = 4) -> float:
    """The round step giving nearest ``count`` intervals over ``span`` (on a tie, the one
    whose last tick is closest above ``span``)."""
    if span <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(span / count))
    steps = [m * power for m in (1, 2, 5, 10)]
    return min(
        steps, key=lambda size: (abs(_intervals(span, size) - count), size * _intervals(span, size))
    )


def _intervals(span: float, size: float) -> int:
    return max(1, math.ceil(span / size - 1e-9))


def upto(top: float, count: int = 4) -> tuple[float, ...]:
    """Ticks from 0 to the first round step at or above ``top``."""
    size = step(top, count)
    return tuple(round(i * size, 12) for i in range(_intervals(top, size) + 1))


def label(value: float) -> str:
    """A tick as written: ``20``, ``0.5``, ``1.5k`` for thousands and more."""
    if abs(value) >= 10_000:
        return f"{value / 1000:g}k"
    return f"{round(value, 9):g}"
