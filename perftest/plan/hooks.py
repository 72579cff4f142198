"""The project's extension points (seeder, identity hook), imported and checked once.

A hook is called long after the run began (while seeding, inside a transaction), so a wrong
dotted path or a wrong signature is found here, before anything is written: the call the
seeding will make is bound against the hook's signature with ``inspect.signature().bind``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

from django.utils.module_loading import import_string

from perftest.conf import ConfigError

#: Each hook's setting as a user writes it, and the name of the one argument perftest passes.
#: The setting is spelled out whole: a key holding quotes (``IDENTITY']['HOOK``) put through
#: ``repr`` came out as ``PERFTEST["IDENTITY']['HOOK"]``.
SEEDER = ("PERFTEST['SEEDER']", "users")
IDENTITY_HOOK = ("PERFTEST['IDENTITY']['HOOK']", "user")


def load_hook(path: str | None, hook: tuple[str, str]) -> Callable | None:
    """The callable at ``path`` (None for no hook), known to accept the call perftest makes."""
    if not path:
        return None
    setting, argument = hook
    try:
        function = import_string(path)
    except ImportError as exc:
        raise ConfigError(f"{setting} = {path!r} cannot be imported: {exc}.") from None
    if not callable(function):
        raise ConfigError(f"{setting} = {path!r} is not a function.")
    try:
        inspect.signature(function).bind(object())
    except TypeError as exc:
        raise ConfigError(
            f"{setting} = {path!r} must accept one argument ({argument}): {exc}."
        ) from None
    except ValueError:  # no signature to read (some builtins): the call itself will tell
        pass
    return function
