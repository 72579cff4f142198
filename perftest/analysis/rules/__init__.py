"""The rules, registered in evaluation order: configuration and endpoint rules first, then
load-level rules (``saturation`` after ``levels``: its finding reads after the errors), then the
rules over the diagnostic pass; the baseline rules read the stored comparison."""

from . import (
    baseline,
    configuration,
    diagnosis,
    endpoints,
    levels,
    limits,
    resources,
    saturation,
)

__all__ = [
    "baseline",
    "configuration",
    "diagnosis",
    "endpoints",
    "levels",
    "limits",
    "resources",
    "saturation",
]
