"""Every report format by name, in one registry: ``--format`` and ``perftest_report`` read it.

A format is a module-level ``render(stored) -> str`` and a file extension; the file is
``run-<id>.<ext>``. The run's own report and ``perftest_report`` both write through ``write``,
so the two give the same bytes for the same run and format.
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable
from dataclasses import dataclass

from perftest.store.read import StoredRun

from . import html, json, junit, markdown


@dataclass(frozen=True)
class Format:
    name: str
    extension: str
    render: Callable[[StoredRun], str]

    def file_name(self, stored: StoredRun) -> str:
        return f"run-{stored.pk}.{self.extension}"


#: The known formats by the name ``--format`` takes, in the order they are written.
FORMATS: dict[str, Format] = {
    "md": Format("md", "md", markdown.render),
    "json": Format("json", "json", json.render),
    "junit": Format("junit", "xml", junit.render),
    "html": Format("html", "html", html.render),
}

DEFAULT = "md"


class UnknownFormat(ValueError):
    """A ``--format`` value names no registered format."""


def parse(text: str | None) -> tuple[Format, ...]:
    """``md,json`` as formats, each once, in the order given; ``UnknownFormat`` names the
    known ones when a name is not one of them (or when none is given)."""
    names = [name.strip().lower() for name in (text or DEFAULT).split(",") if name.strip()]
    unknown = [name for name in names if name not in FORMATS]
    if unknown or not names:
        raise UnknownFormat(
            f"Unknown report format {', '.join(map(repr, unknown)) or repr(text)}: "
            f"--format takes a comma-separated list of {', '.join(FORMATS)}."
        )
    return tuple(FORMATS[name] for name in dict.fromkeys(names))


def write(stored: StoredRun, report: Format, output_dir: str | pathlib.Path) -> pathlib.Path:
    """Write ``run-<id>.<ext>`` into ``output_dir`` (created if missing); OSError propagates."""
    folder = pathlib.Path(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / report.file_name(stored)
    path.write_text(report.render(stored), encoding="utf-8")
    return path
