"""Trust on first use: the SHA-256 of files whose publisher gives none, recorded beside them.

The record of `<filename>` is `<filename>.sha256` in the weights folder, in `sha256sum` format
(`<hex>  <filename>`), so `sha256sum -c` can check it too. One small file per weights file means
two downloads never race on a shared record.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from core.errors import CheckpointError

log = logging.getLogger(__name__)

SUFFIX = ".sha256"
_HEX64 = re.compile(r"[0-9a-f]{64}")


def record_path(folder: Path, filename: str) -> Path:
    """Where the recorded hash of `filename` lives."""
    return Path(folder) / (filename + SUFFIX)


def recorded_sha256(folder: Path, filename: str) -> str | None:
    """The hash recorded for `filename` in `folder`, or None when there is no record.

    Raises CheckpointError, naming the record, when it exists but cannot be read.
    """
    path = record_path(folder, filename)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read the recorded hash: {exc}") from exc
    fields = text.split()
    if not fields or not _HEX64.fullmatch(fields[0].lower()):
        raise CheckpointError(
            f"{path}: not a SHA-256 record; delete it and the file will be checked and "
            "recorded again at its next download"
        )
    return fields[0].lower()


def write_record(folder: Path, filename: str, sha256: str) -> Path:
    """Record `sha256` for `filename` (atomically: temp file then rename). Returns the record."""
    path = record_path(folder, filename)
    temp = path.with_name(path.name + ".tmp")
    temp.write_text(f"{sha256}  {filename}\n", encoding="utf-8")
    os.replace(temp, path)
    log.warning(
        "no SHA-256 is published for %s: recorded %s in %s (trust on first use)",
        filename,
        sha256,
        path,
    )
    return path


__all__ = ["SUFFIX", "record_path", "recorded_sha256", "write_record"]
