"""Where the app's bundled files live (repository `resources/`, or the PyInstaller folder)."""

from __future__ import annotations

import sys
from pathlib import Path

SAMPLE_PHOTO = "sample_old_photo.jpg"
SAMPLE_FACES = "sample_old_photo.json"
STYLE_SHEET = "style.qss"


def resources_dir() -> Path:
    """The folder holding the style sheet, the sample photo and the app icon."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parents[1] / "resources"


def resource_path(name: str) -> Path:
    return resources_dir() / name


def sample_photo_path() -> Path:
    return resource_path(SAMPLE_PHOTO)
