"""Soft paste masks: the square mask's shape and the parsing classes kept and excluded."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from core.errors import CheckpointError, WeightsMissingError
from core.faces.masks import (
    PARSING_CLASSES,
    PARSING_FILE,
    FaceParser,
    combine_masks,
    parsing_to_mask,
    square_mask,
)
from tests.faces_support import forbid_network, read_rgb, weights_folder


@pytest.mark.parametrize("size", [64, 512])
def test_square_mask(size: int) -> None:
    mask = square_mask(size)
    assert mask.shape == (size, size) and mask.dtype == np.float32
    assert mask.min() >= 0.0 and mask.max() <= 1.0
    # zero on the outer ring, one in the middle, symmetric, monotone from edge to centre
    assert (
        not mask[0].any() and not mask[-1].any() and not mask[:, 0].any() and not mask[:, -1].any()
    )
    assert mask[size // 2, size // 2] == 1.0
    assert (
        np.allclose(mask, mask.T)
        and np.allclose(mask, mask[::-1])
        and np.allclose(mask, mask[:, ::-1])
    )
    row = mask[size // 2, : size // 2]
    assert np.all(np.diff(row) >= -1e-7)
    # a soft edge about S/20 wide, as the reference
    ramp = np.count_nonzero((row > 0.01) & (row < 0.99))
    assert size // 40 <= ramp <= size // 10 + 2


def test_parsing_mask_keeps_face_and_hair_and_drops_the_rest() -> None:
    index = {name: i for i, name in enumerate(PARSING_CLASSES)}
    labels = np.full((512, 512), index["background"], dtype=np.uint8)
    labels[150:450, 150:350] = index["skin"]
    labels[40:150, 150:350] = index["hair"]
    labels[450:512, 100:400] = index["cloth"]
    labels[0:40, 150:350] = index["hat"]
    mask = parsing_to_mask(labels)
    assert mask.shape == (512, 512) and mask.dtype == np.float32
    assert mask[300, 250] > 0.99  # skin
    assert mask[95, 250] > 0.5  # hair, kept
    assert mask[500, 120] < 0.1  # cloth
    assert mask[300, 20] < 0.01  # background
    assert not mask[:10].any() and not mask[:, -10:].any()  # the reference's 10 px border


def test_combine_masks_is_the_minimum() -> None:
    square = square_mask(512)
    parsing = np.zeros((512, 512), np.float32)
    parsing[:, :256] = 1.0
    combined = combine_masks(square, parsing)
    assert np.array_equal(combined, np.minimum(square, parsing))
    with pytest.raises(ValueError):
        combine_masks(square, parsing[:64, :64])


# -- FaceParser: weights from the folder only, weights_only loading, no network -------------


def test_missing_parsing_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    forbid_network(monkeypatch)
    folder = weights_folder(tmp_path)
    with pytest.raises(WeightsMissingError) as info:
        FaceParser(folder)
    assert PARSING_FILE in str(info.value) and str(folder) in str(info.value)
    assert list(folder.iterdir()) == []


def test_face_parser_runs_on_random_weights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from facexlib.parsing.parsenet import ParseNet

    folder = weights_folder(tmp_path)
    net = ParseNet(in_size=512, out_size=512, parsing_ch=19)
    torch.save(net.state_dict(), folder / PARSING_FILE)
    forbid_network(monkeypatch)
    parser = FaceParser(folder, "cpu")
    face = cv2.resize(read_rgb("astronaut.png")[40:200, 140:300], (128, 128))
    seen: list[np.ndarray] = []
    labels_of = parser.labels

    def spy(face_rgb: np.ndarray) -> np.ndarray:
        seen.append(labels_of(face_rgb))
        return seen[-1]

    monkeypatch.setattr(parser, "labels", spy)
    mask = parser.mask(face)  # one ParseNet pass at 512 (about 3 s on a 2-core CPU)
    (labels,) = seen
    assert labels.shape == (512, 512) and labels.dtype == np.uint8 and labels.max() < 19
    assert mask.shape == (128, 128) and mask.dtype == np.float32
    assert mask.min() >= 0.0 and mask.max() <= 1.0
    expected = cv2.resize(parsing_to_mask(labels), (128, 128), interpolation=cv2.INTER_LINEAR)
    assert np.allclose(mask, np.clip(expected, 0, 1))


def test_wrong_parsing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    forbid_network(monkeypatch)
    folder = weights_folder(tmp_path)
    torch.save({"encoder.0.weight": torch.zeros(1)}, folder / PARSING_FILE)
    with pytest.raises(CheckpointError, match="ParseNet"):
        FaceParser(folder)
