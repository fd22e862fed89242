"""Background upscaling: plain resize, and Real-ESRGAN through spandrel in padded tiles."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from core.errors import Cancelled, CheckpointError, WeightsMissingError
from core.faces.upsample import (
    BackgroundUpsampler,
    RealESRGANUpsampler,
    ResizeUpsampler,
    resize_image,
)
from tests.faces_support import forbid_network, read_rgb


def _rrdb_state(shuffle: bool, seed: int = 0) -> dict[str, torch.Tensor]:
    """A random, tiny RRDBNet in spandrel's layout: x2plus-like (pixel unshuffle) or x4plus-like."""
    from spandrel.architectures.ESRGAN import ESRGAN

    torch.manual_seed(seed)
    net = ESRGAN(
        in_nc=12 if shuffle else 3,
        out_nc=3,
        num_filters=8,
        num_blocks=1,
        scale=4,
        shuffle_factor=2 if shuffle else None,
    )
    return {k: v.clone() for k, v in net.state_dict().items()}


@pytest.fixture
def x2_weights(tmp_path: Path) -> Path:
    path = tmp_path / "RealESRGAN_x2plus.pth"
    torch.save({"params_ema": _rrdb_state(shuffle=True)}, path)
    return path


@pytest.fixture
def x4_weights(tmp_path: Path) -> Path:
    path = tmp_path / "RealESRGAN_x4plus.pth"
    torch.save({"params_ema": _rrdb_state(shuffle=False)}, path)
    return path


def _image(height: int, width: int) -> np.ndarray:
    rgb = read_rgb("astronaut.png")[100 : 100 + height, 150 : 150 + width]
    return np.ascontiguousarray(rgb)


def test_resize_upsampler() -> None:
    up: BackgroundUpsampler = ResizeUpsampler()
    rgb = _image(30, 40)
    same = up.upscale(rgb, 1)
    assert same is not rgb and np.array_equal(same, rgb)
    double = up.upscale(rgb, 2)
    assert double.shape == (60, 80, 3) and double.dtype == np.uint8
    assert np.abs(double[::2, ::2].astype(int) - rgb.astype(int)).mean() < 8
    wide = up.upscale(rgb.astype(np.uint16) * 257, 3)
    assert wide.shape == (90, 120, 3) and wide.dtype == np.uint16
    cubic = ResizeUpsampler("cubic").upscale(rgb, 4)
    assert cubic.shape == (120, 160, 3)
    assert resize_image(double, (40, 30)).shape == (30, 40, 3)
    with pytest.raises(Cancelled):
        up.upscale(rgb, 2, cancel=lambda: True)
    with pytest.raises(ValueError):
        ResizeUpsampler("nearest")


def test_realesrgan_x2_upsamples_in_tiles(
    x2_weights: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    forbid_network(monkeypatch)
    up: BackgroundUpsampler = RealESRGANUpsampler(x2_weights, "cpu", tile=16, tile_pad=4)
    assert isinstance(up, RealESRGANUpsampler) and up.native_scale == 2
    rgb = _image(40, 52)
    reports: list[float] = []
    out = up.upscale(rgb, 2, progress=lambda what, fraction: reports.append(fraction))
    assert out.shape == (80, 104, 3) and out.dtype == np.uint8
    assert len(reports) == math.ceil(40 / 16) * math.ceil(52 / 16)
    assert reports == sorted(reports) and reports[-1] == 1.0
    assert out.std() > 0  # the random network does compute something


@pytest.mark.parametrize(
    ("factor", "tile", "pad"), [(1, 32, 40), (2, 32, 40), (3, 32, 40), (2, 30, 38)]
)
def test_tiles_join_without_seams(x2_weights: Path, factor: int, tile: int, pad: int) -> None:
    """With padding wider than the tiny network's receptive field (about 37 px), tiling changes
    nothing (to one 8-bit level), also when the native x2 output is resized to another factor
    and when tiles do not start on the pixel-unshuffle grid."""
    rgb = _image(96, 128)
    whole = RealESRGANUpsampler(x2_weights, tile=0).upscale(rgb, factor)
    tiled = RealESRGANUpsampler(x2_weights, tile=tile, tile_pad=pad).upscale(rgb, factor)
    assert tiled.shape == (96 * factor, 128 * factor, 3)
    assert np.abs(whole.astype(int) - tiled.astype(int)).max() <= 1


def test_x4_model_at_factor_2(x4_weights: Path) -> None:
    up = RealESRGANUpsampler(x4_weights, tile=24, tile_pad=6)
    assert up.native_scale == 4
    out = up.upscale(_image(30, 50), 2)
    assert out.shape == (60, 100, 3)


def test_cancel_between_tiles(x2_weights: Path) -> None:
    up = RealESRGANUpsampler(x2_weights, tile=16, tile_pad=4)
    calls = {"model": 0, "cancel": 0}
    model = up._model

    def counting(tensor: torch.Tensor) -> torch.Tensor:
        calls["model"] += 1
        return model(tensor)

    def cancel() -> bool:
        calls["cancel"] += 1
        return calls["cancel"] >= 3

    up._model = counting
    with pytest.raises(Cancelled):
        up.upscale(_image(40, 52), 2, cancel=cancel)
    assert calls == {"model": 2, "cancel": 3}


def test_sixteen_bit_and_safetensors(tmp_path: Path) -> None:
    path = tmp_path / "RealESRGAN_x2plus.safetensors"
    save_file(_rrdb_state(shuffle=True), str(path))
    up = RealESRGANUpsampler(path, tile=0)
    rgb = _image(20, 24)
    out16 = up.upscale(rgb.astype(np.uint16) * 257, 2)
    out8 = up.upscale(rgb, 2)
    assert out16.dtype == np.uint16 and out16.shape == (40, 48, 3)
    assert np.abs(out16.astype(int) - out8.astype(int) * 257).max() <= 257


def test_missing_and_wrong_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    forbid_network(monkeypatch)
    missing = tmp_path / "RealESRGAN_x2plus.pth"
    with pytest.raises(WeightsMissingError) as info:
        RealESRGANUpsampler(missing)
    assert "RealESRGAN_x2plus.pth" in str(info.value) and str(tmp_path) in str(info.value)
    torch.save({"params_ema": {"conv.weight": torch.zeros(3, 3, 3, 3)}}, missing)
    with pytest.raises(CheckpointError, match="super-resolution"):
        RealESRGANUpsampler(missing)
    torch.save({"params_ema": {"model.0.weight": Path("/etc/passwd")}}, missing)
    with pytest.raises(CheckpointError, match="refused"):
        RealESRGANUpsampler(missing)


def test_bad_factor(x2_weights: Path) -> None:
    up = RealESRGANUpsampler(x2_weights)
    with pytest.raises(ValueError):
        up.upscale(_image(8, 8), 1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        up.upscale(_image(8, 8), 0)
