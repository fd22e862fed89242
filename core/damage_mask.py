"""The damage a user paints on a photo for inpainting: brush strokes as values, with undo and redo.

A `DamageMask` is a frozen value: the photo's size, an optional loaded mask image (`base`), the
strokes painted over it in order, and its own undo/redo history. Every edit returns a new value,
so the window can keep one per photo and hand it to the worker thread without copying.

Coordinates are photo pixels with pixel centres at integers (OpenCV's convention, the same as the
face landmarks and alignment matrices): pixel (col, row) is the unit square centred on
(col, row). A Qt scene whose pixel (col, row) covers [col, col + 1) x [row, row + 1) converts with
`x = scene_x - 0.5`, `y = scene_y - 0.5`.

Nothing is rasterized until asked: `rasterize(mask)` draws the strokes with OpenCV (filled
polygons and circles, no anti-aliasing) into an H x W bool array, the `mask=` that
`core.engine.Engine.analyze(..., variant="inpainting")` takes. A pixel is covered when its centre
lies within `radius` of the stroke's path; OpenCV's filling also takes up to about one pixel of the
rim (measured: never more than `radius + 1` away). Eraser strokes clear the same pixels, in order.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeAlias

import cv2
import numpy as np

from core.errors import StudioError

Point: TypeAlias = tuple[float, float]
Snapshot: TypeAlias = "tuple[np.ndarray | None, tuple[Stroke, ...]]"

HISTORY_LIMIT = 500
"""Undo steps kept; older ones are forgotten."""

_SHIFT = 4  # OpenCV's fixed-point bits: coordinates are drawn to 1/16 pixel
_ONE = 1 << _SHIFT
PAINT, ERASE = 255, 0


@dataclass(frozen=True, kw_only=True)
class Stroke:
    """One brush stroke.

    - `points`: the path, (x, y) photo pixels (pixel centres at integers); one point is a dab.
    - `radius`: the brush radius in photo pixels (> 0).
    - `erase`: True for the eraser, which clears what earlier strokes painted.
    """

    points: tuple[Point, ...]
    radius: float
    erase: bool = False

    def __post_init__(self) -> None:
        points = tuple((float(x), float(y)) for x, y in self.points)
        if not points:
            raise ValueError("a stroke needs at least one point")
        if not all(math.isfinite(v) for p in points for v in p):
            raise ValueError("stroke points must be finite numbers")
        if not (math.isfinite(self.radius) and self.radius > 0):
            raise ValueError(f"the brush radius must be > 0, got {self.radius}")
        object.__setattr__(self, "points", points)
        object.__setattr__(self, "radius", float(self.radius))

    def bounds(self, scale: float = 1.0) -> tuple[int, int, int, int]:
        """The pixels this stroke may touch at `scale`: (x0, y0, x1, y1), x1 and y1 exclusive.

        Not clipped to the photo.
        """
        xs = [_scaled(x, scale) for x, _ in self.points]
        ys = [_scaled(y, scale) for _, y in self.points]
        reach = self.radius * scale + 2
        return (
            math.floor(min(xs) - reach),
            math.floor(min(ys) - reach),
            math.ceil(max(xs) + reach) + 1,
            math.ceil(max(ys) + reach) + 1,
        )


@dataclass(frozen=True, eq=False, kw_only=True)
class DamageMask:
    """What is painted on one photo, with its undo/redo history. Immutable: edits return a copy.

    - `size`: the photo's (width, height) in pixels.
    - `base`: a loaded mask image, H x W bool (True = damage), or None. Treated as read-only.
    - `strokes`: painted over `base`, in order.
    """

    size: tuple[int, int]
    strokes: tuple[Stroke, ...] = ()
    base: np.ndarray | None = None
    _undo: tuple[Snapshot, ...] = field(default=(), repr=False)
    _redo: tuple[Snapshot, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        width, height = (int(v) for v in self.size)
        if width <= 0 or height <= 0:
            raise ValueError(f"a mask needs a positive size, got {self.size}")
        object.__setattr__(self, "size", (width, height))
        object.__setattr__(self, "strokes", tuple(self.strokes))
        if self.base is not None:
            base = np.asarray(self.base, dtype=bool)
            if base.shape != (height, width):
                raise ValueError(f"base must be {height} x {width}, got {base.shape}")
            if base.flags.writeable:
                base = base.copy()
                base.flags.writeable = False
            object.__setattr__(self, "base", base)

    @property
    def width(self) -> int:
        return self.size[0]

    @property
    def height(self) -> int:
        return self.size[1]

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width): the shape of `rasterize(self)`."""
        return self.size[1], self.size[0]

    @property
    def is_empty(self) -> bool:
        """True when nothing is painted: no paint stroke and no damage in `base`.

        Structural and cheap: a paint stroke that was erased again still counts as painted
        (rasterize to know whether any pixel is left).
        """
        painted = any(not s.erase for s in self.strokes)
        return not painted and (self.base is None or not bool(self.base.any()))

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    # -- edits (each returns a new mask) ------------------------------------------------------

    def with_stroke(self, stroke: Stroke) -> DamageMask:
        """This mask with `stroke` painted on top (undoable; forgets what was redoable)."""
        return self._edited(self.base, (*self.strokes, stroke))

    def clear(self) -> DamageMask:
        """Nothing painted, `base` included (undoable). An empty mask is returned as it is."""
        if not self.strokes and self.base is None:
            return self
        return self._edited(None, ())

    def undo(self) -> DamageMask:
        """The mask before the last edit; this mask itself when there is nothing to undo."""
        if not self._undo:
            return self
        base, strokes = self._undo[-1]
        return replace(
            self,
            base=base,
            strokes=strokes,
            _undo=self._undo[:-1],
            _redo=(*self._redo, self._snapshot()),
        )

    def redo(self) -> DamageMask:
        """The edit undone last, done again; this mask itself when there is nothing to redo."""
        if not self._redo:
            return self
        base, strokes = self._redo[-1]
        return replace(
            self,
            base=base,
            strokes=strokes,
            _undo=(*self._undo, self._snapshot()),
            _redo=self._redo[:-1],
        )

    def _snapshot(self) -> Snapshot:
        return self.base, self.strokes

    def _edited(self, base: np.ndarray | None, strokes: tuple[Stroke, ...]) -> DamageMask:
        undo = (*self._undo, self._snapshot())[-HISTORY_LIMIT:]
        return replace(self, base=base, strokes=strokes, _undo=undo, _redo=())


