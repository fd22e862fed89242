"""The shapes of the progress and cancel callbacks that long-running core work accepts.

Torch-free, so every core module can share them without import cycles.
"""

from __future__ import annotations

from collections.abc import Callable

ProgressCallback = Callable[[str, float], None]
"""Called with (what is happening, fraction done in [0, 1])."""

CancelCheck = Callable[[], bool]
"""Returns True when the caller wants the work stopped (checked between faces and tiles)."""
