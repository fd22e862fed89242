"""YuNet, the face detector that ships with the app, run by OpenCV's `cv2.FaceDetectorYN`.

The model (`resources/models/yunet/yunet_n_640_640.onnx`, 317 KB, Apache-2.0; Wu, Peng and Yu,
"YuNet: A Tiny Millisecond-level Face Detector", 2023) needs no download and no torch. It is
run like RetinaFace in the reference pipeline: on a copy of the photo whose short side is 640
(small photos enlarged, large ones shrunk), and its five landmarks come in the order the
alignment template uses (first the eye on the image's left), so faces found by either detector
are aligned and pasted the same way.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from core.bundled import YUNET_MODEL, resource_path
from core.errors import CheckpointError
from core.faces.detection import (
    DETECTION_SHORT_SIDE,
    DetectedFace,
    detection_copy,
    require_rgb8,
)

log = logging.getLogger(__name__)

MIN_OPENCV = (4, 8, 0)
"""The first OpenCV that reads this YuNet file (its 2023 layout: three output strides, with
separate class, box, objectness and landmark heads); pyproject.toml pins the same."""


def opencv_version() -> tuple[int, int, int]:
    """The installed OpenCV as (major, minor, patch)."""
    parts = [int("".join(c for c in p if c.isdigit()) or 0) for p in cv2.__version__.split(".")]
    major, minor, patch = [*parts, 0, 0, 0][:3]
    return major, minor, patch


def bundled_model() -> Path:
    """The YuNet file inside the app."""
    return resource_path(YUNET_MODEL)


@contextlib.contextmanager
def _quiet_opencv() -> Iterator[None]:
    """OpenCV 5 logs a warning about compute targets on every model load: hide just that."""
    logging_api = getattr(getattr(cv2, "utils", None), "logging", None)
    if logging_api is None:
        yield
        return
    before = logging_api.getLogLevel()
    logging_api.setLogLevel(logging_api.LOG_LEVEL_ERROR)
    try:
        yield
    finally:
        logging_api.setLogLevel(before)


class YuNetDetector:
    """Faces and five landmarks with YuNet, on a copy whose short side is `short_side`.

    `confidence` is the lowest score kept (the reference's 0.8 by default), `nms_threshold` the
    overlap above which the weaker of two boxes is dropped. `shrink=False` searches photos larger
    than `short_side` at their own size (slower, finds smaller faces). Not thread-safe: one
    detector per thread.
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        confidence: float = 0.8,
        nms_threshold: float = 0.3,
        short_side: int = DETECTION_SHORT_SIDE,
        shrink: bool = True,
        top_k: int = 5000,
    ) -> None:
        path = Path(model_path) if model_path is not None else bundled_model()
        if opencv_version() < MIN_OPENCV:
            needed = ".".join(map(str, MIN_OPENCV))
            raise CheckpointError(
                f"{path}: the built-in face detector needs OpenCV {needed} or newer, this is "
                f"{cv2.__version__}: pip install --upgrade 'opencv-python>={needed}'"
            )
        if not path.is_file():
            raise CheckpointError(f"{path}: the built-in face detector is missing from the app")
        self.model_path = path
        self.confidence = float(confidence)
        self.nms_threshold = float(nms_threshold)
        self.short_side = int(short_side)
        self.shrink = bool(shrink)
        try:
            with _quiet_opencv():
                self._net = cv2.FaceDetectorYN.create(
                    str(path), "", (320, 320), self.confidence, self.nms_threshold, int(top_k)
                )
        except cv2.error as exc:
            first = str(exc).strip().splitlines()[-1][:200]
            raise CheckpointError(f"{path}: not a YuNet model OpenCV can read ({first})") from exc

    def detect(self, rgb: np.ndarray) -> list[DetectedFace]:
        """Faces of an H x W x 3 uint8 RGB photo, most confident first, in its own pixels."""
        require_rgb8(rgb)
        small, sx, sy = detection_copy(rgb, self.short_side, shrink=self.shrink)
        bgr = np.ascontiguousarray(small[..., ::-1])
        self._net.setInputSize((bgr.shape[1], bgr.shape[0]))
        _, rows = self._net.detect(bgr)
        faces = faces_from_yunet(rows if rows is not None else np.zeros((0, 15)), sx, sy)
        faces.sort(key=lambda f: f.score, reverse=True)
        log.debug("yunet found %d faces", len(faces))
        return faces


def faces_from_yunet(rows: np.ndarray, sx: float = 1.0, sy: float = 1.0) -> list[DetectedFace]:
    """YuNet's rows (N x 15: x, y, w, h, five landmarks as x, y, score) as faces.

    YuNet lists the landmarks as the subject's right eye, left eye, nose tip, right and left
    mouth corner: the first eye is the one on the image's left, as in the alignment template.
    Coordinates are divided by (sx, sy), the factors the detection copy was resized by.
    """
    faces = []
    for row in np.asarray(rows, dtype=np.float64).reshape(-1, 15):
        x, y, w, h = row[:4]
        face = DetectedFace(
            box=(x, y, x + w, y + h), score=row[14], landmarks=row[4:14].reshape(5, 2)
        )
        faces.append(face.scaled(1 / sx, 1 / sy))
    return faces
