"""How a soak's trends read: each series' values and slopes in its own unit, its interval,
and what the trend is judged to be. The soak rules' findings and the report's trends section
say them with the same words.
"""

from __future__ import annotations

from perftest.text import MB, span

from .trends import CONNECTIONS, ERROR_RATE, P95, RSS, RSS_PROJECTION_BYTES, Trend

#: Each series' unit as written after a value, and the stored value per unit (the JSON
#: report's ``unit`` too).
UNITS = {
    RSS: ("MB", MB),
    CONNECTIONS: ("connections", 1.0),
    P95: ("ms", 1.0),
    ERROR_RATE: ("%", 1.0),
}
#: What a growing series is called.
_GROWING = {RSS: "a leak", CONNECTIONS: "a leak", P95: "a creep", ERROR_RATE: "a creep"}
HOUR_S = 3600
#: ``trends.RSS_PROJECTION_BYTES`` in words.
RSS_PROJECTION = "1 GB"


def figure(value: float) -> str:
    """About three significant digits, never in exponent form: 1234, 12.3, 0.12."""
    size = abs(value)
    if size >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if size >= 10 else f"{value:.2f}"


def value(series: str, amount: float) -> str:
    """A value of the series: ``312 MB``, ``4.10 connections``, ``12.0 ms``, ``3.20%``."""
    if series == ERROR_RATE:
        return f"{figure(amount)}%"
    unit, size = UNITS[series]
    return f"{figure(amount / size)} {unit}"


def per_hour(series: str, slope_per_s: float) -> str:
    """A slope per hour: ``12.0 MB/h``; the error rate's in percentage points."""
    if series == ERROR_RATE:
        return f"{figure(slope_per_s * HOUR_S)} points/h"
    unit, size = UNITS[series]
    return f"{figure(slope_per_s * HOUR_S / size)} {unit}/h"


def slope_range(trend: Trend) -> str:
    """The slope's 95 % interval: ``10.0 to 14.0 MB/h``."""
    line = trend.fit
    low, high = per_hour(trend.series, line.low), per_hour(trend.series, line.high)
    return f"{low.rsplit(' ', 1)[0]} to {high}"


def interval(trend: Trend) -> str:
    """``95 % interval 10.0 to 14.0 MB/h``."""
    return f"95 % interval {slope_range(trend)}"


def judged(trend: Trend) -> str:
    """What the trend is: a leak or a creep, flat, growing below the material bound, or not
    judged and why."""
    if trend.fit is None:
        return f"not judged: {trend.not_judged}"
    if trend.grows:
        return _GROWING[trend.series][2:]
    if not trend.above_zero:
        return "steady: its interval includes zero or lies below it"
    bound = value(trend.series, trend.material_growth)
    return f"grows, but by less than the material {bound}"


def projection(trend: Trend) -> str:
    """When a growing process's RSS reaches ``RSS_PROJECTION_BYTES`` at the fitted rate."""
    left = RSS_PROJECTION_BYTES - trend.fit.end
    if left <= 0:
        return f"it is already above {RSS_PROJECTION}"
    return f"at this rate it reaches {RSS_PROJECTION} in {span(left / trend.fit.slope)}"


def growth_sentence(trend: Trend, what: str) -> str:
    """The finding's sentence: ``RSS of gunicorn (pid 41) grows 12.0 MB/h (95 % interval 10.0
    to 14.0 MB/h) over 1 h 50 min of steady load: a leak``."""
    line = trend.fit
    return (
        f"{what} grows {per_hour(trend.series, line.slope)} ({interval(trend)}) over "
        f"{span(line.span_s)} of steady load: {_GROWING[trend.series]}"
    )


def fitted_values(trend: Trend) -> str:
    """``from 80.0 MB to 312 MB fitted over 40 readings (material: 5.00 MB)``."""
    line = trend.fit
    return (
        f"from {value(trend.series, line.start)} to {value(trend.series, line.end)} fitted "
        f"over {trend.readings} readings after the warm-up (material growth: at least "
        f"{value(trend.series, trend.material_growth)})"
    )
