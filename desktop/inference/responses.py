"""What comes back from the inference worker: plain frozen values, each carrying the request it
answers (`response.request is task.pending` tells a fresh answer from a stale one). Sent from the
worker thread to the GUI thread; their QImages own their pixels."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtGui import QImage

from core.damage_mask import DamageMask
from desktop.inference.requests import Analyze, Export, Picture, Remask, Render, Request
from desktop.problems import Problem


@dataclass(frozen=True, kw_only=True)
class Analyzed:
    """`request`'s analysis. For a Remask: the same faces, encoded for the new damage."""

    request: Analyze | Remask
    analysis: Any  # core.pipeline.Analysis
    seconds: float
    faces: Mapping[int, QImage] = field(default_factory=dict)  # index -> aligned original crop

    @property
    def remasked(self) -> bool:
        return isinstance(self.request, Remask)

    @property
    def mask(self) -> DamageMask | None:
        return self.request.mask


@dataclass(frozen=True, kw_only=True)
class Patch:
    """A rectangle of a render: `image` goes at (`x`, `y`) of the whole photo."""

    x: int
    y: int
    image: QImage


@dataclass(frozen=True, kw_only=True)
class Rendered:
    """The picture a Render (or a Remask) asked for. `fidelity`: the one it was computed at.

    Either the whole photo (`image`), or, for a Render with `patch`, only the faces' regions
    (`patches`, to lay over the render of the same analysis on screen: together they are the
    whole render)."""

    request: Render | Remask
    picture: Picture
    fidelity: float
    image: QImage | None  # the whole restored photo, or None: `patches`
    faces: Mapping[int, QImage]  # index -> restored face crop
    seconds: float
    finished_at: float  # time.time()
    patches: tuple[Patch, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Failed:
    request: Request
    problem: Problem


@dataclass(frozen=True, kw_only=True)
class Progressed:
    request: Analyze | Export
    text: str
    fraction: float


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
