"""The weights folder location; importing the package loads no torch and opens no socket."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import platformdirs
import pytest

from core.weights import ENV_VAR, weights_dir

ROOT = Path(__file__).resolve().parents[1]


def test_environment_variable_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "from-env"))
    assert weights_dir(tmp_path / "from-setting") == tmp_path / "from-env"
    assert weights_dir() == tmp_path / "from-env"


def test_setting_comes_next(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert weights_dir(tmp_path / "from-setting") == tmp_path / "from-setting"
    assert weights_dir(str(tmp_path / "text")) == tmp_path / "text"
    monkeypatch.setenv(ENV_VAR, "  ")
    assert weights_dir(tmp_path / "from-setting") == tmp_path / "from-setting"


def test_default_is_per_user_and_not_created(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    for empty in (None, ""):
        folder = weights_dir(empty)
        assert (
            folder == platformdirs.user_data_path("CodeFormer Studio", appauthor=False) / "weights"
        )
        assert not folder.exists()


def test_home_is_expanded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv(ENV_VAR, "~/w")
    assert weights_dir() == tmp_path / "w"


def test_import_loads_no_torch_and_opens_no_socket(tmp_path: Path) -> None:
    code = """
import socket, sys
def refuse(*args, **kwargs):
    raise AssertionError("network access")
socket.socket.connect = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
import core.weights as w
from core.errors import WeightsMissingError
folder = w.weights_dir()
states = w.status(folder, check_hashes=True)
for entry in w.CATALOGUE:
    assert w.find(entry, folder) is None
    try:
        w.require(entry, folder)
    except WeightsMissingError:
        pass
    else:
        raise AssertionError(entry.key)
assert "torch" not in sys.modules, "torch imported"
assert not any(m.startswith(("PySide6", "desktop")) for m in sys.modules)
print(len(states))
"""
    env = {"PATH": "", "CODEFORMER_STUDIO_WEIGHTS": str(tmp_path / "w")}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "8"