# -- rasterizing ----------------------------------------------------------------------------------


def rasterize(mask: DamageMask, *, scale: float = 1.0) -> np.ndarray:
    """The painted damage as H x W bool (True = damage), H x W = the photo's size x `scale`.

    `base` first (resized nearest-neighbour when enlarging, by area when shrinking), then each
    stroke in order, eraser strokes clearing. `scale` draws for an upscaled or preview image;
    pixel centres are mapped as (x + 0.5) * scale - 0.5.
    """
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be > 0, got {scale}")
    width = max(1, round(mask.width * scale))
    height = max(1, round(mask.height * scale))
    canvas = np.zeros((height, width), np.uint8)
    if mask.base is not None:
        canvas[...] = _scaled_base(mask.base, (width, height))
    for stroke in mask.strokes:
        paint_stroke(canvas, stroke, scale=scale)
    return canvas > 0


def paint_stroke(
    canvas: np.ndarray,
    stroke: Stroke,
    *,
    scale: float = 1.0,
    origin: tuple[int, int] = (0, 0),
) -> None:
    """Draw one stroke into `canvas` in place: 255 where it paints, 0 where it erases.

    `canvas`: h x w uint8, C-contiguous, covering the photo pixels from `origin` = (x, y)
    (at `scale`), so a caller can redraw only a region (see `Stroke.bounds`).
    """
    if canvas.dtype != np.uint8 or canvas.ndim != 2:
        raise ValueError(f"canvas must be h x w uint8, got {canvas.dtype} {canvas.shape}")
    value = ERASE if stroke.erase else PAINT
    radius = stroke.radius * scale
    ox, oy = origin
    pts = np.array(
        [(_scaled(x, scale) - ox, _scaled(y, scale) - oy) for x, y in stroke.points], np.float64
    )
    # Each segment as a filled rectangle `radius` either side of it, each point as a disc: the
    # union is every pixel within `radius` of the path (round caps and joins).
    for (x0, y0), (x1, y1) in itertools.pairwise(pts):
        length = math.hypot(x1 - x0, y1 - y0)
        if length == 0:
            continue
        nx, ny = -(y1 - y0) / length * radius, (x1 - x0) / length * radius
        quad = np.array(
            [[x0 + nx, y0 + ny], [x1 + nx, y1 + ny], [x1 - nx, y1 - ny], [x0 - nx, y0 - ny]]
        )
        cv2.fillConvexPoly(canvas, _fixed(quad), value, cv2.LINE_8, _SHIFT)
    fixed_radius = max(1, round(radius * _ONE))
    for x, y in _fixed(pts):
        cv2.circle(canvas, (int(x), int(y)), fixed_radius, value, -1, cv2.LINE_8, _SHIFT)


