"""The rules, registered in evaluation order: configuration and endpoint rules first, then
load-level rules; the baseline rules read the stored comparison."""

from . import baseline, configuration, endpoints, levels, resources

__all__ = ["baseline", "configuration", "endpoints", "levels", "resources"]
