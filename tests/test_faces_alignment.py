"""Alignment to the 512 template: exact on ideal landmarks, sensible on the shared portraits."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.faces.alignment import (
    BORDER_RGB,
    FACE_TEMPLATE_512,
    alignment_matrix,
    face_template,
    invert,
    transform_points,
    warp_face,
)
from tests.faces_support import PORTRAITS, portrait_face, read_rgb


def _similarity(angle_deg: float, scale: float, tx: float, ty: float) -> np.ndarray:
    a = math.radians(angle_deg)
    c, s = scale * math.cos(a), scale * math.sin(a)
    return np.array([[c, -s, tx], [s, c, ty]])


@pytest.mark.parametrize("name", PORTRAITS)
def test_ideal_landmarks_land_on_the_template(name: str, faces_json: dict) -> None:
    """Landmarks that are exactly a similarity image of the template are aligned onto it."""
    real = alignment_matrix(portrait_face(faces_json, name).landmarks)
    ideal = transform_points(invert(real), FACE_TEMPLATE_512)  # a face shaped like the template
    matrix = alignment_matrix(ideal)
    assert np.abs(transform_points(matrix, ideal) - FACE_TEMPLATE_512).max() < 0.01
    assert np.allclose(matrix, real, atol=1e-6)


@pytest.mark.parametrize("face_size", [64, 256, 512, 1024])
def test_template_scales_with_the_face_size(face_size: int) -> None:
    known = _similarity(17.0, 0.37, 40.0, -12.5)
    landmarks = transform_points(invert(known), face_template(face_size))
    matrix = alignment_matrix(landmarks, face_size)
    aligned = transform_points(matrix, landmarks)
    assert np.abs(aligned - FACE_TEMPLATE_512 * face_size / 512).max() < 1e-3 * face_size


@pytest.mark.parametrize("name", PORTRAITS)
def test_real_landmarks_align_as_a_similarity(name: str, faces_json: dict) -> None:
    """Real faces are not template-shaped: the fit is a similarity that puts the eyes close to
    the template's eyes (measured: within 4.9 px at 512) and levels them."""
    face = portrait_face(faces_json, name)
    matrix = alignment_matrix(face.landmarks)
    linear = matrix[:, :2]
    assert linear[0, 0] == pytest.approx(linear[1, 1]) and linear[0, 1] == pytest.approx(
        -linear[1, 0]
    )
    aligned = transform_points(matrix, face.landmarks)
    eye_error = np.linalg.norm(aligned[:2] - FACE_TEMPLATE_512[:2], axis=1)
    assert eye_error.max() < 6.0
    assert np.linalg.norm(aligned - FACE_TEMPLATE_512, axis=1).max() < 12.0
    tilt = math.degrees(math.atan2(aligned[1, 1] - aligned[0, 1], aligned[1, 0] - aligned[0, 0]))
    assert abs(tilt) < 2.0


@pytest.mark.parametrize("name", PORTRAITS)
def test_invert_round_trip(name: str, faces_json: dict) -> None:
    matrix = alignment_matrix(portrait_face(faces_json, name).landmarks)
    inverse = invert(matrix)
    points = np.array([[0.0, 0.0], [511.0, 0.0], [100.5, 300.25], [511.0, 511.0]])
    assert np.allclose(
        transform_points(matrix, transform_points(inverse, points)), points, atol=1e-9
    )
    assert np.allclose(invert(inverse), matrix, atol=1e-12)


def test_matrices_are_read_only_values(faces_json: dict) -> None:
    matrix = alignment_matrix(portrait_face(faces_json, "astronaut.png").landmarks)
    inverse = invert(matrix)
    for array in (matrix, inverse, FACE_TEMPLATE_512):
        with pytest.raises(ValueError):
            array[0, 0] = 1.0
    assert matrix.shape == (2, 3) and matrix.dtype == np.float64


@pytest.mark.parametrize("name", PORTRAITS)
def test_warp_face_samples_the_photo_at_the_landmarks(name: str, faces_json: dict) -> None:
    rgb = read_rgb(name)
    face = portrait_face(faces_json, name)
    matrix = alignment_matrix(face.landmarks)
    crop = warp_face(rgb, matrix, 512)
    assert crop.shape == (512, 512, 3) and crop.dtype == np.uint8
    # a pixel of the crop shows the photo at the matching photo position
    source = invert(matrix)
    for x, y in [(256, 256), (200, 240), (300, 380)]:
        px, py = transform_points(source, [[x, y]])[0]
        expected = rgb[round(py), round(px)].astype(int)
        assert np.abs(crop[y, x].astype(int) - expected).max() < 40


def test_warp_face_fills_outside_the_photo_with_the_border_colour() -> None:
    rgb = np.full((100, 120, 3), 10, dtype=np.uint8)
    matrix = np.array([[1.0, 0.0, 200.0], [0.0, 1.0, 200.0]])  # the photo lies off to the right
    crop = warp_face(rgb, matrix, 64)
    assert (crop == np.array(BORDER_RGB, dtype=np.uint8)).all()
    crop16 = warp_face(rgb.astype(np.uint16) * 257, matrix, 64)
    assert crop16.dtype == np.uint16 and (crop16 == np.array(BORDER_RGB) * 257).all()


def test_degenerate_landmarks_are_refused() -> None:
    with pytest.raises(ValueError, match="cannot align"):
        alignment_matrix(np.zeros((5, 2)))
