"""One open photo as the window sees it. Lives in the GUI thread only.

A photo is worked on by one task at a time (Restore, Colorize or Inpaint: `PhotoDocument.mode`),
and keeps what each task did in its own `TaskState`: the analysis for that task's variant, the
face choices and the last result. Switching tasks and back shows the earlier result again without
analysing anything. The damage painted for Inpaint (`PhotoDocument.damage`) belongs to the photo.

The result properties of `PhotoDocument` (`analysis`, `result`, `status`...) read the state of the
task on screen; the session writes through `doc.task_for(mode)`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtGui import QImage

from core.choices import FaceChoice
from core.damage_mask import DamageMask
from desktop.inference.requests import Analyze, Picture, Remask, Render
from desktop.inference.responses import Patch
from desktop.problems import Problem
from desktop.task_mode import TaskMode


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
class TaskState:
    """What one task did to a photo: its analysis (for the task's variant), the face choices,
    the newest render asked for and the one on screen (which stays until a newer one arrives)."""

    status: Status = Status.QUEUED
    problem: Problem | None = None
    progress: float = 0.0
    progress_text: str = ""
    analysis: Any = None  # core.pipeline.Analysis
    analysis_request: Analyze | None = None  # what made `analysis` (or is making it)
    analysis_seconds: float = 0.0
    analysis_damage: DamageMask | None = None  # Inpaint: the damage `analysis` is encoded for
    # The analysis was dropped to keep memory within the session's budget (the result, face
    # choices and face crops stay); it is made again when the task is on screen.
    set_aside: bool = False
    face_count: int = 0  # faces the analysis found (also while it is set aside)
    shown_at: int = 0  # when the task was last on screen (the session's clock; 0 = never)
    notices_shown: bool = False  # the analysis' notices were shown (not again when made again)
    mask_request: Remask | None = None  # Inpaint: the newest damage sent to the worker
    face_options: dict[int, FaceChoice] = field(default_factory=dict)
    face_images: dict[int, QImage] = field(default_factory=dict)  # aligned original crops
    # The render waited for (its response alone is shown), and what the result on screen shows.
    pending: Render | Remask | None = None
    result_picture: Picture | None = None
    result: QImage | None = None
    # laid over `result`: the faces' regions of a newer render of the same analysis (so that
    # `result` with them is that render; see `Render.patch`)
    result_patches: tuple[Patch, ...] = ()
    result_fidelity: float | None = None
    result_faces: dict[int, QImage] = field(default_factory=dict)
    result_seconds: float = 0.0
    result_finished_at: float = 0.0

    @property
    def render_pending(self) -> bool:
        return self.pending is not None

    @property
    def started(self) -> bool:
        """An analysis was asked for (it may be queued, running, done or failed)."""
        return self.analysis_request is not None


def _task_states() -> dict[TaskMode, TaskState]:
    return {mode: TaskState() for mode in TaskMode}


@dataclass(eq=False)
class PhotoDocument:
    """A photo in the filmstrip: its pixels once read, the task chosen for it, what each task did,
    and the damage painted on it."""

    doc_id: int
    name: str
    path: Path | None = None  # None for a pasted image
    load_status: Status = Status.LOADING  # LOADING, then READY once read, or FAILED
    load_problem: Problem | None = None
    photo: Any = None  # core.photo.Photo
    thumbnail: QImage | None = None
    original: QImage | None = None  # the whole photo, 8-bit
    mode: TaskMode = TaskMode.RESTORE
    tasks: dict[TaskMode, TaskState] = field(default_factory=_task_states)
    damage: DamageMask | None = None  # Inpaint: what is painted, in photo pixels (set on load)

    # -- the task on screen -----------------------------------------------------------------

    @property
    def task(self) -> TaskState:
        return self.tasks[self.mode]

    def task_for(self, mode: TaskMode) -> TaskState:
        return self.tasks[mode]

    @property
    def loaded(self) -> bool:
        return self.photo is not None and self.load_status is Status.READY

    @property
    def status(self) -> Status:
        """Opening or unreadable (the photo), else the status of the task on screen."""
        return self.task.status if self.loaded else self.load_status

    @property
    def problem(self) -> Problem | None:
        return self.task.problem if self.loaded else self.load_problem

    @property
    def progress(self) -> float:
        return self.task.progress

    @property
    def progress_text(self) -> str:
        return self.task.progress_text

    @property
    def analysis(self) -> Any:
        return self.task.analysis

    @property
    def analysis_seconds(self) -> float:
        return self.task.analysis_seconds

    @property
    def face_options(self) -> dict[int, FaceChoice]:
        return self.task.face_options

    @property
    def face_images(self) -> dict[int, QImage]:
        return self.task.face_images

    @property
    def result(self) -> QImage | None:
        return self.task.result

    @property
    def result_patches(self) -> tuple[Patch, ...]:
        return self.task.result_patches

    @property
    def result_fidelity(self) -> float | None:
        return self.task.result_fidelity

    @property
    def result_faces(self) -> dict[int, QImage]:
        return self.task.result_faces

    @property
    def result_seconds(self) -> float:
        return self.task.result_seconds

    @property
    def result_finished_at(self) -> float:
        return self.task.result_finished_at

    @property
    def render_pending(self) -> bool:
        return self.task.render_pending

    @property
    def faces(self) -> tuple[Any, ...]:
        return tuple(self.analysis.faces) if self.analysis is not None else ()

    @property
    def face_count(self) -> int:
        """Faces found by the task on screen (known while its analysis is set aside too)."""
        return len(self.analysis.faces) if self.analysis is not None else self.task.face_count

    @property
    def upscale(self) -> int:
        return int(getattr(self.analysis, "upscale", 1)) if self.analysis is not None else 1

    @property
    def stem(self) -> str:
        return self.path.stem if self.path is not None else self.name
