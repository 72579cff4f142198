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

#: Each hook's setting, and the call perftest makes: the names of its positional arguments.
SEEDER = ("SEEDER", "users")
IDENTITY_HOOK = ("IDENTITY']['HOOK", "user")


def load_hook(path: str | None, hook: tuple[str, str]) -> Callable | None:
    """The callable at ``path`` (None for no hook), known to accept the call perftest makes."""
    if not path:
        return None
    key, argument = hook
    try:
        function = import_string(path)
    except ImportError as exc:
        raise ConfigError(f"PERFTEST[{key!r}] = {path!r} cannot be imported: {exc}.") from None
    if not callable(function):
        raise ConfigError(f"PERFTEST[{key!r}] = {path!r} is not a function.")
    try:
        inspect.signature(function).bind(object())
    except TypeError as exc:
        raise ConfigError(
            f"PERFTEST[{key!r}] = {path!r} must accept one argument ({argument}): {exc}."
        ) from None
    except ValueError:  # no signature to read (some builtins): the call itself will tell
        pass
    return function
