"""Where a rendered report goes: ``run-<id>.<suffix>`` in the output folder, for every format."""

from __future__ import annotations

import pathlib

from perftest.store.read import StoredRun


def write(
    stored: StoredRun, output_dir: str | pathlib.Path, suffix: str, text: str
) -> pathlib.Path:
    """Write ``text`` as ``run-<id>.<suffix>`` into ``output_dir`` (created if missing);
    OSError propagates."""
    folder = pathlib.Path(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"run-{stored.pk}.{suffix}"
    path.write_text(text, encoding="utf-8")
    return path
