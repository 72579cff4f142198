"""The rules, registered in evaluation order: endpoint rules first, then load-level rules."""

from . import endpoints, levels

__all__ = ["endpoints", "levels"]
