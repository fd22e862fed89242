"""Whether some bytes are a catalogue file: its size, its published SHA-256, or the recorded one.

Shared by downloads (checking the `.part` before it is renamed) and the store (checking files on
disk and files being imported).
"""

from __future__ import annotations

from pathlib import Path

from core.weights.catalogue import WeightsFile
from core.weights.hashing import Fingerprint
from core.weights.records import record_path, recorded_sha256, write_record


def size_mismatch(entry: WeightsFile, size: int) -> str | None:
    """Why `size` bytes cannot be `entry`'s file, or None when the size fits (or is unknown)."""
    if entry.size is not None and size != entry.size:
        return f"it has {size:,} bytes, expected {entry.size:,}"
    return None


def mismatch(entry: WeightsFile, folder: Path, found: Fingerprint) -> str | None:
    """Why these bytes are not `entry`'s file, or None when they are.

    Checks the size when known, then the published hash, else the published hash fragments,
    else the hash recorded in `folder` at first use (when there is one).
    """
    problem = size_mismatch(entry, found.size)
    if problem:
        return problem
    if entry.sha256 is not None:
        if found.sha256 != entry.sha256:
            return f"its SHA-256 is {found.sha256}, the published one is {entry.sha256}"
        return None
    if entry.sha256_partial is not None:
        start, end = entry.sha256_partial
        if not (found.sha256.startswith(start) and found.sha256.endswith(end)):
            return (
                f"its SHA-256 is {found.sha256}; the published one starts with {start} "
                f"and ends with {end}"
            )
    recorded = recorded_sha256(folder, entry.filename)
    if recorded is not None and found.sha256 != recorded:
        return (
            f"its SHA-256 is {found.sha256}, but {recorded} was recorded for the first copy "
            f"({record_path(folder, entry.filename)}); if the publisher really changed the file, "
            "delete that record and try again"
        )
    return None


def needs_record(entry: WeightsFile, folder: Path) -> bool:
    """True when `entry` has no published hash and none is recorded in `folder` yet."""
    return entry.sha256 is None and recorded_sha256(folder, entry.filename) is None


def trust_first_use(entry: WeightsFile, folder: Path, found: Fingerprint) -> Path | None:
    """Record the hash of a first copy of a file without a published hash; return the record.

    Does nothing (returns None) when a hash is published or already recorded. Call only after
    `mismatch` returned None.
    """
    if not needs_record(entry, folder):
        return None
    return write_record(folder, entry.filename, found.sha256)


__all__ = ["mismatch", "needs_record", "size_mismatch", "trust_first_use"]
