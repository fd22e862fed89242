"""The command line out of the box: only `codeformer.pth` in the weights folder (the built-in
YuNet finds the faces), and a model file of the user's own (`--model`)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

import core.engine
from core.cli import main
from core.net.config import RESTORATION, tiny_config
from core.photo_io import read_photo
from core.synthetic import random_state_dict, unverified_catalogue

from .conftest import TESTDATA


@pytest.fixture
def only_codeformer(tmp_path: Path, tiny_checkpoints, monkeypatch) -> Path:
    """A weights folder holding codeformer.pth and nothing else (no detector, no parsing)."""
    monkeypatch.setattr(core.engine, "CATALOGUE", unverified_catalogue())
    folder = tmp_path / "weights"
    folder.mkdir()
    (folder / "codeformer.pth").write_bytes(tiny_checkpoints["restoration"].read_bytes())
    return folder


def _group_photo(path: Path) -> Path:
    astronaut = cv2.imread(str(TESTDATA / "astronaut.png"))
    hopper = cv2.imread(str(TESTDATA / "grace_hopper.jpg"))
    canvas = np.full((620, 1080, 3), 100, np.uint8)
    canvas[0:512, 0:512] = astronaut
    canvas[20:620, 540:1052] = hopper
    cv2.imwrite(str(path), canvas, [cv2.IMWRITE_JPEG_QUALITY, 92])
    return path


def restore(*args: str) -> int:
    return main(["restore", "--device", "cpu", "--quiet", *args])


def test_only_codeformer_restores_every_face_of_a_group_photo(
    only_codeformer: Path, tmp_path: Path, capsys
) -> None:
    inputs = tmp_path / "photos"
    inputs.mkdir()
    _group_photo(inputs / "family.jpg")
    (inputs / "launch.jpg").write_bytes((TESTDATA / "rocket.jpg").read_bytes())
    out = tmp_path / "out"
    status = restore(str(inputs), "-o", str(out), "--weights-dir", str(only_codeformer))
    captured = capsys.readouterr()
    assert status == 0, captured
    assert "family.jpg" in captured.out and "2 face(s)" in captured.out
    assert "launch.jpg" in captured.out and "0 face(s)" in captured.out
    assert "model codeformer.pth" in captured.err
    assert "parsing_parsenet.pth is not downloaded" in captured.err  # said once, not per photo
    assert captured.out.count("parsing") == 0
    restored = read_photo(out / "family_restored.jpg").pixels.astype(int)
    original = read_photo(inputs / "family.jpg").pixels.astype(int)
    for x1, y1, x2, y2 in ((180, 55, 270, 178), (723, 125, 897, 353)):  # the two faces
        assert np.abs(restored[y1:y2, x1:x2] - original[y1:y2, x1:x2]).mean() > 5
    assert np.abs(restored[560:, :500] - original[560:, :500]).max() <= 3  # backdrop untouched
    with Image.open(out / "family_restored.jpg") as image:
        assert b"codeformer.pth" in image.info.get("comment", b"")


def test_own_model_file_restores_and_is_recorded(tmp_path: Path, tiny_checkpoints, capsys) -> None:
    """No weights folder at all: a fine-tune under any name, and the faces from YuNet."""
    own = tmp_path / "my finetune v2.pth"
    own.write_bytes(tiny_checkpoints["restoration"].read_bytes())
    photo = tmp_path / "astronaut.png"
    photo.write_bytes((TESTDATA / "astronaut.png").read_bytes())
    out = tmp_path / "out"
    args = [str(photo), "-o", str(out), "--model", str(own), "--weights-dir", str(tmp_path / "w")]
    status = restore(*args)
    captured = capsys.readouterr()
    assert status == 0, captured
    assert "1 face(s)" in captured.out and "model my finetune v2.pth" in captured.err
    with Image.open(out / "astronaut_restored.png") as image:
        assert "my finetune v2.pth" in image.info["Software"]


def test_own_model_of_another_task_is_explained(tmp_path: Path, tiny_checkpoints, capsys) -> None:
    own = tmp_path / "colour.pth"
    own.write_bytes(tiny_checkpoints["colorization"].read_bytes())
    photo = TESTDATA / "astronaut.png"
    status = restore(str(photo), "-o", str(tmp_path / "o"), "--model", str(own), "-t", "restore")
    err = capsys.readouterr().err
    assert status == 2
    assert "colour.pth is a CodeFormer colorization model" in err and "--task colorize" in err


def test_a_broken_model_file_is_a_clear_error(tmp_path: Path, capsys) -> None:
    state = random_state_dict(tiny_config(RESTORATION))
    state["position_emb"] = torch.zeros(10, 10)
    bad = tmp_path / "broken.pth"
    torch.save({"params_ema": state}, bad)
    photo = TESTDATA / "astronaut.png"
    status = restore(str(photo), "-o", str(tmp_path / "o"), "--model", str(bad))
    err = capsys.readouterr().err
    assert status == 2
    assert "broken.pth" in err and "position_emb" in err and "Traceback" not in err


def test_download_for_a_task_fetches_only_its_codeformer_file(monkeypatch, tmp_path, capsys):
    fetched: list[str] = []
    monkeypatch.setattr(
        "core.cli.weights._download", lambda entries, folder: fetched.extend(e.key for e in entries)
    )
    main(["weights", "--weights-dir", str(tmp_path), "download", "--task", "restore"])
    assert fetched == ["codeformer"]
