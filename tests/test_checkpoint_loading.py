"""Loading checkpoints: every official layout loads, every bad file gets a clear error."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch

from core import load_model
from core.checkpoint import inspect_checkpoint, read_state_dict
from core.errors import CheckpointError, DeviceError
from core.net.config import RESTORATION, VARIANTS, Variant, tiny_config
from core.synthetic import random_state_dict, write_checkpoint


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_variant_is_told_from_the_state_dict(variant: Variant, tiny_checkpoints) -> None:
    renamed = tiny_checkpoints[variant.name].with_name("whatever.pth")
    renamed.write_bytes(tiny_checkpoints[variant.name].read_bytes())
    model = load_model(renamed, device="cpu", precision="fp32")
    assert model.variant.name == variant.name
    assert model.face_size == 64


@pytest.mark.parametrize("layout", ["params_ema", "bare", "safetensors"])
def test_accepted_file_layouts(layout: str, tmp_path: Path) -> None:
    config = tiny_config(RESTORATION)
    if layout == "safetensors":
        path = write_checkpoint(tmp_path / "cf.safetensors", config)
    else:
        path = write_checkpoint(
            tmp_path / "cf.pth", config, wrapper=None if layout == "bare" else "params_ema"
        )
    model = load_model(path, device="cpu", precision="fp32")
    expected = random_state_dict(config)
    for key, value in model.net.state_dict().items():
        assert torch.equal(value, expected[key]), key


@pytest.mark.full_size
def test_full_size_official_layout_loads(tmp_path: Path) -> None:
    path = write_checkpoint(tmp_path / "codeformer.pth", RESTORATION.network)
    info = inspect_checkpoint(path)
    assert info.variant.name == "restoration"
    assert info.tensors == 515
    assert info.values == 94112707


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="no such file"):
        load_model(tmp_path / "nope.pth", device="cpu")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.pth"
    path.write_bytes(b"")
    with pytest.raises(CheckpointError, match=r"empty.pth: the file is empty"):
        load_model(path, device="cpu")


def test_truncated_file(tmp_path: Path, tiny_checkpoints) -> None:
    data = tiny_checkpoints["restoration"].read_bytes()
    path = tmp_path / "codeformer.pth"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(
        CheckpointError, match=r"codeformer.pth: the checkpoint is truncated or damaged"
    ):
        load_model(path, device="cpu")


def test_truncated_safetensors(tmp_path: Path) -> None:
    path = write_checkpoint(tmp_path / "cf.safetensors", tiny_config(RESTORATION))
    path.write_bytes(path.read_bytes()[:-1000])
    with pytest.raises(CheckpointError, match="truncated or damaged"):
        load_model(path, device="cpu")


def test_not_a_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "photo.pth"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10)
    with pytest.raises(CheckpointError, match=r"photo.pth: not a PyTorch checkpoint"):
        load_model(path, device="cpu")


def test_pickle_with_code_is_refused(tmp_path: Path) -> None:
    class Evil:
        def __reduce__(self):
            return (print, ("this must never run",))

    path = tmp_path / "evil.pth"
    torch.save({"params_ema": {"x": torch.zeros(1)}, "evil": Evil()}, path)
    with pytest.raises(CheckpointError, match="refused to load"):
        load_model(path, device="cpu")


def test_legacy_pickle_that_is_not_torch(tmp_path: Path) -> None:
    path = tmp_path / "data.pth"
    path.write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(CheckpointError, match=r"data\.pth"):
        load_model(path, device="cpu")


def test_dict_without_tensors(tmp_path: Path) -> None:
    path = tmp_path / "cfg.pth"
    torch.save({"params_ema": {"lr": 0.1}}, path)
    with pytest.raises(CheckpointError, match="not a checkpoint"):
        read_state_dict(path)


def test_other_architecture(tmp_path: Path) -> None:
    path = tmp_path / "RealESRGAN_x2plus.pth"
    torch.save({"params_ema": {"conv_first.weight": torch.zeros(64, 12, 3, 3)}}, path)
    with pytest.raises(
        CheckpointError, match=r"RealESRGAN_x2plus.pth: a different architecture, not CodeFormer"
    ):
        load_model(path, device="cpu")


def test_missing_tensor(tmp_path: Path) -> None:
    state = random_state_dict(tiny_config(RESTORATION))
    del state["generator.blocks.3.conv2.weight"]
    path = tmp_path / "cf.pth"
    torch.save({"params_ema": state}, path)
    with pytest.raises(
        CheckpointError, match=r"1 missing tensors \(generator.blocks.3.conv2.weight\)"
    ):
        load_model(path, device="cpu")


def test_misshaped_tensor(tmp_path: Path) -> None:
    state = random_state_dict(tiny_config(RESTORATION))
    state["generator.blocks.3.conv2.bias"] = torch.zeros(7)
    path = tmp_path / "cf.pth"
    torch.save({"params_ema": state}, path)
    with pytest.raises(
        CheckpointError, match=r"wrong shape \(generator.blocks.3.conv2.bias \(7,\)"
    ):
        load_model(path, device="cpu")


def test_unexpected_tensor(tmp_path: Path) -> None:
    state = random_state_dict(tiny_config(RESTORATION))
    state["extra.weight"] = torch.zeros(3)
    path = tmp_path / "cf.pth"
    torch.save({"params_ema": state}, path)
    with pytest.raises(CheckpointError, match=r"unexpected tensors \(extra.weight\)"):
        load_model(path, device="cpu")


def test_unsupported_variant(tmp_path: Path) -> None:
    config = tiny_config(RESTORATION)
    from dataclasses import replace

    path = write_checkpoint(tmp_path / "cf.pth", replace(config, codebook_size=300))
    with pytest.raises(CheckpointError, match="unsupported CodeFormer variant"):
        load_model(path, device="cpu")


def test_half_precision_file_loads_as_fp32(tmp_path: Path) -> None:
    state = {k: v.half() for k, v in random_state_dict(tiny_config(RESTORATION)).items()}
    path = tmp_path / "cf16.pth"
    torch.save({"params_ema": state}, path)
    model = load_model(path, device="cpu", precision="fp32")
    assert next(model.net.parameters()).dtype == torch.float32


def test_refused_device(tiny_checkpoints) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(DeviceError, match="CUDA was asked for"):
        load_model(tiny_checkpoints["restoration"], device="cuda")
    with pytest.raises(DeviceError, match="unknown device"):
        load_model(tiny_checkpoints["restoration"], device="tpu")
    with pytest.raises(DeviceError, match="unknown precision"):
        load_model(tiny_checkpoints["restoration"], device="cpu", precision="int3")


def test_auto_device_and_precision(tiny_checkpoints) -> None:
    model = load_model(tiny_checkpoints["restoration"])
    expected = "cuda" if torch.cuda.is_available() else model.device.type
    assert model.device.type == expected
    assert model.precision in ("fp32", "bf16", "fp16")


def test_position_embedding_of_a_wrong_shape_is_named(tmp_path: Path) -> None:
    state = random_state_dict(tiny_config(RESTORATION))
    state["position_emb"] = torch.zeros(10, 10)  # once escaped as an AssertionError of attention
    path = tmp_path / "finetune.pth"
    torch.save({"params_ema": state}, path)
    with pytest.raises(CheckpointError, match=r"finetune.pth: .*position_emb.*\(10, 10\)"):
        load_model(path, device="cpu")


def _bad_shapes(tensor: torch.Tensor) -> list[torch.Tensor]:
    """Tensors no checkpoint of this layout can hold in place of `tensor`."""
    bad = [torch.zeros(()), torch.zeros(0), torch.zeros(*tensor.shape, 1)]
    if tensor.dim() >= 1:
        bad.append(torch.zeros(tensor.shape[0] + 3, *tensor.shape[1:]))
    if tensor.dim() >= 2:
        bad.append(torch.zeros(tensor.shape[0], tensor.shape[1] + 5, *tensor.shape[2:]))
    return bad


def test_no_malformed_tensor_escapes_as_anything_but_a_checkpoint_error(tmp_path: Path) -> None:
    """Every third tensor of a tiny checkpoint in turn replaced by a wrong shape, an integer
    tensor, or left out (the kind of damage cycling over the tensors): only CheckpointError
    leaves the loader, and its message names the file."""
    state = random_state_dict(tiny_config(RESTORATION))
    path = tmp_path / "community_copy.pth"
    kinds = 7
    for i, key in enumerate(list(state)[::3]):
        broken = dict(state)
        kind = i % kinds
        if kind == kinds - 1:
            del broken[key]
        elif kind == kinds - 2:
            broken[key] = state[key].to(torch.int64)
        else:
            bad = _bad_shapes(state[key])
            broken[key] = bad[kind % len(bad)]
        torch.save({"params_ema": broken}, path)
        with pytest.raises(CheckpointError, match=r"community_copy\.pth"):
            inspect_checkpoint(path)
