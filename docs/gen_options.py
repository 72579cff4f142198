"""Writes docs/reference/options.md from the perftest commands' own argparse parsers.

The options reference is generated so that it cannot drift from the code: each command is
found the way ``manage.py`` finds it (``load_command_class``), wherever its module lives, and
every option it adds is listed with its argument, help text and default. Django's own options
(``--settings``, ``--verbosity``...) are left out. ``tests/test_docs.py`` fails while the
committed page differs from what this script writes.

Run from the repository's root: ``python docs/gen_options.py``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "reference" / "options.md"
COMMANDS = ("perftest", "perftest_report", "perftest_runs", "perftest_worker")
REGENERATE = "python docs/gen_options.py"


def _django_dests() -> set[str]:
    """What every management command's parser has before the command adds its own."""
    from django.core.management.base import BaseCommand

    return {action.dest for action in BaseCommand().create_parser("manage.py", "x")._actions}


def _argument(action: argparse.Action) -> str:
    """The option as typed: ``--mode in-process|http|both``, ``--profile [N]``, ``run_id``."""
    if not action.option_strings:
        return action.metavar or action.dest
    flag = ", ".join(action.option_strings)
    if action.nargs == 0:
        return flag
    if action.choices is not None:
        value = "|".join(str(choice) for choice in action.choices)
    else:
        value = action.metavar or action.dest.upper()
    return f"{flag} [{value}]" if action.nargs == "?" else f"{flag} {value}"


def _help(action: argparse.Action, prog: str) -> str:
    """The help text with argparse's own ``%(...)s`` expansion, as ``--help`` prints it."""
    params = {k: v for k, v in vars(action).items() if v is not argparse.SUPPRESS}
    params["prog"] = prog
    if params.get("choices") is not None:
        params["choices"] = ", ".join(str(choice) for choice in params["choices"])
    return " ".join(((action.help or "") % params).split())


def _option_line(action: argparse.Action, prog: str) -> str:
    text = _help(action, prog)
    line = f"- `{_argument(action)}`: {text}".rstrip(": ")
    extras = []
    if action.required and action.option_strings:
        extras.append("required")
    if action.default not in (None, False, "", [], argparse.SUPPRESS) and "default" not in text:
        extras.append(f"default `{action.default}`")
    return line + (f" ({'; '.join(extras)})" if extras else "")


def _group_title(group: argparse._ArgumentGroup) -> str:
    if group.title in ("options", "optional arguments"):
        return "General"
    if group.title == "positional arguments":
        return "Arguments"
    return (group.title or "")[:1].upper() + (group.title or "")[1:]


def command_section(name: str) -> list[str]:
    """One command's options, group by group, in the order its parser adds them."""
    from django.core.management import load_command_class

    command = load_command_class("perftest", name)
    parser = command.create_parser("manage.py", name)
    django = _django_dests()
    lines = [f"## `manage.py {name}`", "", command.help, ""]
    for group in parser._action_groups:
        actions = [a for a in group._group_actions if a.dest not in django]
        if not actions:
            continue
        lines += [f"### {_group_title(group)}", ""]
        lines += [_option_line(action, parser.prog) for action in actions]
        lines.append("")
    return lines


def render() -> str:
    """The whole page, as it must be committed."""
    lines = [
        "# Options reference",
        "",
        f"<!-- Generated from the commands' parsers by `{REGENERATE}`: do not edit. -->",
        "",
        "Every option of perftest's commands, as their own parsers define them (what `--help`",
        "prints). Ranges, defaults from `PERFTEST` and what each option does in detail are in",
        "[Command options](../options.md) and [Stored runs](../stored-runs.md). Django's common",
        "options (`--settings`, `--verbosity`, `--traceback`...) are left out.",
        "",
    ]
    for name in COMMANDS:
        lines += command_section(name)
    return "\n".join(lines).rstrip("\n") + "\n"


def main() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thebot_settings.settings")
    import django

    django.setup()
    PAGE.parent.mkdir(parents=True, exist_ok=True)
    PAGE.write_text(render(), encoding="utf-8")
    print(f"wrote {PAGE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
