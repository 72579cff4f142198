"""The rules, registered in evaluation order: the baseline rules (they read the stored
comparison), configuration, the diagnostic pass and endpoint rules first, then the load-level
rules: a level's errors, the load generator's limits, the scaling curve, then rate limits,
resources and ``saturation`` (its finding reads after the errors).

A module registers its rules when it is imported, so this import order is the registry's
order, which findings and reports follow; it is kept by hand, not by the alphabet.
"""

# isort: off
from . import baseline, configuration, diagnosis, endpoints
from . import levels, generator, scaling
from . import limits, resources, saturation

# isort: on

__all__ = [
    "baseline",
    "configuration",
    "diagnosis",
    "endpoints",
    "levels",
    "generator",
    "scaling",
    "limits",
    "resources",
    "saturation",
]
