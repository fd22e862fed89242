"""Where the app's bundled files live (see `core.bundled`): style sheet, sample photo, icon."""

from __future__ import annotations

from pathlib import Path

from core.bundled import resource_path, resources_dir

SAMPLE_PHOTO = "sample_old_photo.jpg"
SAMPLE_FACES = "sample_old_photo.json"
STYLE_SHEET = "style.qss"

__all__ = ["SAMPLE_FACES", "SAMPLE_PHOTO", "STYLE_SHEET", "resource_path", "resources_dir"]


def sample_photo_path() -> Path:
    return resource_path(SAMPLE_PHOTO)
