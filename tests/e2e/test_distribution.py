"""What ``pip install perftest`` puts into a host's environment: the app, and nothing else.

The wheel is built from this checkout as pip builds it. The repository's Django project
(``thebot_settings``: the embedded default and THE_BOT's stand-in) must not be in it: on a
platform's path it would shadow nothing, yet a ``thebot_settings.wsgi`` there would serve the
stand-in instead of the platform.
"""

from __future__ import annotations

import email
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_wheel_holds_the_app_with_its_templates_and_migrations_only(tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("perftest-*.whl")
    names = zipfile.ZipFile(wheel).namelist()

    top_level = {name.split("/", 1)[0] for name in names}
    assert {t for t in top_level if not t.endswith(".dist-info")} == {"perftest"}
    assert "perftest/templates/perftest/report.html" in names
    assert "perftest/schemas/report.schema.json" in names
    shipped = {Path(name).name for name in names if name.startswith("perftest/migrations/")}
    in_repo = {path.name for path in (REPO / "perftest" / "migrations").glob("*.py")}
    assert shipped == in_repo

    (metadata,) = [name for name in names if name.endswith(".dist-info/METADATA")]
    requires = email.message_from_bytes(zipfile.ZipFile(wheel).read(metadata)).get_all(
        "Requires-Dist"
    )
    always = {r.split(">")[0].split("[")[0].strip() for r in requires if "extra ==" not in r}
    assert "dj-database-url" not in always  # only the repository's own project needs it
    assert {"django", "djangorestframework"} <= always
