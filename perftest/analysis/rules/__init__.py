"""The rules, registered in evaluation order: configuration and endpoint rules first, then
load-level rules, then the rules over the diagnostic pass; the baseline rules read the stored
comparison."""

from . import baseline, configuration, diagnosis, endpoints, levels, resources

__all__ = ["baseline", "configuration", "diagnosis", "endpoints", "levels", "resources"]
