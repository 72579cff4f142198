"""The rules, registered in evaluation order: configuration and endpoint rules first, then
load-level rules (``saturation`` after ``levels``: its finding reads after the errors)."""

from . import configuration, endpoints, levels, limits, resources, saturation

__all__ = [
    "configuration",
    "endpoints",
    "levels",
    "limits",
    "resources",
    "saturation",
]
