"""The command line end to end on a temporary folder (tiny synthetic weights, given landmarks)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import core.engine
from core.cli import main
from core.photo_io import read_photo
from core.synthetic import unverified_catalogue

from .conftest import TESTDATA
from .pipeline_support import write_tiny_weights


@pytest.fixture
def batch(tmp_path: Path, tiny_checkpoints, monkeypatch, faces_json) -> dict[str, Path]:
    monkeypatch.setattr(core.engine, "CATALOGUE", unverified_catalogue())
    weights = write_tiny_weights(tmp_path / "weights", tiny_checkpoints)
    inputs = tmp_path / "in"
    (inputs / "sub").mkdir(parents=True)
    shutil.copy(TESTDATA / "astronaut.png", inputs / "astronaut.png")
    shutil.copy(TESTDATA / "grace_hopper.jpg", inputs / "sub" / "grace_hopper.jpg")
    (inputs / "broken.jpg").write_bytes((TESTDATA / "grace_hopper.jpg").read_bytes()[:3000])
    landmarks = tmp_path / "faces.json"
    # broken.jpg is listed too, so that no detector weights are needed for this batch.
    landmarks.write_text(json.dumps({**faces_json, "broken.jpg": {"faces": []}}))
    return {"weights": weights, "inputs": inputs, "out": tmp_path / "out", "landmarks": landmarks}


def run(batch: dict[str, Path], *extra: str) -> int:
    return main(
        [
            "restore",
            str(batch["inputs"]),
            "-o",
            str(batch["out"]),
            "--weights-dir",
            str(batch["weights"]),
            "--landmarks",
            str(batch["landmarks"]),
            "--device",
            "cpu",
            "--paste-mask",
            "square",
            *extra,
        ]
    )


def test_batch_survives_a_broken_file(batch, capsys) -> None:
    before = {p: p.read_bytes() for p in batch["inputs"].rglob("*") if p.is_file()}
    status = run(batch, "--recursive", "-w", "0.7")
    out = capsys.readouterr().out
    assert status == 1, "a failed file makes the exit status non-zero"
    assert "2 restored, 0 skipped, 1 failed" in out
    assert "broken.jpg" in out and "truncated" in out.lower()
    restored = read_photo(batch["out"] / "astronaut_restored.png")
    original = read_photo(TESTDATA / "astronaut.png")
    assert restored.pixels.shape == original.pixels.shape
    assert not np.array_equal(restored.pixels, original.pixels)
    assert (batch["out"] / "grace_hopper_restored.jpg").is_file()
    after = {p: p.read_bytes() for p in batch["inputs"].rglob("*") if p.is_file()}
    assert before == after, "inputs are never written"


def test_not_recursive_by_default_and_existing_outputs(batch, capsys) -> None:
    (batch["inputs"] / "broken.jpg").unlink()
    assert run(batch) == 0
    assert "1 restored" in capsys.readouterr().out
    first = (batch["out"] / "astronaut_restored.png").read_bytes()
    assert run(batch, "-w", "0.1") == 0
    assert "0 restored, 1 skipped" in capsys.readouterr().out
    assert (batch["out"] / "astronaut_restored.png").read_bytes() == first
    assert run(batch, "-w", "0.1", "--existing", "rename") == 0
    assert (batch["out"] / "astronaut_restored (2).png").is_file()
    assert run(batch, "-w", "0.1", "--existing", "overwrite", "-f", "webp", "-q", "80") == 0
    assert (batch["out"] / "astronaut_restored.webp").is_file()


def test_missing_weights_say_how_to_fetch(batch, capsys, tmp_path) -> None:
    status = main(
        [
            "restore",
            str(batch["inputs"]),
            "-o",
            str(batch["out"]),
            "--weights-dir",
            str(tmp_path / "none"),
            "--landmarks",
            str(batch["landmarks"]),
        ]
    )
    err = capsys.readouterr().err
    assert status == 2
    assert "codeformer.pth" in err and "weights download codeformer" in err


def test_bad_options_are_explained(batch, capsys) -> None:
    assert run(batch, "-w", "1.5") == 2
    assert "--fidelity must be between 0 and 1" in capsys.readouterr().err
    assert main(["restore", str(batch["inputs"] / "nope.jpg")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_aligned_crops(batch, tmp_path, capsys) -> None:
    crops = tmp_path / "crops"
    crops.mkdir()
    rng = np.random.default_rng(0)
    from core.photo_io import write_photo

    write_photo(crops / "face.png", rng.integers(0, 255, (512, 512, 3), dtype=np.uint8))
    status = main(
        [
            "restore",
            str(crops),
            "--aligned",
            "-o",
            str(batch["out"]),
            "--weights-dir",
            str(batch["weights"]),
            "--device",
            "cpu",
        ]
    )
    assert status == 0, capsys.readouterr()
    assert read_photo(batch["out"] / "face_restored.png").pixels.shape == (512, 512, 3)


def test_inpaint_with_a_mask(batch, tmp_path, capsys) -> None:
    from core.photo_io import write_photo

    mask = np.zeros((512, 512), np.uint8)
    mask[118:140, 205:240] = 255
    write_photo(tmp_path / "mask.png", mask)
    photo = batch["inputs"] / "astronaut.png"
    status = main(
        [
            "restore",
            str(photo),
            "--task",
            "inpaint",
            "--mask",
            str(tmp_path / "mask.png"),
            "-o",
            str(batch["out"]),
            "--weights-dir",
            str(batch["weights"]),
            "--landmarks",
            str(batch["landmarks"]),
            "--paste-mask",
            "square",
        ]
    )
    assert status == 0, capsys.readouterr()
    out = read_photo(batch["out"] / "astronaut_restored.png").pixels
    original = read_photo(photo).pixels
    assert np.abs(out[118:140, 205:240].astype(int) - original[118:140, 205:240]).mean() > 3


def test_weights_commands(batch, tmp_path, capsys, tiny_checkpoints) -> None:
    folder = tmp_path / "w"
    assert main(["weights", "--weights-dir", str(folder), "path"]) == 0
    assert capsys.readouterr().out.strip() == str(folder)
    assert main(["weights", "--weights-dir", str(folder), "list"]) == 0
    listing = capsys.readouterr().out
    assert (
        "codeformer.pth" in listing and "missing" in listing and "non-commercial" in listing.lower()
    )
    status = main(
        [
            "weights",
            "--weights-dir",
            str(folder),
            "import",
            "codeformer",
            str(tiny_checkpoints["restoration"]),
        ]
    )
    assert status == 2, "a file that does not match the published size and hash is refused"
    assert "codeformer" in capsys.readouterr().err


def test_help_explains_every_option(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["restore", "--help"])
    text = capsys.readouterr().out
    for option in (
        "--fidelity",
        "--upscale",
        "--background",
        "--face-upsample",
        "--detector",
        "--only-center-face",
        "--device",
        "--precision",
        "--format",
        "--quality",
        "--suffix",
        "--existing",
        "--aligned",
        "--recursive",
        "--task",
        "--mask",
    ):
        assert option in text
