"""Freed memory handed back to the operating system, so a long soak's RSS stays flat.

Each checkpoint of a soak builds the level so far (an HdrHistogram of about 190 KB per
endpoint, their encodings, the rows written), stores it and drops it: nothing of it is kept.
Two things still kept its memory from the operating system, and perftest's RSS grew 9 % over
a 10-minute soak (``bench/soak_memory.py``) while the memory Python traced stayed flat:

- an ``hdrh`` histogram refers to itself (through its encoder), so a dropped one waits for the
  cyclic garbage collector, whose full pass may come minutes later: the checkpoint runs it
  when the level is dropped. A full pass over Django's objects takes about 50 ms, and every
  worker thread waits for it; so when the soak starts, the objects alive then (the project,
  its modules, the sequential pass) are set aside from collection (``gc.freeze``), and a
  checkpoint's pass walks only what the soak allocated since: a fraction of a millisecond;
- glibc's malloc keeps freed pages for later allocations rather than returning them:
  ``malloc_trim(0)`` returns them, as Dask's workers do for the same reason. Elsewhere than
  glibc there is nothing to call, and nothing is done.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):  # no glibc here: musl, macOS, Windows
        return None


def give_back_freed_memory() -> None:
    """Free what only cycles keep, then return the allocator's free pages to the operating
    system, where it is glibc's."""
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def set_long_lived_aside() -> None:
    """Collect once, then leave every object alive now out of later collections, until
    ``take_long_lived_back``: called before a soak's workers are released, so the pause is
    not measured."""
    gc.collect()
    gc.freeze()


def take_long_lived_back() -> None:
    """Put the objects set aside back under the garbage collector's care."""
    gc.unfreeze()
