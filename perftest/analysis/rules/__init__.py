"""The rules, registered in evaluation order: the capacity a search found (the first key
finding of a run that made one), the baseline rules (they read the stored comparison),
configuration, the diagnostic pass and endpoint rules, then the load-level rules: a level's
errors, the load generator's limits, the scaling curve and what gave way first at its knee and
at the capacity limit, then rate limits, resources, a soak's trends and ``saturation`` (its
finding reads after the errors).

A module registers its rules when it is imported, so this import order is the registry's
order, which findings and reports follow; it is kept by hand, not by the alphabet.
"""

# isort: off
from . import capacity, baseline, configuration, diagnosis, endpoints
from . import levels, generator, scaling, first_to_break
from . import limits, resources, soak, saturation

# isort: on

__all__ = [
    "capacity",
    "baseline",
    "configuration",
    "diagnosis",
    "endpoints",
    "levels",
    "generator",
    "scaling",
    "first_to_break",
    "limits",
    "resources",
    "soak",
    "saturation",
]
