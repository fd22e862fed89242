"""Paste-back: reproduces the photo, touches only the face's region, is repeatable."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from core.faces.alignment import alignment_matrix, transform_points, warp_face
from core.faces.masks import square_mask
from core.faces.paste import paste_face, paste_matrix, paste_region
from tests.faces_support import PORTRAITS, portrait_face, read_rgb


def _setup(faces_json: dict, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rgb = read_rgb(name)
    matrix = alignment_matrix(portrait_face(faces_json, name).landmarks)
    return rgb, matrix, warp_face(rgb, matrix, 512)


def _upscaled(rgb: np.ndarray, scale: int) -> np.ndarray:
    if scale == 1:
        return rgb.copy()
    return cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)


@pytest.mark.parametrize("scale", [1, 2, 3])
@pytest.mark.parametrize("name", PORTRAITS)
def test_unmodified_crop_pastes_back_onto_the_photo(
    name: str, scale: int, faces_json: dict
) -> None:
    """Warping the untouched crop back reproduces the photo (two bilinear resamplings apart)."""
    rgb, matrix, crop = _setup(faces_json, name)
    canvas = _upscaled(rgb, scale)
    before = canvas.copy()
    x1, y1, x2, y2 = paste_face(canvas, crop, matrix, square_mask(512), scale)
    assert 0 <= x1 < x2 <= canvas.shape[1] and 0 <= y1 < y2 <= canvas.shape[0]
    diff = np.abs(canvas.astype(int) - before.astype(int))[y1:y2, x1:x2]
    assert diff.mean() < 2.5
    assert np.percentile(diff, 99) < 25


def test_paste_lands_where_the_face_is(faces_json: dict) -> None:
    """A mark drawn at the template's nose in the crop shows up at the nose in the photo."""
    rgb, matrix, _ = _setup(faces_json, "grace_hopper.jpg")
    nose = portrait_face(faces_json, "grace_hopper.jpg").landmarks[2]
    face = np.zeros((512, 512, 3), dtype=np.uint8)
    cx, cy = (round(v) for v in transform_points(matrix, [nose])[0])
    face[cy - 6 : cy + 7, cx - 6 : cx + 7] = 255
    for scale in (1, 2):
        canvas = np.zeros((rgb.shape[0] * scale, rgb.shape[1] * scale, 3), dtype=np.uint8)
        paste_face(canvas, face, matrix, np.ones((512, 512), np.float32), scale)
        ys, xs = np.nonzero(canvas[..., 0] > 128)
        centre = np.array([xs.mean(), ys.mean()])
        expected = (nose.astype(np.float64) + 0.5) * scale - 0.5
        assert np.linalg.norm(centre - expected) < 1.0 * scale


@pytest.mark.parametrize("scale", [1, 2])
def test_pixels_outside_the_region_are_exactly_untouched(scale: int, faces_json: dict) -> None:
    rgb, matrix, crop = _setup(faces_json, "astronaut.png")
    restored = 255 - crop  # very different, so any leak would show
    canvas = _upscaled(rgb, scale)
    before = canvas.copy()
    mask = square_mask(512)
    region = paste_face(canvas, restored, matrix, mask, scale)
    assert region == paste_region(canvas.shape, matrix, mask, scale)
    x1, y1, x2, y2 = region
    outside = np.ones(canvas.shape[:2], dtype=bool)
    outside[y1:y2, x1:x2] = False
    assert np.array_equal(canvas[outside], before[outside])
    changed = np.any(canvas != before, axis=2)
    assert changed[y1:y2, x1:x2].sum() > 0.3 * (x2 - x1) * (y2 - y1)
    # inside the region, where the warped mask is 0, pixels keep their exact value too
    corner = (y1, x1)
    assert np.array_equal(canvas[corner], before[corner])


def test_region_is_tight_and_clipped(faces_json: dict) -> None:
    rgb, matrix, _ = _setup(faces_json, "astronaut.png")
    full = paste_region(rgb.shape, matrix, np.ones((512, 512), np.float32))
    soft = paste_region(rgb.shape, matrix, square_mask(512))
    assert soft[0] >= full[0] and soft[1] >= full[1] and soft[2] <= full[2] and soft[3] <= full[3]
    box = portrait_face(faces_json, "astronaut.png").box
    assert full[0] <= box[0] and full[1] <= box[1] and full[2] >= box[2] and full[3] >= box[3]
    # a face partly off the canvas is clipped; one entirely off it gives an empty region
    shifted = np.array(matrix)
    shifted[:, 2] += matrix[:, :2] @ [-300.0, 0.0]  # the same face 300 px further right
    x1, _, x2, _ = paste_region(rgb.shape, shifted, np.ones((512, 512), np.float32))
    assert x1 == full[0] + 300 and x2 == rgb.shape[1]
    shifted[:, 2] += matrix[:, :2] @ [-1000.0, 0.0]
    assert paste_region(rgb.shape, shifted, np.ones((512, 512), np.float32)) == (0, 0, 0, 0)
    empty = np.zeros((512, 512), np.float32)
    assert paste_region(rgb.shape, matrix, empty) == (0, 0, 0, 0)


