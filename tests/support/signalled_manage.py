"""``manage.py`` that sends its own process a signal at a chosen point of a run.

A test picks the phase a signal arrives in without sleeping and hoping: ``SIGNALS_ENV`` holds
a JSON list of ``{"at": "module:attribute", "call": N, "signal": "SIGINT", "when": "after"}``;
the N-th call of that function (or ``Class.method``), counted across threads, is wrapped so
that the process sends itself the signal just before or just after it. The signal is real
(``os.kill``): perftest's handlers see it exactly as they see a Ctrl-C or a ``kill``.

    python -m tests.support.signalled_manage perftest --endpoints 'Get Profile' ...
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import signal
import sys
import threading
from typing import Any

SIGNALS_ENV = "PERFTEST_TEST_SIGNALS"


def _signalling(function: Any, call: int, signum: signal.Signals, after: bool) -> Any:
    lock, calls = threading.Lock(), [0]

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with lock:
            calls[0] += 1
            mine = calls[0] == call
        if mine and not after:
            os.kill(os.getpid(), signum)
        result = function(*args, **kwargs)
        if mine and after:
            os.kill(os.getpid(), signum)
        return result

    return wrapper


def install(points: list[dict]) -> None:
    """Wrap each named function; several points may wrap the same one."""
    for point in points:
        module_name, _, name = point["at"].partition(":")
        owner: Any = importlib.import_module(module_name)
        *path, attribute = name.split(".")
        for part in path:
            owner = getattr(owner, part)
        wrapped = _signalling(
            getattr(owner, attribute),
            point.get("call", 1),
            signal.Signals[point["signal"]],
            point.get("when", "after") == "after",
        )
        setattr(owner, attribute, wrapped)


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thebot_settings.settings")
    import django

    django.setup()
    install(json.loads(os.environ.get(SIGNALS_ENV, "[]")))
    from django.core.management import execute_from_command_line

    execute_from_command_line(["manage.py", *sys.argv[1:]])
