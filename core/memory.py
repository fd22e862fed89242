"""Process-wide memory settings for the programs that run the network (no torch import here).

`keep_freed_memory` is meant for start-up code (the window, the command line): importing this
module is cheap and changes nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

log = logging.getLogger(__name__)

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3


def keep_freed_memory(largest_block: int = 1 << 30, keep: int = 1 << 30) -> bool:
    """Ask glibc's malloc to reuse freed memory instead of returning it to the system.

    By default glibc maps every block above 32 MB afresh and unmaps it when freed, so each of
    the network's large feature maps costs page faults and zeroing on every pass (hundreds of
    thousands of faults per face here). With blocks up to `largest_block` bytes kept in the heap,
    and up to `keep` bytes of free memory kept before trimming, a pass reuses the previous one's
    pages. Affects the whole process: call it once at start-up (the window, the command line),
    never from a library function. Returns True when applied (Linux with glibc), else False.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    ok = mallopt(M_MMAP_THRESHOLD, largest_block) == 1
    ok = mallopt(M_TRIM_THRESHOLD, keep) == 1 and ok
    log.info("malloc keeps freed memory for reuse: %s", ok)
    return ok
