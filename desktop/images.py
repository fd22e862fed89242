"""numpy <-> QImage, done so that nothing is shared across threads.

QImages made here own their pixels (explicit stride, then `.copy()`), so they may be created in a
worker thread and sent to the GUI thread; QPixmaps are made only in the GUI thread.
"""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtGui import QImage


def qimage_from_rgb(pixels: np.ndarray, alpha: np.ndarray | None = None) -> QImage:
    """H x W x 3 RGB, uint8 or uint16 (and an optional H x W alpha of either depth) -> an 8-bit
    QImage that owns its pixels (16-bit photos are shown rounded to 8 bits)."""
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype not in (np.uint8, np.uint16):
        raise ValueError(
            f"expected H x W x 3 uint8 or uint16 RGB, got {pixels.shape} {pixels.dtype}"
        )
    pixels = to_uint8(pixels)
    if alpha is not None:
        if alpha.dtype != np.uint8:
            alpha = to_uint8(alpha)
        data = np.ascontiguousarray(np.dstack([pixels, alpha]))
        fmt = QImage.Format.Format_RGBA8888
    else:
        data = np.ascontiguousarray(pixels)
        fmt = QImage.Format.Format_RGB888
    height, width = data.shape[:2]
    image = QImage(data.data, width, height, int(data.strides[0]), fmt)
    return image.copy()  # detach from `data`, which dies with this function


def rgb_from_qimage(image: QImage) -> tuple[np.ndarray, np.ndarray | None]:
    """A QImage -> (H x W x 3 uint8 RGB, H x W uint8 alpha or None). Copies the pixels."""
    has_alpha = image.hasAlphaChannel()
    converted = image.convertToFormat(
        QImage.Format.Format_RGBA8888 if has_alpha else QImage.Format.Format_RGB888
    )
    width, height, stride = converted.width(), converted.height(), converted.bytesPerLine()
    channels = 4 if has_alpha else 3
    buffer = np.frombuffer(converted.constBits(), np.uint8, count=stride * height)
    rows = buffer.reshape(height, stride)[:, : width * channels]
    pixels = rows.reshape(height, width, channels).copy()
    if has_alpha:
        return np.ascontiguousarray(pixels[..., :3]), np.ascontiguousarray(pixels[..., 3])
    return pixels, None


def to_uint8(values: np.ndarray) -> np.ndarray:
    """uint8 as is; uint16 rounded to 8 bits; float in [0, 1] scaled."""
    if values.dtype == np.uint8:
        return values
    if values.dtype == np.uint16:
        return ((values.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    return np.clip(np.rint(values.astype(np.float32) * 255), 0, 255).astype(np.uint8)


def fit_within(pixels: np.ndarray, max_side: int) -> np.ndarray:
    """Downscale H x W x C (area filter) so the longer side is at most `max_side` (no upscaling)."""
    height, width = pixels.shape[:2]
    scale = max_side / max(height, width)
    if scale >= 1:
        return pixels
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
