"""Helpers shared by the tests of `core.faces`: photos, landmarks and a network guard."""

from __future__ import annotations

import socket
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.faces.detection import DetectedFace, faces_from_json
from tests.conftest import TESTDATA

PORTRAITS = ("astronaut.png", "grace_hopper.jpg")


def read_rgb(name: str) -> np.ndarray:
    """A shared test photo as H x W x 3 uint8 RGB."""
    bgr = cv2.imread(str(TESTDATA / name), cv2.IMREAD_COLOR)
    assert bgr is not None, name
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def portrait_face(faces_json: dict, name: str) -> DetectedFace:
    faces = faces_from_json(faces_json, name)
    assert len(faces) == 1
    return faces[0]


def forbid_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any download or socket connection fail loudly for the rest of the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    import facexlib.utils.misc
    import torch.hub

    monkeypatch.setattr(facexlib.utils.misc, "download_url_to_file", refuse)
    monkeypatch.setattr(torch.hub, "download_url_to_file", refuse)


def weights_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "weights"
    folder.mkdir()
    return folder
