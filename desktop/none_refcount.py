"""A guard against PySide6 6.12.0 on CPython 3.11: its bindings return None without taking a
reference, so every call of a void Qt method (`widget.update()`, `painter.rotate()`,
`label.setText()`...) lowers None's reference count by one. None starts near 5,000, so after a
minute of painting the interpreter aborts with "Fatal Python error: none_dealloc". PySide6 6.11
does not do this, and CPython 3.12+ makes None immortal, which hides it.

`protect_none()` measures the leak once; only when it is there does it raise None's reference
count far out of reach (what CPython 3.12 does for every immortal object). The real fix is a
PySide6 without the bug (pyproject excludes 6.12.0 on Python < 3.12).
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)

PROBE_CALLS = 64


def none_refcount_leaks() -> bool:
    """True when calling a void Qt method leaks a reference to None."""
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(PROBE_CALLS):
        probe.setObjectName("probe")
    return before - sys.getrefcount(None) >= PROBE_CALLS // 2


def protect_none() -> bool:
    """Make None's reference count unreachable by the leak, if this PySide6 leaks. Returns
    whether it was needed."""
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    if not none_refcount_leaks():
        return False
    refcount = ctypes.c_ssize_t.from_address(id(None))  # ob_refcnt, the first field of None
    refcount.value += 1 << (8 * ctypes.sizeof(ctypes.c_ssize_t) - 4)
    log.warning(
        "this PySide6 leaks references to None (PySide6 6.12.0 on Python %s.%s); None is kept "
        "alive to avoid a crash. Install another PySide6 version to remove this warning.",
        *sys.version_info[:2],
    )
    return True