def painted_preview(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """A copy of `rgb` with the damage painted pure white: what the inpainting model is shown.

    `rgb`: H x W x 3 uint8 or uint16 (any channel order); `mask`: H x W bool. White is the
    dtype's maximum (255 or 65535), the official inpainting convention.
    """
    if rgb.ndim != 3 or mask.shape != rgb.shape[:2]:
        raise ValueError(f"mask {mask.shape} does not match the image {rgb.shape}")
    out = rgb.copy()
    out[np.asarray(mask, dtype=bool)] = np.iinfo(rgb.dtype).max
    return out


def keep_unpainted(
    original: np.ndarray, rendered: np.ndarray, mask: np.ndarray, *, feather: float = 2.0
) -> np.ndarray:
    """`rendered` only where the damage is (and a thin feathered rim), `original` elsewhere.

    Pasting an inpainted face back resamples the whole face twice (warp in, warp out), which
    softens the unpainted parts too; this keeps every pixel farther than `1 + feather` pixels from
    the damage exactly as in `original`. The blend weight is 1 on the damage and within one pixel
    of it, falling linearly to 0 at `1 + feather` pixels.

    `original`, `rendered`: H x W x C of one dtype (e.g. `Analysis.background` and
    `Rendered.image`); `mask`: H x W bool at that size (`rasterize(mask, scale=upscale)`).
    Returns a new array; the inputs are not changed.
    """
    if original.shape != rendered.shape or original.dtype != rendered.dtype:
        raise ValueError(
            f"original {original.shape} {original.dtype} and rendered {rendered.shape} "
            f"{rendered.dtype} differ"
        )
    if mask.shape != original.shape[:2]:
        raise ValueError(f"mask {mask.shape} does not match the image {original.shape}")
    out = original.copy()
    rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
    if rows.size == 0:
        return out
    reach = math.ceil(1 + feather) + 1
    h, w = mask.shape
    y0, y1 = max(rows[0] - reach, 0), min(rows[-1] + reach + 1, h)
    x0, x1 = max(cols[0] - reach, 0), min(cols[-1] + reach + 1, w)
    outside = np.where(mask[y0:y1, x0:x1], 0, 255).astype(np.uint8)
    distance = cv2.distanceTransform(outside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    weight = np.clip(1.0 - (distance - 1.0) / max(feather, 1e-6), 0.0, 1.0)[..., None]
    region = (slice(y0, y1), slice(x0, x1))
    blended = weight * rendered[region].astype(np.float32) + (1.0 - weight) * original[region]
    if np.issubdtype(original.dtype, np.integer):
        blended = np.round(blended)
    out[region] = blended.astype(original.dtype)
    return out


def from_image(source: str | os.PathLike[str] | np.ndarray, size: tuple[int, int]) -> DamageMask:
    """A mask from a mask image, light = damage, as `codeformer-studio restore --mask` reads it.

    `source`: a file (read like a photo: any format, EXIF orientation applied) or an array:
    H x W or H x W x C (C = 3 or 4; alpha ignored) of bool, uint8 (>= 128), uint16 (>= 32768) or
    float (>= 0.5). A pixel is damage when its lightest colour channel passes the threshold.
    `size`: the photo's (width, height); a mask of another size is refused.
    """
    width, height = size
    if isinstance(source, np.ndarray):
        plane = _damage_plane(source)
        where = "the mask"
    else:
        from core.photo_io import read_photo

        plane = np.asarray(read_photo(Path(source)).rgb8()).max(axis=2) >= 128
        where = str(source)
    if plane.shape != (height, width):
        raise StudioError(
            f"{where} is {plane.shape[1]}x{plane.shape[0]}, the photo {width}x{height}: "
            "they must be the same size"
        )
    return DamageMask(size=(width, height), base=plane)


def _damage_plane(array: np.ndarray) -> np.ndarray:
    if array.ndim == 3 and array.shape[2] in (3, 4):
        array = array[..., :3].max(axis=2)
    if array.ndim != 2:
        raise ValueError(f"a mask must be H x W or H x W x 3/4, got {array.shape}")
    if array.dtype == bool:
        return array.copy()
    if array.dtype == np.uint8:
        return array >= 128
    if array.dtype == np.uint16:
        return array >= 32768
    if np.issubdtype(array.dtype, np.floating):
        return array >= 0.5
    raise ValueError(f"unsupported mask dtype {array.dtype}")


def _scaled(v: float, scale: float) -> float:
    return (v + 0.5) * scale - 0.5 if scale != 1.0 else v


def _fixed(points: Iterable[Iterable[float]] | np.ndarray) -> np.ndarray:
    return np.round(np.asarray(points, np.float64) * _ONE).astype(np.int32)


def _scaled_base(base: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    plane = base.astype(np.uint8) * PAINT
    if (plane.shape[1], plane.shape[0]) == size:
        return plane
    shrinking = size[0] < plane.shape[1]
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_NEAREST
    resized = cv2.resize(plane, size, interpolation=interpolation)
    return np.where(resized >= 128, PAINT, 0).astype(np.uint8)


__all__ = [
    "HISTORY_LIMIT",
    "DamageMask",
    "Point",
    "Stroke",
    "from_image",
    "keep_unpainted",
    "paint_stroke",
    "painted_preview",
    "rasterize",
]
