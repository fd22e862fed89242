"""Pasting a restored face back into its (upscaled) photo, in place, only inside its region.

Coordinates follow OpenCV: pixel centres are at integer positions. A face image may be the
S x S aligned crop or an enlarged F x F version of it ("face upsample"); the canvas is the photo
enlarged by `scale` (the background upscale factor, as `cv2.resize` enlarges it). Only the
rectangle that the face's mask can touch is warped and blended, so re-pasting faces over a cached
background costs the faces' area, not the photo's. Nothing here mutates its inputs except the
canvas given to `paste_face`.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from core.faces.alignment import invert

Region = tuple[int, int, int, int]
"""x1, y1, x2, y2 in canvas pixels (x2, y2 exclusive): `canvas[y1:y2, x1:x2]`."""


def _as3x3(matrix: np.ndarray) -> np.ndarray:
    return np.vstack([np.asarray(matrix, dtype=np.float64), [0.0, 0.0, 1.0]])


def _pixel_scale(factor: float) -> np.ndarray:
    """3 x 3 map of pixel centres when an image is resized by `factor` (cv2.resize convention)."""
    offset = 0.5 * (factor - 1.0)
    return np.array([[factor, 0.0, offset], [0.0, factor, offset], [0.0, 0.0, 1.0]])


def paste_matrix(
    matrix: np.ndarray,
    *,
    scale: float = 1.0,
    face_px: int | None = None,
    face_size: int | None = None,
) -> np.ndarray:
    """The 2 x 3 map from pixels of the face image to pixels of the canvas.

    `matrix` maps photo pixels to the S x S crop (S = `face_size`); the face image has
    `face_px` pixels a side (default S); the canvas is the photo enlarged by `scale`.
    """
    if face_size is None and face_px is None:
        raise ValueError("paste_matrix needs face_size or face_px")
    size = face_size if face_size is not None else face_px
    px = face_px if face_px is not None else size
    assert size is not None and px is not None
    face_to_crop = _pixel_scale(size / px)
    crop_to_photo = _as3x3(invert(matrix))
    photo_to_canvas = _pixel_scale(scale)
    combined = photo_to_canvas @ crop_to_photo @ face_to_crop
    out = np.ascontiguousarray(combined[:2])
    out.setflags(write=False)
    return out


def _support(mask: np.ndarray) -> tuple[float, float, float, float] | None:
    """Bounding rectangle, in mask pixels, of where bilinear sampling of `mask` can be non-zero."""
    rows = np.flatnonzero(mask.max(axis=1) > 0)
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.max(axis=0) > 0)
    # a sample point within one pixel of a non-zero pixel may get some of its weight
    return cols[0] - 1.0, rows[0] - 1.0, cols[-1] + 1.0, rows[-1] + 1.0


def paste_region(
    canvas_shape: tuple[int, ...],
    matrix: np.ndarray,
    mask: np.ndarray,
    scale: float = 1.0,
    *,
    face_size: int | None = None,
) -> Region:
    """The canvas rectangle that pasting a face with this `mask` may change, clipped.

    `canvas_shape` is the canvas's (H, W, ...); `mask` is the face image's F x F paste mask.
    Pixels outside the returned rectangle are never touched by `paste_face`, so a caller can
    restore a face's area by copying just this rectangle of a cached background.
    Returns an empty rectangle (x1 == x2 or y1 == y2) when the face misses the canvas.
    """
    height, width = int(canvas_shape[0]), int(canvas_shape[1])
    support = _support(mask)
    if support is None:
        return (0, 0, 0, 0)
    a = paste_matrix(matrix, scale=scale, face_px=mask.shape[0], face_size=face_size)
    sx1, sy1, sx2, sy2 = support
    corners = np.array([[sx1, sy1], [sx2, sy1], [sx1, sy2], [sx2, sy2]])
    mapped = corners @ a[:, :2].T + a[:, 2]
    x1 = max(0, math.floor(mapped[:, 0].min()))
    y1 = max(0, math.floor(mapped[:, 1].min()))
    x2 = min(width, math.ceil(mapped[:, 0].max()) + 1)
    y2 = min(height, math.ceil(mapped[:, 1].max()) + 1)
    if x2 <= x1 or y2 <= y1:
        return (0, 0, 0, 0)
    return (x1, y1, x2, y2)


def merge_regions(regions: list[Region]) -> list[Region]:
    """Non-empty rectangles merged until none overlaps another (each face region lies inside
    exactly one of the result)."""
    merged = [r for r in regions if r[2] > r[0] and r[3] > r[1]]
    changed = True
    while changed:
        changed = False
        for i in range(len(merged)):
            for j in range(i + 1, len(merged)):
                a, b = merged[i], merged[j]
                if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]:
                    merged[i] = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
                    del merged[j]
                    changed = True
                    break
            if changed:
                break
    return merged


def paste_face(
    canvas: np.ndarray,
    face_rgb: np.ndarray,
    matrix: np.ndarray,
    mask: np.ndarray,
    scale: float = 1.0,
    *,
    face_size: int | None = None,
    origin: tuple[int, int] = (0, 0),
    full_shape: tuple[int, ...] | None = None,
) -> Region:
    """Blend a restored face into `canvas` IN PLACE; returns the rectangle that may have changed.

    `canvas` may be a window of the whole canvas (`full_shape`, default the canvas's own) whose
    top-left pixel is at `origin` of it: the blend is the same, pixel for pixel, as on the whole
    canvas (the window must hold the face's region; the returned rectangle is in whole-canvas
    pixels).

    - `canvas`: H x W x C, uint8 or uint16 (the photo enlarged by `scale`), changed in place.
    - `face_rgb`: F x F x C uint8 (or the canvas's dtype), the restored face; F = S, or larger
      for an upsampled face (then pass the crop size S as `face_size`).
    - `matrix`: 2 x 3 photo -> S x S crop transform (from `alignment_matrix`), not modified.
    - `mask`: S x S or F x F float32 in [0, 1] (resized to F when needed).
    The changed rectangle is `paste_region(canvas.shape, matrix, mask, scale, face_size=...)`
    with the same arguments. Blending is `canvas * (1 - m) + face * m` in float32, rounded;
    pixels where the warped mask is 0 keep their exact value, and nothing outside the returned
    rectangle is read or written.
    """
    if canvas.ndim != 3 or face_rgb.ndim != 3 or canvas.shape[2] != face_rgb.shape[2]:
        raise ValueError(f"canvas {canvas.shape} and face {face_rgb.shape} must be H x W x C alike")
    if canvas.dtype not in (np.uint8, np.uint16) or face_rgb.dtype not in (np.uint8, canvas.dtype):
        raise ValueError(f"cannot paste a {face_rgb.dtype} face into a {canvas.dtype} canvas")
    if face_rgb.shape[0] != face_rgb.shape[1]:
        raise ValueError(f"the face must be square, got {face_rgb.shape}")
    if mask.ndim != 2 or mask.shape[0] != mask.shape[1]:
        raise ValueError(f"the mask must be square, got {mask.shape}")
    face_px = face_rgb.shape[0]
    if face_size is None:
        face_size = face_px
    # the region comes from the mask as given, so `paste_region` with the same arguments
    # returns exactly this rectangle; nothing outside it is written
    shape = canvas.shape if full_shape is None else full_shape
    x1, y1, x2, y2 = paste_region(shape, matrix, mask, scale, face_size=face_size)
    if x2 <= x1 or y2 <= y1:
        return (x1, y1, x2, y2)
    ox, oy = origin
    if x1 < ox or y1 < oy or x2 - ox > canvas.shape[1] or y2 - oy > canvas.shape[0]:
        raise ValueError(f"the face's region {(x1, y1, x2, y2)} is outside the canvas window")
    mask = np.asarray(mask, dtype=np.float32)
    if mask.shape != (face_px, face_px):
        mask = cv2.resize(mask, (face_px, face_px), interpolation=cv2.INTER_LINEAR)
    a = np.array(paste_matrix(matrix, scale=scale, face_px=face_px, face_size=face_size))
    a[:, 2] -= (x1, y1)  # warp straight into the region's own coordinates
    size = (x2 - x1, y2 - y1)
    warped_face = cv2.warpAffine(
        face_rgb, a, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    ).astype(np.float32)
    warped_mask = cv2.warpAffine(
        mask, a, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )
    np.clip(warped_mask, 0.0, 1.0, out=warped_mask)
    if warped_face.ndim == 2:
        warped_face = warped_face[:, :, None]
    if canvas.dtype == np.uint16 and face_rgb.dtype == np.uint8:
        warped_face *= 257.0
    top = float(np.iinfo(canvas.dtype).max)

    target = canvas[y1 - oy : y2 - oy, x1 - ox : x2 - ox]
    weight = warped_mask[:, :, None]
    blended = target.astype(np.float32) * (1.0 - weight) + warped_face * weight
    np.clip(np.rint(blended), 0.0, top, out=blended)
    target[...] = blended.astype(canvas.dtype)
    return (x1, y1, x2, y2)
