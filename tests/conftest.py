from __future__ import annotations

import contextlib
import json
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from core.net.config import VARIANTS, Variant, tiny_config
from core.synthetic import write_checkpoint

DATA = Path(__file__).resolve().parent / "data"
SPEC_DIR = DATA / "codeformer"  # SPEC.md and the official checkpoints' key lists
TESTDATA = DATA / "testdata"  # public-domain portraits and their measured landmarks


@pytest.fixture(autouse=True)
def _seed_and_isolate(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Seed every RNG and give each test its own weights folder and settings."""
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("CODEFORMER_STUDIO_WEIGHTS", str(home / "weights"))
    monkeypatch.setenv("CODEFORMER_STUDIO_CONFIG", str(home / "config"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "xdg-data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "xdg-cache"))
    torch.set_num_threads(2)


@pytest.fixture(autouse=True, scope="session")
def _qt_none_guard() -> None:
    """Guard against PySide6 6.12.0's None reference leak on Python 3.11 (desktop/none_refcount)."""
    from desktop.none_refcount import protect_none

    with contextlib.suppress(ImportError):  # no PySide6: nothing to guard
        protect_none()


@pytest.fixture(scope="session")
def tiny_checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One tiny synthetic checkpoint per variant, in the official file layout."""
    folder = tmp_path_factory.mktemp("tiny-ckpt")
    return {
        v.name: write_checkpoint(folder / v.checkpoint_file, tiny_config(v), seed=i)
        for i, v in enumerate(VARIANTS)
    }


@pytest.fixture(scope="session")
def faces_json() -> dict:
    return json.loads((TESTDATA / "faces.json").read_text())


def variant_params() -> list[Variant]:
    return list(VARIANTS)
