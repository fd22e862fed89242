"""What the window asks the inference worker for: plain frozen values (the answers are in
`desktop.inference.responses`).

A request is compared by identity: "is this response's request still the one I wait for" is how
the window drops stale results (`response.request is task.pending`). What a render shows is a
`Picture`, compared by value, so the window can tell that a picture is already on screen or on its
way. No torch and no Qt here: an import contract keeps them out (the worker thread turns these into
core calls).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from core.choices import FaceChoice, PipelineSettings
from core.damage_mask import DamageMask
from core.photo import Photo

RESTORATION, COLORIZATION, INPAINTING = "restoration", "colorization", "inpainting"
"""The variants of the network (a task's `TaskMode.variant`); the worker speaks only these."""


@dataclass(frozen=True, eq=False, kw_only=True)
class Picture:
    """What a render shows: an analysis (by identity) at a fidelity, with each face's choice.
    Compared by value (the analysis by identity).

    `fidelity`: quantised once (`core.choices.quantise_fidelity`), or None for the variant's
    fixed value (Colorize, Inpaint)."""

    analysis: Any  # core.pipeline.Analysis
    fidelity: float | None
    faces: Mapping[int, FaceChoice] = field(default_factory=dict)

    @property
    def variant(self) -> str:
        return str(getattr(self.analysis, "variant", RESTORATION))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Picture) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def _key(self) -> tuple[int, float | None, tuple[tuple[int, FaceChoice], ...]]:
        return (id(self.analysis), self.fidelity, tuple(sorted(self.faces.items())))

    def at(self, fidelity: float) -> Picture:
        """The same picture at another fidelity."""
        return replace(self, fidelity=fidelity)

    @property
    def cacheable(self) -> bool:
        """Only Restore previews are kept for the slider (the others have a fixed fidelity)."""
        return self.fidelity is not None and self.variant == RESTORATION

    def face_fidelities(self) -> dict[int, float]:
        """Each face this picture restores, with the fidelity it gets (its own, or the global
        one); only for a picture with a fidelity."""
        wanted: dict[int, float] = {}
        if self.fidelity is None:
            return wanted
        for face in getattr(self.analysis, "faces", ()):
            choice = self.faces.get(face.index, FaceChoice())
            if choice.enabled:
                wanted[face.index] = float(
                    self.fidelity if choice.fidelity is None else choice.fidelity
                )
        return wanted


# -- requests (compared by identity) -----------------------------------------------------------


@dataclass(frozen=True, eq=False, kw_only=True)
class CheckWeights:
    """Build the engine (loading torch in the worker thread) and say which files are missing."""

    pipeline: PipelineSettings
    variant: str = RESTORATION
    doc_id: int | None = None


@dataclass(frozen=True, eq=False, kw_only=True)
class Analyze:
    """Analyse a photo for a variant. `mask`: the damage for Inpaint (none painted when None:
    never the official "pure white is damage" rule)."""

    doc_id: int
    photo: Photo
    pipeline: PipelineSettings
    variant: str = RESTORATION
    mask: DamageMask | None = None


@dataclass(frozen=True, eq=False, kw_only=True)
class Render:
    """Show `picture` of a photo. `patch`: the window shows a render of the same analysis, so
    the faces' regions are all it needs (`core.rendering.render_regions`)."""

    doc_id: int
    picture: Picture
    patch: bool = False

    @property
    def variant(self) -> str:
        return self.picture.variant


@dataclass(frozen=True, eq=False, kw_only=True)
class Remask:
    """Inpaint: the damage of a photo changed. Re-encode the faces whose damage changed (on
    `analysis`, or on a newer re-encoding of it made meanwhile), then render."""

    doc_id: int
    analysis: Any  # core.pipeline.Analysis, inpainting
    mask: DamageMask
    faces: Mapping[int, FaceChoice] = field(default_factory=dict)
    variant: str = INPAINTING


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
    faces: Mapping[int, FaceChoice] = field(default_factory=dict)
    pipeline: PipelineSettings = field(default_factory=PipelineSettings)
    variant: str = RESTORATION
    mask: DamageMask | None = None  # inpainting: the damage, used when analysing first
    format: str | None = None  # Pillow's name ("JPEG", "PNG", "WEBP", "TIFF"); None: from suffix
    quality: int = 95
    keep_metadata: bool = True
    overwrite: bool = False
    exact: bool = True  # render in full precision (fp32), whatever the preview uses


@dataclass(frozen=True, eq=False, kw_only=True)
class Export:
    """One photo of export batch `batch`."""

    target: ExportTarget
    batch: int

    @property
    def doc_id(self) -> int:
        return self.target.doc_id

    @property
    def variant(self) -> str:
        return self.target.variant


Request = CheckWeights | Analyze | Render | Remask | Export
