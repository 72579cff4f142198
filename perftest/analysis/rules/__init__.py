"""The rules, registered in evaluation order: configuration and endpoint rules first, then
load-level rules."""

from . import configuration, endpoints, levels, resources

__all__ = ["configuration", "endpoints", "levels", "resources"]
