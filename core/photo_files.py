"""Photo file names: which suffixes are photos, where an export goes, and finding photos in folders.

No decoding here: names only (`core.photo_io` reads and writes the files).
"""

from __future__ import annotations

import logging
import os
import re
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from core.errors import ImageWriteError

log = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]

READ_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".tif", ".tiff", ".bmp"}
)
WRITE_FORMATS = {  # name -> (Pillow's name, extension)
    "png": ("PNG", ".png"),
    "jpeg": ("JPEG", ".jpg"),
    "jpg": ("JPEG", ".jpg"),
    "webp": ("WEBP", ".webp"),
    "tiff": ("TIFF", ".tif"),
    "tif": ("TIFF", ".tif"),
}
WRITE_SUFFIXES = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".jpe": "JPEG",
    ".jfif": "JPEG",
    ".webp": "WEBP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
}


def output_path(
    source: PathLike, folder: PathLike | None = None, suffix: str = "_restored", format: str = "png"
) -> Path:
    """Where the restored `source` goes: `folder / (source's stem + suffix + the format's suffix)`.

    `folder` None means the source's own folder. `format` as for `write_photo` ("png", "jpeg",
    "webp", "tiff", ...). Raises `ImageWriteError` for an unknown format.
    """
    source = Path(source)
    name = format.lower().lstrip(".")
    if name not in WRITE_FORMATS:
        raise ImageWriteError(
            f"Unknown format '{format}' for '{source}' (use png, jpeg, webp or tiff)."
        )
    extension = WRITE_FORMATS[name][1]
    return (
        Path(folder if folder is not None else source.parent) / f"{source.stem}{suffix}{extension}"
    )


def next_free_path(path: PathLike) -> Path:
    """`path` if nothing is there, else the first free "name (2).ext", "name (3).ext", ...

    A name that already ends in " (n)" counts on from n. (Free when checked: `write_photo`
    without `overwrite` still refuses if another process takes the name meanwhile.)
    """
    path = Path(path)
    if not os.path.lexists(path):
        return path
    match = re.fullmatch(r"(.*) \((\d+)\)", path.stem)
    base, number = (match[1], int(match[2])) if match else (path.stem, 1)
    while True:
        number += 1
        candidate = path.with_name(f"{base} ({number}){path.suffix}")
        if not os.path.lexists(candidate):
            return candidate


def supported_extensions() -> tuple[str, ...]:
    """The file suffixes `read_photo` reads, lower case with the dot, sorted."""
    return tuple(sorted(READ_EXTENSIONS))


def is_image_path(path: PathLike) -> bool:
    """True when the name has a suffix `read_photo` reads (any case). Looks at the name only."""
    return Path(path).suffix.lower() in READ_EXTENSIONS


def iter_photos(paths: PathLike | Iterable[PathLike], recursive: bool = False) -> Iterator[Path]:
    """The photo files among `paths`, in a stable order, each once.

    - A folder gives its image files (by suffix), skipping hidden files and folders, sorted by
      name with numbers in numeric order ("2.jpg" before "10.jpg"); with `recursive`, then the
      photos of its subfolders, folder by folder in the same order (symlinked folders not followed).
    - Any other path is given back as it is, in the order given, even if missing or not an image:
      it was asked for by name, so `read_photo` reports what is wrong with it.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    seen: set[str] = set()
    for given in paths:
        path = Path(given)
        found = _scan_folder(path, recursive) if path.is_dir() else iter([path])
        for photo in found:
            key = os.path.normcase(os.path.abspath(photo))
            if key not in seen:
                seen.add(key)
                yield photo


def _scan_folder(folder: Path, recursive: bool) -> Iterator[Path]:
    try:
        with os.scandir(folder) as scan:
            entries = [entry for entry in scan if not _is_hidden(entry)]
    except OSError as error:
        log.warning("Cannot list the folder %s: %s", folder, error)
        return
    files: list[Path] = []
    folders: list[Path] = []
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                folders.append(Path(entry.path))
            elif entry.is_file() and is_image_path(entry.name):
                files.append(Path(entry.path))
        except OSError:
            continue
    yield from sorted(files, key=_natural_key)
    if recursive:
        for sub in sorted(folders, key=_natural_key):
            yield from _scan_folder(sub, recursive)


def _is_hidden(entry: os.DirEntry[str]) -> bool:
    if entry.name.startswith("."):
        return True
    if os.name != "nt":
        return False
    try:  # Windows marks hidden files with an attribute instead
        attributes = getattr(entry.stat(follow_symlinks=False), "st_file_attributes", 0)
    except OSError:
        return False
    return bool(attributes & getattr(stat, "FILE_ATTRIBUTE_HIDDEN", 0))


def _natural_key(path: Path) -> tuple[tuple[int | str, ...], str]:
    parts = re.split(r"(\d+)", path.name)  # text, number, text, ...: same types at each index
    key = tuple(int(p) if i % 2 else p.casefold() for i, p in enumerate(parts))
    return key, path.name
