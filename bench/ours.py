"""Our side of the benchmarks: the app's pipeline on the same photo, faces and checkpoint.

`OurPipeline` wraps what the window's worker does: read the photo (`core.photo_io`), `analyze`
it once (detection replaced by the given landmarks, alignment, batched encoding, masks,
background), then `render` it at each fidelity. Paste masks are the soft square (no parsing
weights here), as on the baseline side.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import SyntheticPhoto, given_faces


def settings() -> Any:
    """The pipeline settings of both sides: upscale 1, plain background, square paste mask."""
    from core.choices import PipelineSettings

    return PipelineSettings(upscale=1, background="resize", paste_mask="square")


@dataclass(frozen=True, kw_only=True)
class OurPipeline:
    """A loaded model and the helpers the pipeline needs. `model` is a `core.model.CodeFormer`."""

    model: Any

    @staticmethod
    def load(checkpoint: Path, precision: str, device: str = "cpu") -> OurPipeline:
        from core.model import load_model

        return OurPipeline(model=load_model(checkpoint, device=device, precision=precision))

    @property
    def precision(self) -> str:
        return str(self.model.precision)

    def analyze(self, photo: SyntheticPhoto) -> Any:
        """Read the file and analyse it (everything that does not depend on the fidelity)."""
        from core.faces.upsample import ResizeUpsampler
        from core.photo_io import read_photo
        from core.pipeline import analyze

        return analyze(
            read_photo(photo.path),
            self.model,
            settings(),
            detector=given_faces(photo),
            upsampler=ResizeUpsampler(),
            parser=None,
        )

    def render(self, analysis: Any, fidelity: float) -> Any:
        from core.rendering import render

        return render(analysis, self.model, fidelity)

    def first_result(self, photo: SyntheticPhoto, fidelity: float) -> np.ndarray:
        """Open a photo and make its first restored image: read, analyse, render."""
        return self.render(self.analyze(photo), fidelity).image


def hand_over(rendered: Any) -> object:
    """What showing a result costs once it exists: the window's numpy -> QImage copy.

    Uses the desktop's own `qimage_from_rgb` when it is there, else the same two lines.
    """
    try:
        from desktop.images import qimage_from_rgb
    except ImportError:
        from PySide6.QtGui import QImage

        def qimage_from_rgb(pixels: np.ndarray, alpha: np.ndarray | None = None) -> QImage:
            data = np.ascontiguousarray(pixels)
            height, width = data.shape[:2]
            image = QImage(
                data.data, width, height, int(data.strides[0]), QImage.Format.Format_RGB888
            )
            return image.copy()

    return qimage_from_rgb(rendered.image, rendered.alpha)
