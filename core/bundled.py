"""Files that ship inside the app: the repository's `resources/` folder, or the PyInstaller one.

The built-in face detector (YuNet) lives here, so detection works before anything is downloaded.
"""

from __future__ import annotations

import sys
from pathlib import Path

YUNET_MODEL = Path("models", "yunet", "yunet_n_640_640.onnx")
YUNET_SHA256 = "25a606a145a5b6d7271ae138fbd00eba91dad8b83222ae3f2c7ecd0f4a7b0e31"
YUNET_LICENCE = Path("models", "yunet", "LICENSE")


def resources_dir() -> Path:
    """The folder of the bundled files (style sheet, sample photo, built-in models)."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parents[1] / "resources"


def resource_path(name: str | Path) -> Path:
    """A bundled file by its path inside `resources/`."""
    return resources_dir() / name
