"""The C allocator's threshold for giving large blocks their own memory mapping, set when the package is
imported (:func:`limit_heap_retention`).

glibc's malloc serves a block of at least ``M_MMAP_THRESHOLD`` bytes with its own ``mmap``, returned to the
system when freed; smaller blocks come from heaps that keep freed memory. The threshold starts at 128 KiB
but rises to the size of every mapped block freed (up to 32 MiB), so after the first decompressed landing
files are freed, the next ones (a few MB to 32 MB) and Python's large strings are served from the heaps,
and the process keeps their peak. A fixed threshold (1 MiB by default) keeps large blocks mapped: the
peak RSS of ``load_hour`` on an hour of 297k spans in 40 MB files went from 505 to 424-436 MB, at the
speed of the decode within noise (docs/tuning.md, "Issue 10, session 5"). polars allocates with its own
jemalloc, which this does not touch.
"""

from __future__ import annotations

import ctypes
import platform

from . import config

_M_MMAP_THRESHOLD = -3  # glibc <malloc.h>


def limit_heap_retention() -> bool:
    """Set glibc's ``M_MMAP_THRESHOLD`` to OBSERVATORY_MALLOC_MMAP_THRESHOLD bytes (``mallopt``; 0 leaves
    glibc's sliding threshold). Returns whether it was set: False on other C libraries (musl, macOS), when
    the variable is 0, or when ``mallopt`` refuses the value.

    Raises:
        ValueError: OBSERVATORY_MALLOC_MMAP_THRESHOLD is not an integer from 0 to 33554432 (glibc's maximum).
    """
    threshold = config.malloc_mmap_threshold()
    if not threshold or platform.libc_ver()[0] != "glibc":
        return False
    return bool(ctypes.CDLL(None).mallopt(_M_MMAP_THRESHOLD, threshold))