def test_pasting_twice_equals_pasting_once(faces_json: dict) -> None:
    """Inputs are values: the second paste of the same face over a fresh canvas is identical."""
    rgb, matrix, crop = _setup(faces_json, "grace_hopper.jpg")
    restored = cv2.GaussianBlur(crop, (9, 9), 3)
    mask = square_mask(512)
    saved = (np.array(matrix), restored.copy(), mask.copy())
    first = _upscaled(rgb, 2)
    second = _upscaled(rgb, 2)
    paste_face(first, restored, matrix, mask, 2)
    paste_face(second, restored, matrix, mask, 2)
    assert np.array_equal(first, second)
    assert np.array_equal(matrix, saved[0])
    assert np.array_equal(restored, saved[1]) and np.array_equal(mask, saved[2])
    # restoring the region from a cached background undoes the paste exactly
    background = _upscaled(rgb, 2)
    x1, y1, x2, y2 = paste_region(background.shape, matrix, mask, 2)
    first[y1:y2, x1:x2] = background[y1:y2, x1:x2]
    assert np.array_equal(first, background)


def test_upsampled_face_pastes_like_the_crop(faces_json: dict) -> None:
    """A face enlarged x2 ("face upsample") lands where its 512 crop lands."""
    rgb, matrix, crop = _setup(faces_json, "grace_hopper.jpg")
    big = cv2.resize(crop, (1024, 1024), interpolation=cv2.INTER_LINEAR)
    mask = square_mask(512)
    a = _upscaled(rgb, 2)
    b = _upscaled(rgb, 2)
    before = b.copy()
    ra = paste_face(a, crop, matrix, mask, 2)
    rb = paste_face(b, big, matrix, mask, 2, face_size=512)
    assert ra == rb == paste_region(b.shape, matrix, mask, 2, face_size=512)
    x1, y1, x2, y2 = rb
    outside = np.ones(b.shape[:2], dtype=bool)
    outside[y1:y2, x1:x2] = False
    assert np.array_equal(b[outside], before[outside])
    assert np.abs(a.astype(int) - b.astype(int)).mean() < 1.0
    m = paste_matrix(matrix, scale=2, face_px=1024, face_size=512)
    assert m.shape == (2, 3)


def test_sixteen_bit_canvas(faces_json: dict) -> None:
    rgb, matrix, crop = _setup(faces_json, "astronaut.png")
    canvas8 = rgb.copy()
    canvas16 = rgb.astype(np.uint16) * 257
    mask = square_mask(512)
    paste_face(canvas8, 255 - crop, matrix, mask)
    paste_face(canvas16, 255 - crop, matrix, mask)
    assert canvas16.dtype == np.uint16
    assert np.abs(canvas16.astype(int) - canvas8.astype(int) * 257).max() <= 257


def test_bad_shapes_are_refused(faces_json: dict) -> None:
    rgb, matrix, crop = _setup(faces_json, "astronaut.png")
    with pytest.raises(ValueError):
        paste_face(rgb.copy(), crop[:, :500], matrix, square_mask(512))
    with pytest.raises(ValueError):
        paste_face(rgb[..., 0].copy(), crop, matrix, square_mask(512))


def test_pasting_into_a_window_of_the_canvas_equals_pasting_into_the_whole():
    from core.faces.paste import merge_regions, paste_region

    rng = np.random.default_rng(3)
    canvas = rng.integers(0, 255, (300, 400, 3), np.uint8)
    face = rng.integers(0, 255, (64, 64, 3), np.uint8)
    mask = np.zeros((64, 64), np.float32)
    mask[8:56, 8:56] = 1.0
    matrix = np.array([[0.5, 0.1, -40.0], [-0.1, 0.5, -20.0]])
    whole = canvas.copy()
    region = paste_face(whole, face, matrix, mask, 2.0)
    x1, y1, x2, y2 = merge_regions([region, (0, 0, 0, 0)])[0]
    box = (x1 - 3, y1 - 5, x2 + 2, y2 + 1)
    window = canvas[box[1] : box[3], box[0] : box[2]].copy()
    paste_face(window, face, matrix, mask, 2.0, origin=box[:2], full_shape=canvas.shape)
    assert np.array_equal(window, whole[box[1] : box[3], box[0] : box[2]])
    assert region == paste_region(canvas.shape, matrix, mask, 2.0)
    with pytest.raises(ValueError, match="outside the canvas window"):
        paste_face(window[5:, 5:], face, matrix, mask, 2.0, origin=box[:2], full_shape=canvas.shape)


def test_overlapping_regions_merge_and_apart_ones_stay():
    from core.faces.paste import merge_regions

    assert merge_regions([(0, 0, 10, 10), (5, 5, 20, 20), (30, 30, 40, 40), (1, 1, 1, 9)]) == [
        (0, 0, 20, 20),
        (30, 30, 40, 40),
    ]
