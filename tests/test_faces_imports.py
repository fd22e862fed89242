"""Importing `core.faces` is cheap: torch, facexlib and spandrel load when a model is built."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_importing_the_faces_package_does_not_import_torch() -> None:
    code = (
        "import sys\n"
        "import core.faces.alignment, core.faces.detection, core.faces.masks\n"
        "import core.faces.paste, core.faces.upsample\n"
        "print(sorted(m for m in ('torch', 'facexlib', 'spandrel') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_helper_file_names_match_the_weights_catalogue() -> None:
    from core.faces.detection import DETECTOR_FILES
    from core.faces.masks import PARSING_FILE
    from core.faces.upsample import REALESRGAN_FILES
    from core.weights import CATALOGUE

    names = {entry.filename for entry in CATALOGUE}
    assert {*DETECTOR_FILES.values(), PARSING_FILE, *REALESRGAN_FILES} <= names
