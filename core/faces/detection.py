"""Finding faces and their five landmarks in a photo.

Coordinates are pixels of the photo as given to `detect` (x to the right, y down, origin at the
top-left corner of the top-left pixel). Landmarks are, in this order: left eye, right eye, nose
tip, left mouth corner, right mouth corner ("left" as seen in the picture).

- `FaceDetector`: the small interface the pipeline uses, so tests and callers can inject faces.
- `RetinaFaceDetector`: facexlib's RetinaFace, weights from a local folder only (never downloaded),
  loaded with `weights_only=True`.
- `GivenFaces`, `faces_from_json`: fixed faces, e.g. the landmarks of a `faces.json` file.
- `select_faces`: drop tiny faces by eye distance, optionally keep only the most central face.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import cv2
import numpy as np

from core.faces.helper_weights import load_helper_network, require_weights

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

DETECTOR_FILES: Mapping[str, str] = {
    "retinaface_resnet50": "detection_Resnet50_Final.pth",
    "retinaface_mobile0.25": "detection_mobilenet0.25_Final.pth",
}
"""Detector name -> the weights file it needs in the weights folder."""

_NETWORK_NAMES = {"retinaface_resnet50": "resnet50", "retinaface_mobile0.25": "mobile0.25"}
_DISPLAY_NAMES = {
    "retinaface_resnet50": "RetinaFace ResNet-50",
    "retinaface_mobile0.25": "RetinaFace MobileNet-0.25",
}

DETECTION_SHORT_SIDE = 640
"""Faces are searched on a copy of the photo resized so that its short side has this length."""


@dataclass(frozen=True, kw_only=True, eq=False)
class DetectedFace:
    """One face found in a photo.

    - `box`: x1, y1, x2, y2 in photo pixels.
    - `score`: the detector's confidence in [0, 1] (1.0 for injected faces).
    - `landmarks`: 5 x 2 float32 (x, y) in photo pixels: left eye, right eye, nose tip, left and
      right mouth corner. Stored as a read-only copy.
    """

    box: tuple[float, float, float, float]
    score: float
    landmarks: np.ndarray = field(repr=False)

    def __post_init__(self) -> None:
        points = np.array(self.landmarks, dtype=np.float32).reshape(5, 2)
        points.setflags(write=False)
        object.__setattr__(self, "landmarks", points)
        x1, y1, x2, y2 = (float(v) for v in self.box)
        object.__setattr__(self, "box", (x1, y1, x2, y2))
        object.__setattr__(self, "score", float(self.score))

    @property
    def eye_distance(self) -> float:
        """Distance in pixels between the two eye landmarks (0 and 1)."""
        (lx, ly), (rx, ry) = self.landmarks[0], self.landmarks[1]
        return math.hypot(float(rx - lx), float(ry - ly))

    @property
    def center(self) -> tuple[float, float]:
        """Centre of the box, (x, y) in pixels."""
        x1, y1, x2, y2 = self.box
        return (x1 + x2) / 2, (y1 + y2) / 2

    def scaled(self, sx: float, sy: float | None = None) -> DetectedFace:
        """This face in a photo resized by (sx, sy): coordinates multiplied (a new value)."""
        sy = sx if sy is None else sy
        x1, y1, x2, y2 = self.box
        factors = np.array([sx, sy], dtype=np.float64)
        return DetectedFace(
            box=(x1 * sx, y1 * sy, x2 * sx, y2 * sy),
            score=self.score,
            landmarks=(self.landmarks.astype(np.float64) * factors).astype(np.float32),
        )


class FaceDetector(Protocol):
    """Anything that finds faces in an H x W x 3 uint8 RGB photo."""

    def detect(self, rgb: np.ndarray) -> list[DetectedFace]:
        """The faces of `rgb`, coordinates in its pixels, most confident first."""
        ...


class GivenFaces:
    """A detector that always answers with the same faces (injected landmarks, tests)."""

    def __init__(self, faces: Iterable[DetectedFace]) -> None:
        self._faces = tuple(faces)

    @property
    def faces(self) -> tuple[DetectedFace, ...]:
        return self._faces

    def detect(self, rgb: np.ndarray) -> list[DetectedFace]:
        """The given faces, whatever `rgb` holds."""
        return list(self._faces)


def faces_from_json(data: Mapping[str, Any], image_name: str) -> list[DetectedFace]:
    """The faces recorded for `image_name` in a `faces.json`-style mapping.

    `data[image_name]["faces"]` is a list of `{"box": [x1, y1, x2, y2, score],
    "landmarks5": [[x, y] * 5]}` (the score is optional). Raises KeyError when the image is not
    listed.
    """
    if image_name not in data:
        raise KeyError(f"no faces recorded for {image_name!r}")
    faces = []
    for entry in data[image_name]["faces"]:
        box = [float(v) for v in entry["box"]]
        score = box[4] if len(box) > 4 else 1.0
        faces.append(
            DetectedFace(
                box=(box[0], box[1], box[2], box[3]), score=score, landmarks=entry["landmarks5"]
            )
        )
    return faces


def select_faces(
    faces: Sequence[DetectedFace],
    *,
    min_eye_distance: float = 0.0,
    only_center_face: bool = False,
    image_size: tuple[int, int] | None = None,
) -> list[DetectedFace]:
    """The faces to restore, in their given order.

    - Faces whose eyes (landmarks 0 and 1) are closer than `min_eye_distance` pixels are dropped
      (tiny or side-on faces).
    - With `only_center_face`, of the remaining faces only the one whose box centre is nearest the
      centre of the image is kept; `image_size` is (width, height) and is required then.
    """
    kept = [face for face in faces if face.eye_distance >= min_eye_distance]
    if only_center_face and kept:
        if image_size is None:
            raise ValueError("only_center_face needs image_size=(width, height)")
        cx, cy = image_size[0] / 2, image_size[1] / 2
        kept = [min(kept, key=lambda f: math.hypot(f.center[0] - cx, f.center[1] - cy))]
    return kept


def require_rgb8(rgb: np.ndarray) -> None:
    """Raise ValueError unless `rgb` is an H x W x 3 uint8 image (what every detector takes)."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an H x W x 3 uint8 RGB image, got {rgb.shape} {rgb.dtype}")


