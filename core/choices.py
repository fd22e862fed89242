"""What a user chooses about a photo's restoration, as plain values (no torch, no Qt).

The window, the command line and the pipeline share these: how a photo is analysed
(`PipelineSettings`), what a render does with each face (`FaceChoice`), and the slider's fidelity
as the one quantised value every cache and request uses (`quantise_fidelity`).
"""

from __future__ import annotations

from dataclasses import dataclass

FIDELITY_STEP = 0.001
"""The finest fidelity anything distinguishes: requests, caches and labels all use this grid."""


def quantise_fidelity(fidelity: float) -> float:
    """`fidelity` clamped to [0, 1] on the FIDELITY_STEP grid (done once, where it is chosen)."""
    value = min(max(float(fidelity), 0.0), 1.0)
    return round(round(value / FIDELITY_STEP) * FIDELITY_STEP, 6)


@dataclass(frozen=True, kw_only=True)
class PipelineSettings:
    """How a photo is analysed and composited (all fidelity-independent)."""

    detector: str = "auto"  # or a name of core.faces.detectors.DETECTORS
    confidence: float = 0.8
    min_eye_distance: float = 5.0  # pixels in the original photo; smaller faces are skipped
    only_center_face: bool = False
    upscale: int = 1  # 1 to 4
    background: str = "resize"  # or "realesrgan"
    face_upsample: bool = False
    paste_mask: str = "parsing"  # or "square"; "parsing" is the square until its file is there
    aligned: bool = False  # input is already an aligned 512 face crop


@dataclass(frozen=True, kw_only=True)
class FaceChoice:
    """Per-face options of a render: restore it or not, and its own fidelity (None: global)."""

    enabled: bool = True
    fidelity: float | None = None
