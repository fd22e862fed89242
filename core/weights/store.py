"""The weights folder's contents: finding, checking, requiring and importing catalogue files.

Nothing here touches the network. Checks of CodeFormer files import `core.checkpoint` (and so
torch) only inside `import_file`, when they run.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from core.errors import CheckpointError, WeightsMissingError
from core.weights.catalogue import CATALOGUE, WeightsFile
from core.weights.hashing import CHUNK, Cancel, Fingerprint, Progress, fingerprint
from core.weights.verification import mismatch, size_mismatch, trust_first_use

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class WeightsStatus:
    """What the weights folder holds for one catalogue entry.

    `path` is the file when `present`, else None. `size_ok` is False when the file is there with
    the wrong size. `verified` is None unless hashes were checked (`status(check_hashes=True)`);
    then `problem` says why a present file does not verify.
    """

    entry: WeightsFile
    path: Path | None
    present: bool
    size_ok: bool
    verified: bool | None
    problem: str | None = None


def find(entry: WeightsFile, folder: str | Path) -> Path | None:
    """`folder / entry.filename` when it is a file of the right size (or size unknown), else None.

    Cheap: compares sizes only. Use `verify` to check the bytes.
    """
    path = Path(folder) / entry.filename
    if path.is_file() and size_mismatch(entry, path.stat().st_size) is None:
        return path
    return None


def status(
    folder: str | Path,
    entries: Iterable[WeightsFile] = CATALOGUE,
    *,
    check_hashes: bool = False,
) -> list[WeightsStatus]:
    """The state of each entry in `folder`, in catalogue order.

    With `check_hashes` every present file is read and hashed (seconds per file).
    """
    folder = Path(folder)
    result = []
    for entry in entries:
        path = folder / entry.filename
        if not path.is_file():
            result.append(
                WeightsStatus(entry=entry, path=None, present=False, size_ok=False, verified=None)
            )
            continue
        size_problem = size_mismatch(entry, path.stat().st_size)
        problem = size_problem
        verified: bool | None = None
        if check_hashes:
            try:
                verify(path, entry, folder=folder)
                verified = True
            except CheckpointError as exc:
                verified, problem = False, str(exc)
        elif problem is not None:
            verified = False
        result.append(
            WeightsStatus(
                entry=entry,
                path=path,
                present=True,
                size_ok=size_problem is None,
                verified=verified,
                problem=problem,
            )
        )
    return result


def verify(
    path: str | Path,
    entry: WeightsFile,
    *,
    folder: str | Path | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> Fingerprint:
    """Check that `path` holds `entry`'s bytes; return its size and SHA-256.

    Compares the size (when known) and the published SHA-256; for files without one, the
    published fragments and the hash recorded at first use in `folder` (default: the file's own
    folder). A file without any published or recorded hash passes on its size alone. Records
    nothing. Raises CheckpointError naming the file and what differs.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file")
    found = fingerprint(path, progress=progress, cancel=cancel)
    problem = mismatch(entry, Path(folder) if folder is not None else path.parent, found)
    if problem:
        raise CheckpointError(f"{path} does not verify as {entry.filename}: {problem}")
    return found


def require(entry: WeightsFile, folder: str | Path) -> Path:
    """The path of `entry` in `folder`, or WeightsMissingError saying how to get it.

    Cheap (sizes only, no hashing). The message names the file, its size, the folder, the
    command that fetches it and its licence when that is non-commercial.
    """
    folder = Path(folder)
    path = find(entry, folder)
    if path is not None:
        return path
    fetch = (
        f"Fetch it with `codeformer-studio weights download {entry.key}`, or download "
        f"{entry.url} by hand and import it with `codeformer-studio weights import "
        f"{entry.key} FILE` (or put it in that folder)."
    )
    licence = f" Licence: {entry.licence}." if entry.non_commercial else ""
    existing = folder / entry.filename
    if existing.is_file():
        problem = size_mismatch(entry, existing.stat().st_size)
        raise WeightsMissingError(
            f"{existing} cannot be used: {problem} (an interrupted copy?). {fetch}{licence}"
        )
    raise WeightsMissingError(
        f"{entry.filename} ({entry.purpose}, {entry.size_text}) is not in the weights folder "
        f"{folder}. {fetch}{licence}"
    )


def import_file(
    source: str | Path,
    entry: WeightsFile,
    folder: str | Path,
    *,
    link: bool = False,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> Path:
    """Check a file the user already has and put it in `folder` as `entry.filename`.

    The file must verify like a download (size, hash or the recorded hash); a CodeFormer file
    must also load as the entry's variant. It is then copied (through a temporary file and
    `os.replace`, hashed again while copying) or, with `link`, hard-linked (symlinked where
    hard links are impossible). A file without a published hash has its hash recorded.
    Raises CheckpointError naming the file; nothing is written when it does not verify.
    """
    source = Path(source)
    folder = Path(folder)
    if not source.is_file():
        raise CheckpointError(f"{source}: no such file")
    found = fingerprint(source, progress=progress, cancel=cancel)
    problem = mismatch(entry, folder, found)
    if problem:
        raise CheckpointError(
            f"{source} was not imported: it is not {entry.filename} ({entry.purpose}): {problem}"
        )
    if entry.kind == "codeformer":
        _check_variant(source, entry)
    final = folder / entry.filename
    if final.is_file() and os.path.samefile(source, final):
        trust_first_use(entry, folder, found)
        return final
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CheckpointError(f"cannot create the weights folder {folder}: {exc}") from exc
    temp = folder / f".{entry.filename}.import"
    temp.unlink(missing_ok=True)
    try:
        if link:
            _link(source, temp)
        else:
            _copy_checked(source, temp, found)
        os.replace(temp, final)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise CheckpointError(f"cannot import {source} into {folder}: {exc}") from exc
    except CheckpointError:
        temp.unlink(missing_ok=True)
        raise
    trust_first_use(entry, folder, found)
    log.info("imported %s as %s (%s)", source, final, "link" if link else "copy")
    return final


def _check_variant(source: Path, entry: WeightsFile) -> None:
    from core.checkpoint import inspect_checkpoint  # torch loads here, not at import

    try:
        info = inspect_checkpoint(source)
    except CheckpointError as exc:
        raise CheckpointError(f"not imported as {entry.filename}: {exc}") from exc
    if info.variant.name != entry.variant:
        raise CheckpointError(
            f"{source} was not imported: it is a CodeFormer {info.variant.name} checkpoint, "
            f"not the {entry.variant} one ({entry.filename})"
        )


def _copy_checked(source: Path, target: Path, expected: Fingerprint) -> None:
    hasher = hashlib.sha256()
    with source.open("rb") as src, target.open("wb") as dst:
        while chunk := src.read(CHUNK):
            hasher.update(chunk)
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    if hasher.hexdigest() != expected.sha256:
        raise CheckpointError(f"{source} was not imported: it changed while it was being copied")


def _link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        log.info("cannot hard-link %s (another file system?); making a symbolic link", source)
        os.symlink(source.resolve(), target)


__all__ = ["WeightsStatus", "find", "import_file", "require", "status", "verify"]