def detection_copy(
    rgb: np.ndarray, short_side: int = DETECTION_SHORT_SIDE, *, shrink: bool = True
) -> tuple[np.ndarray, float, float]:
    """`rgb` resized so that its short side is `short_side`, and the factors (sx, sy) applied.

    Shrinks with INTER_AREA, enlarges with INTER_LINEAR; returns the input itself (not a copy)
    when it already has that size, or is larger and `shrink` is False (the reference only ever
    enlarges: shrinking a big group photo is faster but loses faces under ~16 px at 640).
    A point (x, y) of the copy is (x / sx, y / sy) in `rgb`.
    """
    height, width = rgb.shape[:2]
    scale = short_side / min(height, width)
    if scale < 1 and not shrink:
        return rgb, 1.0, 1.0
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    if (new_w, new_h) == (width, height):
        return rgb, 1.0, 1.0
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(rgb, (new_w, new_h), interpolation=interpolation)
    return small, new_w / width, new_h / height


def faces_from_detections(rows: np.ndarray, sx: float = 1.0, sy: float = 1.0) -> list[DetectedFace]:
    """facexlib's `detect_faces` rows (N x 15: box, score, 10 landmark coordinates) as faces.

    Coordinates are divided by (sx, sy), the factors the detection copy was resized by.
    """
    faces = []
    for row in np.asarray(rows, dtype=np.float64).reshape(-1, 15):
        face = DetectedFace(
            box=(row[0], row[1], row[2], row[3]), score=row[4], landmarks=row[5:15].reshape(5, 2)
        )
        faces.append(face.scaled(1 / sx, 1 / sy))
    return faces


class RetinaFaceDetector:
    """facexlib's RetinaFace (ResNet-50 or MobileNet-0.25), on a copy whose short side is 640.

    The weights file (`DETECTOR_FILES[model_name]`) must already be in `weights_dir`: nothing is
    ever downloaded (WeightsMissingError otherwise). It is read with `weights_only=True`.
    Thresholds: `confidence` (default 0.8, as the official CodeFormer pipeline; facexlib's own
    default is 0.97) and non-maximum suppression at `nms_threshold` (0.4). `shrink=False`
    searches photos larger than `short_side` at their own size (slower, finds smaller faces).
    facexlib keeps per-call scratch values on its module: use one detector per thread.
    """

    def __init__(
        self,
        model_name: str = "retinaface_resnet50",
        *,
        weights_dir: str | Path,
        device: torch.device | str = "cpu",
        confidence: float = 0.8,
        nms_threshold: float = 0.4,
        short_side: int = DETECTION_SHORT_SIDE,
        shrink: bool = True,
    ) -> None:
        if model_name not in DETECTOR_FILES:
            raise ValueError(
                f"unknown detector {model_name!r}; choose one of {', '.join(DETECTOR_FILES)}"
            )
        path = require_weights(weights_dir, DETECTOR_FILES[model_name])  # before any facexlib call
        import torch
        from facexlib.detection.retinaface import RetinaFace

        self.model_name = model_name
        self.confidence = float(confidence)
        self.nms_threshold = float(nms_threshold)
        self.short_side = int(short_side)
        self.shrink = bool(shrink)
        self.device = torch.device(device)
        with warnings.catch_warnings():
            # torchvision warns that facexlib builds ResNet-50 with the old `pretrained=False`
            warnings.simplefilter("ignore", UserWarning)
            net = RetinaFace(
                network_name=_NETWORK_NAMES[model_name], half=False, device=self.device
            )
        load_helper_network(net, path, _DISPLAY_NAMES[model_name])
        self._net = net.to(self.device)

    def detect(self, rgb: np.ndarray) -> list[DetectedFace]:
        """Faces of an H x W x 3 uint8 RGB photo, most confident first, in its own pixels."""
        import torch

        require_rgb8(rgb)
        small, sx, sy = detection_copy(rgb, self.short_side, shrink=self.shrink)
        bgr = np.ascontiguousarray(small[..., ::-1])  # facexlib expects OpenCV's BGR order
        with torch.inference_mode():
            rows = self._net.detect_faces(
                bgr,
                conf_threshold=self.confidence,
                nms_threshold=self.nms_threshold,
                use_origin_size=True,
            )
        faces = faces_from_detections(rows, sx, sy)
        log.debug("%s found %d faces", self.model_name, len(faces))
        return faces
