"""What every perftest command shares about bad input: one line and exit code 2.

argparse prints its usage and the error on several lines; a CI log wants the one line that
says what to fix, as for every other usage error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from perftest.limits import Range


def usage_error(message: str) -> CommandError:
    return CommandError(message, returncode=2)


def ranged(allowed: Range) -> Callable[[str], int | float]:
    """argparse type for a number of ``allowed``'s kind; a text that is not one is refused
    naming the range (the range itself is checked with the plan, as for the settings')."""

    def parse(text: str) -> int | float:
        try:
            return allowed.parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


class Command(BaseCommand):
    """A command whose argument errors are one line and exit 2."""

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)

        def one_line_error(message: str) -> None:
            # Django parses argv outside its CommandError handling: print and exit here.
            if parser.called_from_command_line:
                self.stderr.write(f"CommandError: {message}")
                sys.exit(2)
            raise usage_error(message)

        parser.error = one_line_error  # one line and exit 2, not argparse's usage dump
        return parser
