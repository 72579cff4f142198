"""The rules, registered in evaluation order: configuration and endpoint rules first, then
load-level rules, then the rules over the diagnostic pass."""

from . import configuration, diagnosis, endpoints, levels, resources

__all__ = ["configuration", "diagnosis", "endpoints", "levels", "resources"]
