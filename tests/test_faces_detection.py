"""Detection: the face value, injected faces, selection rules, and RetinaFace's loading path."""

from __future__ import annotations

import pickle
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from core.errors import CheckpointError, WeightsMissingError
from core.faces.detection import (
    DETECTOR_FILES,
    DetectedFace,
    FaceDetector,
    GivenFaces,
    RetinaFaceDetector,
    detection_copy,
    faces_from_detections,
    faces_from_json,
    select_faces,
)
from tests.faces_support import forbid_network, read_rgb, weights_folder


def _face(cx: float, cy: float, eye_distance: float, score: float = 0.9) -> DetectedFace:
    half = eye_distance / 2
    landmarks = [
        [cx - half, cy],
        [cx + half, cy],
        [cx, cy + half],
        [cx - half * 0.8, cy + eye_distance],
        [cx + half * 0.8, cy + eye_distance],
    ]
    size = eye_distance * 2
    return DetectedFace(
        box=(cx - size, cy - size, cx + size, cy + size), score=score, landmarks=landmarks
    )


def test_detected_face_is_an_immutable_value() -> None:
    points = np.arange(10, dtype=np.float64).reshape(5, 2)
    face = DetectedFace(box=(1, 2, 3, 4), score=0.5, landmarks=points)
    points[0, 0] = 99.0  # the face keeps its own copy
    assert face.landmarks[0, 0] == 0.0
    assert face.landmarks.dtype == np.float32 and face.landmarks.shape == (5, 2)
    with pytest.raises(ValueError):
        face.landmarks[0, 0] = 1.0
    with pytest.raises(AttributeError):
        face.score = 1.0  # type: ignore[misc]
    assert face.box == (1.0, 2.0, 3.0, 4.0)


def test_eye_distance_uses_the_two_eyes() -> None:
    """Landmarks 0 and 1 are the eyes (the reference mixes up its indices)."""
    face = DetectedFace(
        box=(0, 0, 100, 100),
        score=1.0,
        landmarks=[[10, 20], [40, 60], [0, 0], [0, 0], [0, 0]],
    )
    assert face.eye_distance == pytest.approx(50.0)


def test_faces_from_json(faces_json: dict) -> None:
    faces = faces_from_json(faces_json, "grace_hopper.jpg")
    assert len(faces) == 1
    assert faces[0].box == pytest.approx((183.46, 104.76, 357.11, 333.22))
    assert faces[0].score == 1.0
    assert faces[0].landmarks[1] == pytest.approx([304.34, 189.5])
    with pytest.raises(KeyError):
        faces_from_json(faces_json, "nobody.png")


def test_given_faces_is_a_detector(faces_json: dict) -> None:
    detector: FaceDetector = GivenFaces(faces_from_json(faces_json, "astronaut.png"))
    found = detector.detect(np.zeros((8, 8, 3), np.uint8))
    assert len(found) == 1 and found[0].landmarks[0] == pytest.approx([202.12, 101.25])
    found.clear()  # the caller's list is its own
    assert len(detector.detect(np.zeros((8, 8, 3), np.uint8))) == 1


def test_select_by_eye_distance() -> None:
    faces = [_face(100, 100, 4.0), _face(300, 100, 30.0), _face(500, 100, 8.0)]
    kept = select_faces(faces, min_eye_distance=8.0)
    assert [f.center[0] for f in kept] == [300, 500]
    assert select_faces(faces) == faces
    assert select_faces(faces, min_eye_distance=100) == []


def test_select_only_the_center_face() -> None:
    faces = [_face(150, 100, 20), _face(390, 310, 10), _face(700, 500, 40)]
    kept = select_faces(faces, only_center_face=True, image_size=(800, 600))
    assert len(kept) == 1 and kept[0].center == (390, 310)
    # the eye-distance filter applies first; then (150, 100) is nearer (400, 300) than (700, 500)
    kept = select_faces(faces, min_eye_distance=15, only_center_face=True, image_size=(800, 600))
    assert len(kept) == 1 and kept[0].center == (150, 100)
    assert select_faces([], only_center_face=True, image_size=(800, 600)) == []
    with pytest.raises(ValueError):
        select_faces(faces, only_center_face=True)


@pytest.mark.parametrize(
    ("shape", "expected"), [((480, 960), (640, 1280)), ((3000, 2000), (960, 640))]
)
def test_detection_copy_has_a_short_side_of_640(
    shape: tuple[int, int], expected: tuple[int, int]
) -> None:
    rgb = np.zeros((*shape, 3), np.uint8)
    small, sx, sy = detection_copy(rgb)
    assert small.shape[:2] == expected
    assert sx == pytest.approx(expected[1] / shape[1]) and sy == pytest.approx(
        expected[0] / shape[0]
    )
    same, *_ = detection_copy(np.zeros((640, 700, 3), np.uint8))
    assert same.shape == (640, 700, 3)
    unshrunk, sx, sy = detection_copy(rgb, shrink=False)
    assert (unshrunk.shape[:2] == shape) == (min(shape) > 640)
    assert (sx == 1.0) == (min(shape) > 640)


