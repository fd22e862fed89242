"""The grey check of read_photo: fast path gives the same answer as the plain definition."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core import photo_io


def plain_looks_grey(pixels: np.ndarray) -> bool:
    """The definition: on the sample grid, max - min over channels within the tolerance."""
    height, width = pixels.shape[:2]
    step = max(1, math.isqrt(height * width // photo_io._GREY_SAMPLES))
    sample = pixels[::step, ::step].astype(np.int64)
    spread = sample.max(axis=2) - sample.min(axis=2)
    full_scale = 65535 if pixels.dtype == np.uint16 else 255
    return bool(spread.max() <= photo_io.GREY_TOLERANCE * full_scale + 1e-9)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("shape", [(7, 5), (600, 900), (1200, 1100)])
def test_grey_check_matches_its_definition(dtype, shape) -> None:
    rng = np.random.default_rng(3)
    top = np.iinfo(dtype).max
    grey = np.repeat(rng.integers(0, top, (*shape, 1), dtype=dtype), 3, axis=2)
    assert photo_io._looks_grey(grey) and plain_looks_grey(grey)

    nearly = grey.astype(np.int64)
    nearly[..., 1] += 1  # within the tolerance
    nearly = np.clip(nearly, 0, top).astype(dtype)
    assert photo_io._looks_grey(nearly) == plain_looks_grey(nearly) is True

    colour = grey.copy()
    colour[0, 0] = (0, top, 0)  # one colour pixel, on the sample grid
    assert photo_io._looks_grey(colour) == plain_looks_grey(colour) is False

    step = max(1, math.isqrt(shape[0] * shape[1] // photo_io._GREY_SAMPLES))
    off_grid = grey.copy()
    if step > 1:  # a colour pixel between sample points is not seen by either
        off_grid[1, 1] = (0, top, 0)
        assert photo_io._looks_grey(off_grid) == plain_looks_grey(off_grid) is True
    random_colour = rng.integers(0, top, (*shape, 3), dtype=dtype)
    assert photo_io._looks_grey(random_colour) == plain_looks_grey(random_colour) is False
