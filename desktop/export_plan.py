"""Where exported photos go and under which names (plain functions, no Qt).

The name pattern takes `{name}` (the original file name without extension), `{suffix}` (the
suffix setting, "_restored" by default), `{fidelity}` (e.g. "0.70": the fidelity the photo's
result is computed at) and `{index}` (1, 2, ...).
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "tiff": "TIFF"}
EXTENSIONS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "TIFF": ".tif"}
FIELDS = ("name", "suffix", "fidelity", "index")
LOSSY = ("JPEG", "WEBP")
_FORBIDDEN = '<>:"/\\|?*'


def output_format(setting: str, source_format: str | None) -> str:
    """The Pillow format to write: the setting's, or for "same" the source's when it can be
    written with its metadata (JPEG, PNG, WebP, TIFF), else PNG."""
    if setting != "same":
        return FORMATS[setting]
    source = (source_format or "").upper()
    return source if source in EXTENSIONS else "PNG"


def check_pattern(pattern: str) -> str | None:
    """None when the pattern is usable, else what is wrong with it (for the dialog)."""
    try:
        names = [f for _, f, _, _ in string.Formatter().parse(pattern) if f is not None]
    except ValueError as exc:
        return f"the pattern has an unmatched brace ({exc})"
    unknown = [n for n in names if n not in FIELDS]
    if unknown:
        return f"unknown field {{{unknown[0]}}}; use {', '.join('{' + f + '}' for f in FIELDS)}"
    if "name" not in names and "index" not in names:
        return "the pattern needs {name} or {index}, or every photo gets the same name"
    return None


def file_name(
    pattern: str, *, name: str, suffix: str, fidelity: float, index: int, fmt: str
) -> str:
    problem = check_pattern(pattern)
    if problem:
        raise ValueError(problem)
    stem = pattern.format(name=name, suffix=suffix, fidelity=f"{fidelity:.2f}", index=index)
    stem = "".join("_" if c in _FORBIDDEN or ord(c) < 32 else c for c in stem).strip(" .")
    return (stem or "photo") + EXTENSIONS[fmt]


@dataclass(frozen=True, kw_only=True)
class PlannedFile:
    doc_id: int
    path: Path
    format: str
    exists: bool  # a file is already there (the user must say what to do)
    clashes: bool  # another photo of the same export would get this name


@dataclass(frozen=True, kw_only=True)
class ExportSource:
    """A photo to export: its file stem, its original (None when pasted) and that file's
    format, and the fidelity its result is computed at (the `{fidelity}` of its name: the
    slider's for Restore, the task's fixed value for Colorize and Inpaint)."""

    doc_id: int
    stem: str
    source: Path | None
    source_format: str | None
    fidelity: float


def plan_exports(
    docs: Sequence[ExportSource],
    *,
    folder: Path | None,
    pattern: str,
    suffix: str,
    format_setting: str,
) -> list[PlannedFile]:
    """Where each photo goes. A None folder puts each file next to its original (pasted images
    need a folder)."""
    planned: list[PlannedFile] = []
    seen: dict[Path, int] = {}
    for index, doc in enumerate(docs, start=1):
        fmt = output_format(format_setting, doc.source_format)
        where = folder if folder is not None else (doc.source.parent if doc.source else None)
        if where is None:
            raise ValueError("a pasted image has no folder of its own: choose an output folder")
        name = file_name(
            pattern, name=doc.stem, suffix=suffix, fidelity=doc.fidelity, index=index, fmt=fmt
        )
        path = where / name
        key = Path(str(path).lower())
        seen[key] = seen.get(key, 0) + 1
        planned.append(
            PlannedFile(
                doc_id=doc.doc_id, path=path, format=fmt, exists=path.exists(), clashes=False
            )
        )
    return [
        PlannedFile(
            doc_id=p.doc_id,
            path=p.path,
            format=p.format,
            exists=p.exists,
            clashes=seen[Path(str(p.path).lower())] > 1,
        )
        for p in planned
    ]
