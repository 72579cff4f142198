"""A soak's checkpoints give the memory they freed back to the operating system."""

from __future__ import annotations

import ctypes.util

import psutil
import pytest

from perftest.measure.heap import give_back_freed_memory

#: Freed in 8 KB blocks: well under malloc's mmap threshold, so they live in the heap.
BLOCK = 8 * 1024
FREED_MB = 160


@pytest.mark.skipif(ctypes.util.find_library("c") is None, reason="glibc's malloc_trim only")
def test_memory_freed_in_the_heap_leaves_the_process_rss_when_given_back():
    process = psutil.Process()
    blocks = [bytearray(BLOCK) for _ in range(FREED_MB * 2**20 // BLOCK)]
    kept = bytearray(BLOCK)  # allocated last: the heap's top stays in use, so free()
    del blocks  # alone cannot shrink it, and every freed page stays in the RSS
    before = process.memory_info().rss

    give_back_freed_memory()

    given_back = before - process.memory_info().rss
    assert given_back > FREED_MB * 2**20 / 2, f"{given_back / 2**20:.1f} MB given back"
    assert len(kept) == BLOCK
