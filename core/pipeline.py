"""Whole-photo restoration, split for a live fidelity slider.

`analyze(photo, ...)` does everything that does not depend on the fidelity, once per photo:
detect, align, encode every face (batched), paste masks, prepare the background.
`render(analysis, fidelity, ...)` decodes the faces and composites only their regions over the
cached background. Both return immutable values; nothing is kept in hidden state.

Implementation lands with the pipeline issue; the value types below are the contract the
window and the command line are built against.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from core.model import EncodedFaces
from core.photo import Photo

ProgressCallback = Callable[[str, float], None]
"""Called with (what is happening, fraction done in [0, 1])."""

CancelCheck = Callable[[], bool]
"""Returns True when the caller wants the work stopped (checked between faces and tiles)."""


@dataclass(frozen=True, kw_only=True)
class PipelineSettings:
    """How a photo is analysed and composited (all fidelity-independent)."""

    detector: str = "retinaface_resnet50"  # or "retinaface_mobile0.25"
    confidence: float = 0.8
    min_eye_distance: float = 5.0  # pixels in the original photo; smaller faces are skipped
    only_center_face: bool = False
    upscale: int = 1  # 1 to 4
    background: str = "resize"  # or "realesrgan"
    face_upsample: bool = False
    paste_mask: str = "parsing"  # or "square"; "parsing" falls back to "square" without weights
    aligned: bool = False  # input is already an aligned 512 face crop


@dataclass(frozen=True, kw_only=True)
class FaceChoice:
    """Per-face options of a render: restore it or not, and its own fidelity (None: global)."""

    enabled: bool = True
    fidelity: float | None = None


@dataclass(frozen=True, eq=False, kw_only=True)
class AnalyzedFace:
    """One face of a photo, with all that a render needs except the fidelity.

    - `box`: x1, y1, x2, y2 in original-photo pixels; `landmarks`: 5 x 2 float (x, y).
    - `matrix`: 2 x 3 affine from original-photo pixels to the aligned face crop.
    - `crop`: the aligned face, S x S x 3 uint8 RGB (S = the model's face size).
    - `paste_mask`: S x S float32 in [0, 1], the soft blend mask in crop coordinates
      (computed once per face: the parsing mask of the fidelity-0.5 result... see docs).
    - `encoded`: this face's encoding (batch of one).
    """

    index: int
    box: tuple[float, float, float, float]
    score: float
    landmarks: np.ndarray
    matrix: np.ndarray
    crop: np.ndarray
    paste_mask: np.ndarray
    encoded: EncodedFaces


@dataclass(frozen=True, eq=False, kw_only=True)
class Analysis:
    """A photo analysed once: its faces encoded and its background prepared."""

    photo: Photo
    settings: PipelineSettings
    variant: str
    faces: tuple[AnalyzedFace, ...]
    background: np.ndarray  # H*u x W*u x 3 uint8 RGB, the upscaled photo without restored faces
    upscale: int
    notices: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, eq=False, kw_only=True)
class Rendered:
    """The result of a render: the whole photo, and the restored face crops."""

    image: np.ndarray  # H*u x W*u x 3 uint8 RGB
    alpha: np.ndarray | None  # H*u x W*u, or None
    fidelity: float
    faces: Mapping[int, np.ndarray]  # index -> restored crop S x S x 3 uint8 RGB
    seconds: float
