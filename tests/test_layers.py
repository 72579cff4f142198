"""The layer rules of design.md hold, and breaking one fails ``lint-imports`` (as CI runs it).

The breaking cases edit a copy of the package in a temporary folder, so the contracts are
shown to catch a real import, not merely to pass.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
LINT_IMPORTS = pathlib.Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: pathlib.Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(tree / ".importlinter"), "--no-cache"],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def copy_with(tmp_path: pathlib.Path, module: str, line: str) -> pathlib.Path:
    """A copy of the package and its contracts, with ``line`` added to ``module``."""
    shutil.copytree(ROOT / "perftest", tmp_path / "perftest")
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    target = tmp_path / module
    target.write_text(target.read_text() + f"\n{line}\n")
    return tmp_path


def test_the_layer_contracts_hold_on_this_tree():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        (
            "perftest/measure/session.py",
            "from perftest import models  # noqa: E402",
            "The plan and the measuring core import no models",
        ),
        (
            "perftest/measure/load/closed.py",
            "from django.db import connections  # noqa: E402",
            "No module in measure.load imports Django itself",
        ),
        (
            "perftest/reports/console.py",
            "from perftest.measure.transport import http  # noqa: E402",
            "Analysis and reports import nothing of the measuring core",
        ),
        (
            "perftest/management/commands/perftest.py",
            "from perftest.models import Run  # noqa: E402",
            "Commands import no models directly",
        ),
        (
            "perftest/management/commands/perftest_runs.py",
            "from perftest.analysis import verdict  # noqa: E402",
            "Commands import no models directly",
        ),
        (
            "perftest/admin/runs.py",
            "from perftest.store import write  # noqa: E402",
            "The admin reads stored runs",
        ),
        (
            "perftest/measure/load/locust_engine/driver.py",
            "import gevent  # noqa: E402",
            "Only the Locust engine's Locust-side modules import Locust or gevent",
        ),
        (
            "perftest/measure/session.py",
            "from perftest.measure.load.locust_engine import user  # noqa: E402",
            "Nobody else imports the Locust engine's Locust-side modules",
        ),
    ],
)
def test_an_import_across_a_layer_breaks_its_contract(tmp_path, module, line, contract):
    result = lint_imports(copy_with(tmp_path, module, line))
    assert result.returncode != 0
    # A contract with ignored imports says so after the word: "BROKEN (2 ignored imports)".
    broken = [row for row in result.stdout.splitlines() if " BROKEN" in row]
    assert any(row.startswith(contract) for row in broken), result.stdout
