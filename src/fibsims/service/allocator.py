"""Keep freed array memory in the process rather than handing it back to the kernel each slice.

Why: a slice allocates and frees arrays of 1-15 MB many times (the twin's images, the slice
file's bytes, the writers' buffers). glibc's malloc serves blocks above its threshold (128 kB
at start, raised dynamically only to the largest block freed) with a fresh ``mmap`` and returns
them with ``munmap``, so every slice page-faults its arrays in anew: about a fifth of the
default run's CPU was kernel time, half of it these faults (issue 13, ``docs/performance.md``).
Raising the threshold to glibc's maximum and keeping up to 96 MB of freed heap makes the
pages stay mapped; the peak memory stays flat, bounded by the trim threshold.

The same as setting ``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_`` and
``MALLOC_TOP_PAD_`` before start, done from inside so every way of starting a run gets it.
Anywhere glibc is absent (macOS, Windows, musl) this does nothing.
"""

from __future__ import annotations

import ctypes
import sys

M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024
"""glibc's largest allowed threshold on 64-bit (``DEFAULT_MMAP_THRESHOLD_MAX``)."""
TRIM_THRESHOLD_BYTES = 96 * 1024 * 1024
TOP_PAD_BYTES = 16 * 1024 * 1024

_done = False


def keep_freed_memory() -> bool:
    """Set glibc's malloc for a long run of large arrays, once; whether it was set."""
    global _done
    if _done:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    settings = (
        (M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES),
        (M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES),
        (M_TOP_PAD, TOP_PAD_BYTES),
    )
    _done = all(mallopt(option, value) == 1 for option, value in settings)
    return _done
