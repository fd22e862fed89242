"""Writing a file atomically: a hidden temporary file in the same folder, then a rename.

Readers never see a half-written file, a failed write leaves nothing behind, and without
`overwrite` an existing file is never replaced (a hard link makes that check atomic).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import struct
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from core.errors import ImageWriteError


def same_file(a: Path, b: Path) -> bool:
    """True when `a` and `b` name the same file (links and `..` included)."""
    with contextlib.suppress(OSError):
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    return os.path.normcase(a.resolve()) == os.path.normcase(b.resolve())


def write_atomically(path: Path, encode: Callable[[BinaryIO], None], *, overwrite: bool) -> None:
    """Encode into a hidden temporary file next to `path`, then move it into place."""
    temporary, descriptor = _create_temporary(path)
    try:
        with os.fdopen(descriptor, "wb") as fp:
            encode(fp)
            fp.flush()
            os.fsync(fp.fileno())
        if overwrite:
            os.replace(temporary, path)
        else:
            _move_without_overwriting(temporary, path)
    except ImageWriteError:
        _remove_quietly(temporary)
        raise
    except (OSError, ValueError, KeyError, struct.error, MemoryError) as error:
        _remove_quietly(temporary)
        raise ImageWriteError(f"Cannot write '{path}': {error}") from error
    except BaseException:
        _remove_quietly(temporary)
        raise


def _create_temporary(path: Path) -> tuple[Path, int]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            return temporary, os.open(temporary, flags, 0o666)  # the umask applies as usual
        except FileExistsError:
            continue
        except OSError as error:
            raise ImageWriteError(
                f"Cannot write '{path}': {error.strerror or error} in '{path.parent}'."
            ) from error
    raise ImageWriteError(f"Cannot write '{path}': no free temporary name in '{path.parent}'.")


def _move_without_overwriting(temporary: Path, path: Path) -> None:
    """Rename `temporary` to `path` unless `path` exists (a hard link makes that check atomic)."""
    try:
        os.link(temporary, path)
    except FileExistsError:
        raise ImageWriteError(
            f"Cannot write '{path}': the file already exists (choose another name, or allow "
            "overwriting)."
        ) from None
    except OSError:  # no hard links on this file system: check, then rename
        if os.path.lexists(path):
            raise ImageWriteError(f"Cannot write '{path}': the file already exists.") from None
        os.replace(temporary, path)
        return
    os.unlink(temporary)


def _remove_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
