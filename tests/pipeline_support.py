"""Helpers for whole-photo tests: portraits, deterministic degradation, counting wrappers."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from core.faces.detection import DetectedFace, GivenFaces, faces_from_json
from core.photo import Photo
from core.photo_io import read_photo

from .conftest import TESTDATA


def degrade(rgb: np.ndarray, seed: int = 0) -> np.ndarray:
    """A deterministic old-photo look: downscale, blur, noise, JPEG."""
    h, w = rgb.shape[:2]
    small = cv2.resize(rgb, (w // 3, h // 3), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (3, 3), 1.0)
    noise = np.random.default_rng(seed).normal(0, 6, small.shape)
    noisy = np.clip(small.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    ok, jpeg = cv2.imencode(".jpg", noisy, [cv2.IMWRITE_JPEG_QUALITY, 35])
    assert ok
    worn = cv2.imdecode(jpeg, cv2.IMREAD_UNCHANGED)
    return cv2.resize(worn, (w, h), interpolation=cv2.INTER_CUBIC)


def portrait(
    name: str, faces_json: dict, *, degraded: bool = True
) -> tuple[Photo, list[DetectedFace]]:
    photo = read_photo(TESTDATA / name)
    faces = faces_from_json(faces_json, name)
    if degraded:
        photo = Photo(pixels=degrade(photo.pixels), source=photo.source, format=photo.format)
    return photo, faces


class CountingDetector(GivenFaces):
    """Given faces, counting how often detection ran."""

    def __init__(self, faces: list[DetectedFace]) -> None:
        super().__init__(faces)
        self.calls = 0

    def detect(self, rgb: np.ndarray) -> list[DetectedFace]:
        self.calls += 1
        return super().detect(rgb)


def tile_photo(
    photo: Photo, faces: list[DetectedFace], nx: int, ny: int
) -> tuple[Photo, list[DetectedFace]]:
    """The photo repeated nx x ny times, with every copy's faces."""
    pixels = np.tile(photo.pixels, (ny, nx, 1))
    tiled = []
    for j in range(ny):
        for i in range(nx):
            dx, dy = i * photo.width, j * photo.height
            for f in faces:
                x1, y1, x2, y2 = f.box
                tiled.append(
                    DetectedFace(
                        box=(x1 + dx, y1 + dy, x2 + dx, y2 + dy),
                        score=f.score,
                        landmarks=f.landmarks + np.array([dx, dy], dtype=np.float32),
                    )
                )
    return Photo(pixels=pixels, format="PNG"), tiled


def write_tiny_weights(folder: Path, checkpoints: dict[str, Path]) -> Path:
    """A weights folder holding the tiny synthetic checkpoints under their official names."""
    from core.net.config import variant_by_name

    folder.mkdir(parents=True, exist_ok=True)
    for name, path in checkpoints.items():
        (folder / variant_by_name(name).checkpoint_file).write_bytes(path.read_bytes())
    return folder
