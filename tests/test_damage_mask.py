"""Painted damage masks: strokes as values, rasterizing, undo/redo, mask images, inpainting."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from core.choices import PipelineSettings
from core.damage_mask import (
    HISTORY_LIMIT,
    DamageMask,
    Stroke,
    from_image,
    keep_unpainted,
    paint_stroke,
    painted_preview,
    rasterize,
)
from core.engine import Engine
from core.errors import StudioError
from core.synthetic import unverified_catalogue

from .pipeline_support import CountingDetector, portrait, write_tiny_weights

SQUARE = PipelineSettings(paste_mask="square")


def line(points, radius: float, erase: bool = False) -> Stroke:
    return Stroke(points=tuple(points), radius=radius, erase=erase)


def distance_to_path(points, shape) -> np.ndarray:
    """Exact distance of every pixel centre (integer coordinates) to a polyline."""
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float64)
    best = np.full(shape, np.inf)
    pts = list(points)
    for (x0, y0), (x1, y1) in zip(pts, pts[1:] or pts, strict=False):
        dx, dy = x1 - x0, y1 - y0
        length2 = dx * dx + dy * dy
        t = np.clip(((xx - x0) * dx + (yy - y0) * dy) / length2, 0, 1) if length2 else 0.0
        best = np.minimum(best, np.hypot(xx - x0 - t * dx, yy - y0 - t * dy))
    return best


# -- rasterizing ---------------------------------------------------------------------------------


def test_horizontal_stroke_lands_on_its_pixels() -> None:
    mask = DamageMask(size=(80, 40)).with_stroke(line([(10, 20), (50, 20)], 3))
    painted = rasterize(mask)
    assert painted.shape == (40, 80) and painted.dtype == bool
    assert painted[17:24, 10:51].all(), "rows 17..23 between x 10 and 50 are covered"
    ys, xs = np.nonzero(painted)
    assert (ys.min(), ys.max()) == (17, 23)
    assert (xs.min(), xs.max()) == (7, 53), "round caps of radius 3 at both ends"
    assert not painted[:15].any() and not painted[26:].any() and not painted[:, 56:].any()


@pytest.mark.parametrize("radius", [0.5, 1.0, 2.5, 3.0, 7.5, 20.0])
def test_strokes_cover_every_pixel_within_the_radius_and_little_more(radius: float) -> None:
    rng = np.random.default_rng(int(radius * 10))
    points = [tuple(p) for p in rng.uniform(25, 95, (5, 2))]
    painted = rasterize(DamageMask(size=(120, 120)).with_stroke(line(points, radius)))
    distance = distance_to_path(points, painted.shape)
    assert painted[distance <= radius].all()
    assert not painted[distance > radius + 1].any()


def test_a_single_point_is_a_dab() -> None:
    painted = rasterize(DamageMask(size=(30, 30)).with_stroke(line([(15.0, 10.0)], 4)))
    distance = distance_to_path([(15.0, 10.0)], painted.shape)
    assert painted[distance <= 4].all() and not painted[distance > 5].any()


def test_eraser_removes_in_order() -> None:
    mask = DamageMask(size=(80, 40)).with_stroke(line([(10, 20), (70, 20)], 5))
    mask = mask.with_stroke(line([(40, 0), (40, 39)], 4, erase=True))
    painted = rasterize(mask)
    assert painted[20, 10:30].all() and painted[20, 50:70].all()
    assert not painted[:, 37:44].any(), "the eraser cut the stroke"
    # Painting after erasing paints again: order matters.
    again = rasterize(mask.with_stroke(line([(30, 20), (50, 20)], 2)))
    assert again[20, 40] and not painted[20, 40]


def test_scale_draws_for_an_upscaled_image() -> None:
    mask = DamageMask(size=(50, 30)).with_stroke(line([(10, 15), (40, 15)], 2))
    big = rasterize(mask, scale=2)
    assert big.shape == (60, 100)
    small = rasterize(mask)
    # The doubled mask, shrunk back by area, matches the mask drawn at 1:1 (up to the rim).
    shrunk = cv2.resize(big.astype(np.uint8) * 255, (50, 30), interpolation=cv2.INTER_AREA) >= 128
    assert (shrunk != small).sum() <= 0.1 * small.sum()
    ys = np.nonzero(big)[0]
    assert abs((ys.min() + ys.max()) / 2 - 30.5) <= 0.5, "pixel centres map as (y + .5) * 2 - .5"
    with pytest.raises(ValueError, match="scale"):
        rasterize(mask, scale=0)


def test_paint_stroke_into_a_region_matches_the_whole() -> None:
    stroke = line([(12.3, 7.7), (44.1, 28.9), (20.0, 33.0)], 3.5)
    whole = np.zeros((40, 60), np.uint8)
    paint_stroke(whole, stroke)
    canvas = np.zeros((40, 60), np.uint8)
    x0, y0, x1, y1 = stroke.bounds()
    region = canvas[max(y0, 0) : y1, max(x0, 0) : x1]
    paint_stroke(region, stroke, origin=(max(x0, 0), max(y0, 0)))
    assert np.array_equal(canvas, whole), "drawing into a view of the region touches the same"
    assert whole.any()


def test_stroke_is_validated_and_normalised() -> None:
    stroke = Stroke(points=[[1, 2], (3.5, 4)], radius=2)  # type: ignore[arg-type]
    assert stroke.points == ((1.0, 2.0), (3.5, 4.0)) and isinstance(stroke.radius, float)
    with pytest.raises(ValueError, match="at least one point"):
        Stroke(points=(), radius=2)
    with pytest.raises(ValueError, match="radius"):
        Stroke(points=((1, 1),), radius=0)
    with pytest.raises(ValueError, match="finite"):
        Stroke(points=((float("nan"), 1),), radius=1)


def test_strokes_outside_the_photo_are_clipped() -> None:
    mask = DamageMask(size=(20, 20)).with_stroke(line([(-30, -30), (-5, 10), (5, 10)], 2))
    painted = rasterize(mask)
    assert painted.shape == (20, 20) and painted[10, 0:6].all()


# -- history -------------------------------------------------------------------------------------


def test_undo_redo_sequences() -> None:
    a, b, c = (line([(i * 10.0, 5.0)], 2) for i in (1, 2, 3))
    empty = DamageMask(size=(40, 10))
    assert empty.is_empty and not empty.can_undo and not empty.can_redo
    assert empty.undo() is empty and empty.redo() is empty
    one = empty.with_stroke(a)
    two = one.with_stroke(b)
    assert two.strokes == (a, b) and two.can_undo and not two.can_redo
    back = two.undo()
    assert back.strokes == (a,) and back.can_redo
    assert back.redo().strokes == (a, b) and not back.redo().can_redo
    assert back.undo().strokes == () and back.undo().undo().strokes == ()
    branched = back.with_stroke(c)
    assert branched.strokes == (a, c) and not branched.can_redo, "a new stroke drops the redo"
    assert two.strokes == (a, b), "values never change"


def test_clear_is_undoable_and_restores_a_loaded_base() -> None:
    base = np.zeros((10, 40), bool)
    base[2:5, 3:8] = True
    mask = from_image(base, (40, 10)).with_stroke(line([(30.0, 5.0)], 2))
    cleared = mask.clear()
    assert cleared.is_empty and cleared.base is None and not rasterize(cleared).any()
    restored = cleared.undo()
    assert np.array_equal(rasterize(restored), rasterize(mask))
    assert cleared.clear() is cleared, "clearing nothing adds no undo step"
    assert rasterize(restored.undo()).sum() == base.sum()


def test_is_empty_is_structural() -> None:
    mask = DamageMask(size=(30, 30))
    assert mask.with_stroke(line([(5.0, 5.0)], 2, erase=True)).is_empty
    painted = mask.with_stroke(line([(5.0, 5.0)], 2))
    assert not painted.is_empty
    assert from_image(np.zeros((30, 30), bool), (30, 30)).is_empty


def test_history_is_bounded() -> None:
    mask = DamageMask(size=(10, 10))
    for i in range(HISTORY_LIMIT + 20):
        mask = mask.with_stroke(line([(float(i % 10), 1.0)], 1))
    steps = 0
    while mask.can_undo:
        mask = mask.undo()
        steps += 1
    assert steps == HISTORY_LIMIT and len(mask.strokes) == 20


def test_base_is_read_only_and_sized() -> None:
    plane = np.zeros((10, 20), bool)
    mask = DamageMask(size=(20, 10), base=plane)
    plane[0, 0] = True
    assert mask.base is not None and not mask.base[0, 0], "the mask kept its own copy"
    with pytest.raises(ValueError, match="read-only"):
        mask.base[1, 1] = True
    with pytest.raises(ValueError, match="base must be 10 x 20"):
        DamageMask(size=(20, 10), base=np.zeros((20, 10), bool))


# -- mask images and previews --------------------------------------------------------------------


def test_from_image_thresholds_like_the_command_line(tmp_path: Path) -> None:
    levels = np.array([[0, 127, 128, 255]], np.uint8).repeat(3, axis=0)
    rgb = np.zeros((3, 4, 3), np.uint8)
    rgb[..., 1] = levels  # only one channel light: still damage (the lightest channel counts)
    assert from_image(rgb, (4, 3)).base.tolist() == [[False, False, True, True]] * 3  # type: ignore[union-attr]
    deep = (levels.astype(np.uint16) * 257)[..., None].repeat(4, axis=2)
    deep[..., 3] = 0  # alpha is ignored
    assert from_image(deep, (4, 3)).base.tolist() == [[False, False, True, True]] * 3  # type: ignore[union-attr]
    floats = levels / 255.0
    assert from_image(floats, (4, 3)).base.tolist() == [[False, False, True, True]] * 3  # type: ignore[union-attr]

    path = tmp_path / "mask.png"
    grey = np.zeros((30, 40), np.uint8)
    grey[5:10, 20:30] = 200
    grey[20:25, 0:5] = 100  # too dark to count
    assert cv2.imwrite(str(path), grey)
    mask = from_image(path, (40, 30))
    assert mask.size == (40, 30) and not mask.strokes and not mask.can_undo
    expected = grey >= 128
    assert np.array_equal(rasterize(mask), expected)
    with pytest.raises(StudioError, match=r"mask\.png is 40x30, the photo 41x30"):
        from_image(path, (41, 30))
    big = rasterize(mask, scale=2)
    assert big.shape == (60, 80) and big.sum() == 4 * expected.sum()


def test_painted_preview_is_white_where_painted() -> None:
    rgb = np.full((6, 8, 3), 40, np.uint8)
    mask = np.zeros((6, 8), bool)
    mask[1:3, 2:5] = True
    out = painted_preview(rgb, mask)
    assert (out[mask] == 255).all() and (out[~mask] == 40).all() and (rgb == 40).all()
    deep = painted_preview(rgb.astype(np.uint16) * 257, mask)
    assert (deep[mask] == 65535).all() and deep.dtype == np.uint16
    with pytest.raises(ValueError, match="does not match"):
        painted_preview(rgb, mask[:5])


def test_keep_unpainted_keeps_far_pixels_exactly() -> None:
    rng = np.random.default_rng(1)
    original = rng.integers(0, 255, (40, 50, 3), dtype=np.uint8)
    rendered = rng.integers(0, 255, (40, 50, 3), dtype=np.uint8)
    mask = np.zeros((40, 50), bool)
    mask[15:20, 10:30] = True
    out = keep_unpainted(original, rendered, mask, feather=2)
    distance = cv2.distanceTransform(np.where(mask, 0, 255).astype(np.uint8), cv2.DIST_L2, 5)
    assert np.array_equal(out[mask], rendered[mask])
    assert np.array_equal(out[distance > 3], original[distance > 3])
    rim = (distance > 1.5) & (distance < 2.5)
    between = (out[rim].astype(int) - original[rim]) * (out[rim].astype(int) - rendered[rim])
    assert (between <= 0).all(), "the rim blends between the two"
    assert np.array_equal(keep_unpainted(original, rendered, np.zeros((40, 50), bool)), original)


# -- with the engine -----------------------------------------------------------------------------


@pytest.fixture
def weights(tmp_path: Path, tiny_checkpoints) -> Path:
    return write_tiny_weights(tmp_path / "weights", tiny_checkpoints)


def test_painted_mask_lands_in_the_aligned_face_and_back(weights: Path, faces_json) -> None:
    photo, faces = portrait("astronaut.png", faces_json)
    engine = Engine(
        weights_dir=weights,
        device="cpu",
        precision="fp32",
        detector=CountingDetector(faces),
        catalogue=unverified_catalogue(),
    )
    # A scratch painted across the nose of the astronaut (nose tip at about (223, 128)).
    stroke = line([(200.0, 120.0), (245.0, 130.0)], 5)
    damage = DamageMask(size=(photo.width, photo.height)).with_stroke(stroke)
    painted = rasterize(damage)
    analysis = engine.analyze(photo, SQUARE, variant="inpainting", mask=painted)
    face = analysis.faces[0]
    assert face.encoded.mask is not None
    in_face = face.encoded.mask[0, 0].numpy() > 0.5

    # The damage in the aligned face is the painted path mapped by the face's matrix, with the
    # radius scaled by the alignment's scale: every pixel well inside is there, none far outside.
    matrix = np.asarray(face.matrix)
    scale = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    path = np.array([[x, y, 1.0] for x, y in stroke.points]) @ matrix.T
    distance = distance_to_path([tuple(p) for p in path], in_face.shape)
    radius = stroke.radius * scale
    assert in_face[distance <= radius - 1.5].all()
    assert not in_face[distance > radius + scale + 1.5].any()
    # And back: the face's damage warped back into the photo is the painted mask.
    back = cv2.warpAffine(
        in_face.astype(np.uint8) * 255,
        cv2.invertAffineTransform(matrix),
        (photo.width, photo.height),
        flags=cv2.INTER_LINEAR,
    )
    kernel = np.ones((3, 3), np.uint8)
    grown = cv2.dilate(painted.astype(np.uint8), kernel) > 0
    shrunk = cv2.erode(painted.astype(np.uint8), kernel) > 0
    assert not ((back >= 128) & ~grown).any() and not (shrunk & (back < 128)).any()

    rendered = engine.render(analysis, None)
    restored = rendered.faces[0]
    keep = ~in_face
    assert np.abs(restored[keep].astype(int) - face.crop[keep]).max() <= 1, "unpainted kept"
    assert np.abs(restored[in_face].astype(int) - face.crop[in_face]).mean() > 3, "painted filled"

    # In the whole photo: the damage is filled; with keep_unpainted, every pixel farther than the
    # feathered rim is exactly the original.
    out = keep_unpainted(analysis.background, rendered.image, painted, feather=2)
    diff = np.abs(out.astype(int) - photo.pixels).max(axis=2)
    assert diff[painted].mean() > 10
    far = cv2.distanceTransform(np.where(painted, 0, 255).astype(np.uint8), cv2.DIST_L2, 5) > 3
    assert diff[far].max() == 0
