"""End to end: every test here starts servers, processes or a browser, so every one is slow
(left out of the fast subset, ``python -m pytest -m "not slow"``)."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.slow)
