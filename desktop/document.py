"""One open photo as the window sees it. Lives in the GUI thread only."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtGui import QImage

from desktop.jobs import FaceOptions
from desktop.problems import Problem


class Status(enum.Enum):
    LOADING = "loading"
    QUEUED = "queued"
    ANALYSING = "analysing"
    READY = "ready"
    FAILED = "failed"
    NEEDS_WEIGHTS = "needs weights"

    @property
    def label(self) -> str:
        return {
            Status.LOADING: "Opening…",
            Status.QUEUED: "Queued",
            Status.ANALYSING: "Analysing…",
            Status.READY: "Ready",
            Status.FAILED: "Failed",
            Status.NEEDS_WEIGHTS: "Needs weights",
        }[self]


@dataclass(eq=False)
class PhotoDocument:
    """A photo in the filmstrip: its pixels once read, its analysis once done, its last result."""

    doc_id: int
    name: str
    path: Path | None = None  # None for a pasted image
    status: Status = Status.LOADING
    problem: Problem | None = None
    progress: float = 0.0
    progress_text: str = ""
    photo: Any = None  # core.photo.Photo
    thumbnail: QImage | None = None
    original: QImage | None = None  # the whole photo, 8-bit
    analysis: Any = None  # core.pipeline.Analysis
    analysis_generation: int = 0
    analysis_seconds: float = 0.0
    face_options: dict[int, FaceOptions] = field(default_factory=dict)
    face_images: dict[int, QImage] = field(default_factory=dict)  # aligned original crops
    # The newest render asked for, and the one on screen (stays until a newer one arrives).
    render_generation: int = 0
    result: QImage | None = None
    result_generation: int = 0
    result_fidelity: float | None = None
    result_faces: dict[int, QImage] = field(default_factory=dict)
    result_seconds: float = 0.0
    result_finished_at: float = 0.0
    result_key: tuple[Any, ...] | None = None
    requested_key: tuple[Any, ...] | None = None

    @property
    def render_pending(self) -> bool:
        return self.render_generation > self.result_generation

    @property
    def faces(self) -> tuple[Any, ...]:
        return tuple(self.analysis.faces) if self.analysis is not None else ()

    @property
    def upscale(self) -> int:
        return int(getattr(self.analysis, "upscale", 1)) if self.analysis is not None else 1

    @property
    def stem(self) -> str:
        return self.path.stem if self.path is not None else self.name
