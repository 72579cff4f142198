"""Test views whose memory a soak follows: one that leaks, one that only looks as if it might.

- ``leak``: keeps 50 KB per request in a module-level list that nothing ever empties, the
  shape of a real leak (a cache without a bound, a list of listeners never removed). A soak of
  it must find the leak, and in-process name this module's line that allocates.
- ``sawtooth``: holds 50 KB per request too, but drops everything it holds every ``EVERY``
  requests, as a cache with a size limit or a collected reference cycle does: its memory
  rises and falls around a flat level, which is not a leak.
"""

from __future__ import annotations

import inspect
import threading

from django.http import JsonResponse

#: What each request keeps.
KEPT_BYTES = 50 * 1024
#: The sawtooth lets go of what it holds every this many requests.
EVERY = 40

#: What ``leak`` has kept: never emptied while the process lives.
LEAKED: list[bytearray] = []
_HELD: list[bytearray] = []
_held_lock = threading.Lock()


def leak(request):
    """``/test/leak/``: keeps 50 KB more, for ever."""
    LEAKED.append(bytearray(KEPT_BYTES))
    return JsonResponse({"kept": len(LEAKED)})


def sawtooth(request):
    """``/test/sawtooth/``: holds 50 KB more, and lets go of all of it every ``EVERY``
    requests."""
    with _held_lock:
        if len(_HELD) >= EVERY:
            _HELD.clear()
        _HELD.append(bytearray(KEPT_BYTES))
        held = len(_HELD)
    return JsonResponse({"held": held})


def leaking_line() -> int:
    """The line of ``leak`` that allocates what it keeps: the line an in-process soak of it
    must name."""
    lines, first = inspect.getsourcelines(leak)
    return first + next(i for i, line in enumerate(lines) if "bytearray(KEPT_BYTES)" in line)
