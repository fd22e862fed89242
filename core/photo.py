"""A photo as read from disk: pixels with orientation applied, plus what export must carry over."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True, eq=False, kw_only=True)
class Photo:
    """A decoded photo.

    - `pixels`: H x W x 3, RGB, uint8 or uint16 (the file's own depth), EXIF orientation applied.
      Grey and CMYK files are converted to RGB; `is_grey` remembers a grey original.
    - `alpha`: H x W of the same dtype, or None.
    - `icc_profile`, `exif`: raw bytes to write back on export (EXIF orientation already reset
      to 1, since the rotation is baked into `pixels`), or None.
    - `source`: the file it came from (never written to), or None.
    - `format`: the file format as Pillow names it ("JPEG", "PNG", "TIFF", "WEBP", "BMP").
    - `is_grey`: True for a grey file, and for a colour file whose channels are (nearly) equal.
    - `dpi`: the file's (x, y) resolution in dots per inch, or None; kept so that an export
      prints at the same size (scaled by the upscale factor).

    Treat the arrays as read-only: a Photo is a value that several renders share.
    """

    pixels: np.ndarray
    alpha: np.ndarray | None = None
    icc_profile: bytes | None = None
    exif: bytes | None = None
    source: Path | None = None
    format: str | None = None
    is_grey: bool = False
    dpi: tuple[float, float] | None = None

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def bit_depth(self) -> int:
        return 16 if self.pixels.dtype == np.uint16 else 8

    def rgb8(self) -> np.ndarray:
        """The pixels as H x W x 3 uint8 RGB (a view when already 8-bit)."""
        if self.pixels.dtype == np.uint8:
            return self.pixels
        return ((self.pixels.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
