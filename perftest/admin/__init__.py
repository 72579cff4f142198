"""perftest in the Django admin: stored runs to read, compare, and take reports from.

``runs.RunAdmin`` is the model admin; ``views`` holds one view per page it adds (a run's
reports, a comparison), every one behind ``permissions.viewing_runs``.
"""

from .runs import RunAdmin

__all__ = ["RunAdmin"]
