"""The manual keeps up with the code: the options reference is what the commands' parsers
say, the architecture names every package, and the README stays a front door."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def _generator():
    spec = importlib.util.spec_from_file_location("gen_options", DOCS / "gen_options.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_options_reference_is_what_the_commands_parsers_say():
    generator = _generator()
    committed = generator.PAGE.read_text(encoding="utf-8")
    assert committed == generator.render(), (
        f"{generator.PAGE.relative_to(ROOT)} differs from the commands' parsers: "
        f"run `{generator.REGENERATE}` and commit the page."
    )


def test_every_package_is_named_in_the_architecture():
    """Each directory of perftest/ with an ``__init__.py``, by path (``perftest/measure/load/``)
    or dotted name (``perftest.measure.load``)."""
    architecture = (DOCS / "architecture.md").read_text(encoding="utf-8")
    packages = sorted(
        init.parent.relative_to(ROOT) for init in ROOT.glob("perftest/**/__init__.py")
    )
    missing = [
        package.as_posix()
        for package in packages
        if f"{package.as_posix()}/" not in architecture
        and f"`{'.'.join(package.parts)}`" not in architecture
    ]
    assert not missing, f"docs/architecture.md does not name these packages: {missing}"


def test_the_readme_is_a_front_door():
    """At most 15 KB: the manual is in docs/."""
    assert (ROOT / "README.md").stat().st_size <= 15 * 1024


def test_the_readmes_links_lead_to_files():
    """The README is outside the MkDocs build, so its links are checked here."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme)
    broken = [t for t in targets if "://" not in t and not (ROOT / t).is_file()]
    assert targets and not broken, broken
