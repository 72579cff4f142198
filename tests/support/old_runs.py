"""Runs stored by older perftest code: ``tests/fixtures/pre_restructure/``, whose ``runs.json``
is a ``dumpdata`` of four runs (their primary keys, ``RUNS``) stored by the code before the
layers restructuring. The ``stored_runs`` fixture (``tests/conftest.py``) loads them."""

from __future__ import annotations

import pathlib

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "pre_restructure"
RUNS = (1, 2, 3, 4)
