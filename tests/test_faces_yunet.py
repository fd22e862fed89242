"""The built-in YuNet detector, run for real on the test portraits (no weights download)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from core.bundled import YUNET_LICENCE, YUNET_SHA256, resource_path
from core.errors import CheckpointError
from core.faces import yunet
from core.faces.alignment import FACE_TEMPLATE_512, alignment_matrix
from core.faces.detection import DetectedFace, faces_from_json
from core.faces.yunet import MIN_OPENCV, YuNetDetector, bundled_model, faces_from_yunet
from core.photo_io import read_photo
from tests.faces_support import PORTRAITS, read_rgb

REPO = Path(__file__).resolve().parents[1]
LANDMARK_TOLERANCE = 8.0  # pixels; YuNet and RetinaFace differ by 2-6 px on these portraits


@pytest.fixture(scope="module")
def detector() -> YuNetDetector:
    return YuNetDetector()


def nearest_landmark_error(found: DetectedFace, expected: DetectedFace) -> float:
    return float(np.abs(found.landmarks - expected.landmarks).max())


def test_the_bundled_model_is_the_published_file_with_its_licence() -> None:
    data = bundled_model().read_bytes()
    assert len(data) == 317_466
    assert hashlib.sha256(data).hexdigest() == YUNET_SHA256
    assert "Apache License" in resource_path(YUNET_LICENCE).read_text(encoding="utf-8")


def test_the_pinned_opencv_reads_the_model_and_older_ones_are_refused(monkeypatch) -> None:
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    match = re.search(r'"opencv-python>=([\d.]+)"', pyproject)
    assert match is not None
    pinned = tuple(int(p) for p in match.group(1).split("."))
    assert pinned + (0,) * (3 - len(pinned)) == MIN_OPENCV
    assert yunet.opencv_version() >= MIN_OPENCV
    monkeypatch.setattr(cv2, "__version__", "4.7.0")
    with pytest.raises(CheckpointError, match=r"needs OpenCV 4\.8\.0 or newer, this is 4\.7\.0"):
        YuNetDetector()


def test_a_file_that_is_not_yunet_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "yunet.onnx"
    bad.write_bytes(b"not an onnx model")
    with pytest.raises(CheckpointError, match=r"yunet\.onnx: not a YuNet model"):
        YuNetDetector(bad)


@pytest.mark.parametrize("name", PORTRAITS)
def test_one_face_per_portrait_with_landmarks_near_the_measured_ones(
    name: str, detector: YuNetDetector, faces_json: dict
) -> None:
    found = detector.detect(read_rgb(name))
    (expected,) = faces_from_json(faces_json, name)
    assert len(found) == 1
    assert found[0].score > 0.8
    assert nearest_landmark_error(found[0], expected) < LANDMARK_TOLERANCE
    # the first eye is the one on the image's left, as the alignment template expects
    assert found[0].landmarks[0, 0] < found[0].landmarks[1, 0]


@pytest.mark.parametrize("name", PORTRAITS)
def test_faces_align_onto_the_same_512_template(
    name: str, detector: YuNetDetector, faces_json: dict
) -> None:
    """The face is framed in the 512 crop as the measured landmarks frame it: the same points
    land within a few crop pixels under either alignment."""
    (found,) = detector.detect(read_rgb(name))
    (expected,) = faces_from_json(faces_json, name)
    points = np.c_[expected.landmarks, np.ones(5)]
    ours = points @ alignment_matrix(found.landmarks, 512).T
    reference = points @ alignment_matrix(expected.landmarks, 512).T
    assert np.abs(ours - reference).max() < 16  # of 512; the template's eyes are 126 px apart
    assert np.abs(reference - FACE_TEMPLATE_512).max() < 20


def _group_photo() -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Three people on one canvas: the two portraits and a smaller, mirrored astronaut."""
    astronaut, hopper = read_rgb("astronaut.png"), read_rgb("grace_hopper.jpg")
    small = cv2.resize(astronaut[:, ::-1], (300, 300), interpolation=cv2.INTER_AREA)
    canvas = np.full((640, 1400, 3), 90, np.uint8)
    canvas[0:512, 0:512] = astronaut
    canvas[20:620, 540:1052] = hopper
    canvas[200:500, 1080:1380] = small
    centres = [(225.0, 120.0), (540 + 265.0, 20 + 235.0), (1080 + 300 - 225 * 300 / 512, 250.0)]
    return canvas, centres


def test_a_group_photo_finds_every_face(detector: YuNetDetector) -> None:
    canvas, centres = _group_photo()
    found = detector.detect(canvas)
    assert len(found) == 3
    for cx, cy in centres:
        nearest = min(found, key=lambda f: np.hypot(f.center[0] - cx, f.center[1] - cy))
        assert np.hypot(nearest.center[0] - cx, nearest.center[1] - cy) < 60


def test_a_landscape_has_no_face(detector: YuNetDetector) -> None:
    assert detector.detect(read_rgb("rocket.jpg")) == []


def test_a_rotated_phone_photo_is_detected_upright(
    tmp_path: Path, detector: YuNetDetector, faces_json: dict
) -> None:
    """Stored sideways with EXIF orientation 6 (rotate 90° clockwise to view): read upright."""
    upright = read_rgb("grace_hopper.jpg")
    stored = np.ascontiguousarray(np.rot90(upright, 1))  # what a phone held sideways stores
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "phone.jpg"
    Image.fromarray(stored).save(path, quality=95, exif=exif)
    photo = read_photo(path)
    assert (photo.width, photo.height) == (upright.shape[1], upright.shape[0])
    found = detector.detect(photo.rgb8())
    (expected,) = faces_from_json(faces_json, "grace_hopper.jpg")
    assert len(found) == 1
    assert nearest_landmark_error(found[0], expected) < LANDMARK_TOLERANCE


def test_a_small_worn_photo_is_enlarged_before_detection(detector: YuNetDetector) -> None:
    """The app's sample: 256 x 300, blurred, noisy, faded; searched at 640 like the reference."""
    photo = read_photo(resource_path("sample_old_photo.jpg"))
    recorded = json.loads(resource_path("sample_old_photo.json").read_text(encoding="utf-8"))
    known = faces_from_json(recorded, "sample_old_photo.jpg")
    found = detector.detect(photo.rgb8())
    assert len(found) == 1
    assert nearest_landmark_error(found[0], known[0]) < LANDMARK_TOLERANCE


def test_rows_are_converted_and_scaled_back() -> None:
    row = np.array([[10, 20, 30, 40, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0.9]], dtype=np.float32)
    (face,) = faces_from_yunet(row, 2.0, 4.0)
    assert face.box == (5.0, 5.0, 20.0, 15.0)
    assert face.score == pytest.approx(0.9)
    np.testing.assert_allclose(face.landmarks[0], [0.5, 0.5])
    assert faces_from_yunet(np.zeros((0, 15))) == []
