"""SHA-256 of files in chunks, with progress and cancel, for checking weights files."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import DownloadCancelled

if TYPE_CHECKING:
    from hashlib import _Hash

CHUNK = 1 << 20

Progress = Callable[[int, "int | None"], None]
"""Called with (bytes done, total bytes or None when unknown)."""
Cancel = Callable[[], bool]
"""Returns True when the user asked to stop."""


@dataclass(frozen=True, kw_only=True)
class Fingerprint:
    """What identifies a file's bytes: its size and its SHA-256 (lower-case hex)."""

    size: int
    sha256: str


def update_from_file(
    hasher: _Hash,
    path: Path,
    *,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    total: int | None = None,
) -> int:
    """Feed the whole file at `path` to `hasher`; return the number of bytes read.

    Raises DownloadCancelled when `cancel()` turns true between chunks.
    """
    done = 0
    with path.open("rb") as handle:
        while True:
            if cancel is not None and cancel():
                raise DownloadCancelled(f"{path}: checking was cancelled")
            chunk = handle.read(CHUNK)
            if not chunk:
                return done
            hasher.update(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, total)


def fingerprint(
    path: str | Path, *, progress: Progress | None = None, cancel: Cancel | None = None
) -> Fingerprint:
    """Size and SHA-256 of a file (read in 1 MiB chunks)."""
    path = Path(path)
    hasher = hashlib.sha256()
    size = update_from_file(
        hasher, path, progress=progress, cancel=cancel, total=path.stat().st_size
    )
    return Fingerprint(size=size, sha256=hasher.hexdigest())


__all__ = ["Cancel", "Fingerprint", "Progress", "fingerprint", "update_from_file"]
