"""What the window asks the inference worker for, and what comes back. Plain frozen values.

Nothing here imports torch or core.pipeline: the worker thread turns these into core types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtGui import QImage

from core.damage_mask import DamageMask
from core.photo import Photo
from desktop.problems import Problem


@dataclass(frozen=True, kw_only=True)
class FaceOptions:
    """One face's choices: restore it or not; its own fidelity, or None to follow the global one."""

    enabled: bool = True
    fidelity: float | None = None


@dataclass(frozen=True, kw_only=True)
class ExportTarget:
    """One photo of an export: where to, how, and what to render."""

    doc_id: int
    name: str
    path: Path  # the file to write
    source: Path | None = None  # read from here when `photo` is None
    photo: Photo | None = None
    analysis: Any = None  # a core Analysis, or None to analyse first
    fidelity: float | None = 0.5  # None: the variant's fixed fidelity (Colorize, Inpaint)
    faces: Mapping[int, FaceOptions] = field(default_factory=dict)
    pipeline: Mapping[str, Any] = field(default_factory=dict)  # used when analysing first
    variant: str = "restoration"
    mask: DamageMask | None = None  # inpainting: the damage, used when analysing first
    format: str | None = None  # Pillow's name ("JPEG", "PNG", "WEBP", "TIFF"); None: from suffix
    quality: int = 95
    keep_metadata: bool = True
    overwrite: bool = False
    exact: bool = True  # render in full precision (fp32), whatever the preview uses


# -- results (sent from the worker thread to the GUI thread) ---------------------------------


@dataclass(frozen=True, kw_only=True)
class AnalysisDone:
    doc_id: int
    generation: int
    analysis: Any  # core.pipeline.Analysis
    seconds: float
    faces: Mapping[int, QImage] = field(default_factory=dict)  # index -> aligned original crop
    variant: str = "restoration"
    # True when only the damage changed (Inpaint): the same faces, encoded for the new mask.
    remasked: bool = False
    mask: DamageMask | None = None  # Inpaint: the damage the faces were encoded for


@dataclass(frozen=True, kw_only=True)
class RenderDone:
    doc_id: int
    generation: int
    fidelity: float
    image: QImage  # the whole restored photo
    faces: Mapping[int, QImage]  # index -> restored face crop
    seconds: float
    finished_at: float  # time.time()
    variant: str = "restoration"


@dataclass(frozen=True, kw_only=True)
class JobFailed:
    doc_id: int | None
    generation: int
    kind: str  # "analyze", "render", "mask", "export", "engine"
    problem: Problem
    variant: str = "restoration"


@dataclass(frozen=True, kw_only=True)
class Progress:
    doc_id: int | None
    generation: int
    text: str
    fraction: float
    variant: str = "restoration"


@dataclass(frozen=True, kw_only=True)
class WeightsNeeded:
    """The engine cannot run `variant` with these settings until `files` are installed."""

    variant: str
    files: tuple[Any, ...]  # core.weights.WeightsFile
    doc_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class ExportStep:
    """One photo of an export batch is done (written, or failed with `problem`)."""

    batch: int
    doc_id: int
    name: str
    done: int
    total: int
    path: Path | None = None
    problem: Problem | None = None


@dataclass(frozen=True, kw_only=True)
class ExportFinished:
    batch: int
    written: tuple[Path, ...]
    failed: tuple[tuple[str, Problem], ...]
    cancelled: bool