def test_detections_are_scaled_back_to_the_photo() -> None:
    row = np.array([[64, 32, 128, 96, 0.95, 70, 50, 110, 50, 90, 70, 75, 85, 105, 85]], np.float32)
    (face,) = faces_from_detections(row, sx=0.5, sy=0.25)
    assert face.box == pytest.approx((128, 128, 256, 384))
    assert face.score == pytest.approx(0.95)
    assert face.landmarks[0] == pytest.approx([140, 200]) and face.landmarks[4] == pytest.approx(
        [210, 340]
    )
    assert faces_from_detections(np.zeros((0, 15), np.float32)) == []


# -- RetinaFace: weights from the folder only, weights_only loading, no network ------------


@pytest.fixture
def flush_denormals() -> Iterator[None]:
    """Random RetinaFace weights produce denormal floats, which are slow on CPUs."""
    torch.set_flush_denormal(True)
    yield
    torch.set_flush_denormal(False)


def _random_retinaface_file(folder: Path, model_name: str, prefix: str = "") -> Path:
    from facexlib.detection.retinaface import RetinaFace

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        net = RetinaFace(
            network_name={"retinaface_mobile0.25": "mobile0.25"}.get(model_name, "resnet50"),
            device=torch.device("cpu"),
        )
    state = {prefix + k: v for k, v in net.state_dict().items()}
    path = folder / DETECTOR_FILES[model_name]
    torch.save(state, path)
    return path


@pytest.mark.parametrize("model_name", list(DETECTOR_FILES))
def test_missing_detector_weights(
    model_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    forbid_network(monkeypatch)
    folder = weights_folder(tmp_path)
    with pytest.raises(WeightsMissingError) as info:
        RetinaFaceDetector(model_name, weights_dir=folder)
    assert DETECTOR_FILES[model_name] in str(info.value) and str(folder) in str(info.value)
    assert list(folder.iterdir()) == []  # nothing downloaded into it


def test_unknown_detector_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown detector"):
        RetinaFaceDetector("yolo", weights_dir=tmp_path)


@pytest.mark.usefixtures("flush_denormals")
def test_retinaface_runs_end_to_end_on_random_weights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole loading and detection path works offline on a weights file of the right layout
    (saved from DataParallel, with `module.` prefixes, like facexlib's release files)."""
    folder = weights_folder(tmp_path)
    _random_retinaface_file(folder, "retinaface_mobile0.25", prefix="module.")
    forbid_network(monkeypatch)
    detector = RetinaFaceDetector("retinaface_mobile0.25", weights_dir=folder, confidence=0.5)
    seen: list[np.ndarray] = []
    original = detector._net.detect_faces

    def spy(image: np.ndarray, **kwargs: object) -> np.ndarray:
        seen.append(image)
        return original(image, **kwargs)

    monkeypatch.setattr(detector._net, "detect_faces", spy)
    rgb = read_rgb("grace_hopper.jpg")  # 600 x 512
    faces = detector.detect(rgb)
    assert isinstance(faces, list)
    assert all(isinstance(f, DetectedFace) and 0.5 < f.score <= 1.0 for f in faces)
    # facexlib got a BGR copy whose short side is 640
    (image,) = seen
    assert image.shape == (750, 640, 3)
    small = detection_copy(rgb)[0]
    assert np.array_equal(image, small[..., ::-1])


@pytest.mark.usefixtures("flush_denormals")
def test_retinaface_resnet50_layout_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = weights_folder(tmp_path)
    _random_retinaface_file(folder, "retinaface_resnet50")
    forbid_network(monkeypatch)
    detector = RetinaFaceDetector(weights_dir=folder, short_side=96)  # small: keep the test fast
    assert isinstance(detector.detect(np.full((200, 300, 3), 128, np.uint8)), list)


def test_wrong_or_unsafe_detector_files_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    forbid_network(monkeypatch)
    folder = weights_folder(tmp_path)
    path = folder / DETECTOR_FILES["retinaface_mobile0.25"]
    torch.save({"conv.weight": torch.zeros(3, 3)}, path)
    with pytest.raises(CheckpointError, match="RetinaFace"):
        RetinaFaceDetector("retinaface_mobile0.25", weights_dir=folder)
    # a file holding Python objects is never unpickled (weights_only=True)
    torch.save({"body.conv1.weight": Path("/etc/passwd")}, path)
    with pytest.raises(CheckpointError, match="refused"):
        RetinaFaceDetector("retinaface_mobile0.25", weights_dir=folder)
    with path.open("wb") as handle:
        pickle.dump({"body.conv1.weight": Path("/etc/passwd")}, handle)
    with pytest.raises(CheckpointError):
        RetinaFaceDetector("retinaface_mobile0.25", weights_dir=folder)
