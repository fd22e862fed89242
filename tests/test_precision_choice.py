"""Precision: encodings are fp32 at every precision; the start-up measurement picks a candidate."""

from __future__ import annotations

import pytest
import torch

from core.device import bf16_supported, candidate_precisions, measure_fastest_precision
from core.model import load_model

needs_bf16 = pytest.mark.skipif(
    not bf16_supported(torch.device("cpu")), reason="this CPU has no native bf16"
)


def faces(batch: int = 2) -> torch.Tensor:
    return torch.rand(batch, 3, 64, 64, generator=torch.Generator().manual_seed(4)) * 2 - 1


@needs_bf16
def test_reduced_precision_encodes_exactly_like_fp32(tiny_checkpoints) -> None:
    path = tiny_checkpoints["restoration"]
    exact = load_model(path, device="cpu", precision="fp32")
    fast = load_model(path, device="cpu", precision="bf16")
    x = faces()
    mine, theirs = fast.encode(x).features, exact.encode(x).features
    assert torch.equal(mine.code_indices, theirs.code_indices)
    assert all(map(torch.equal, mine.tensors(), theirs.tensors()))
    assert mine.generator_state.dtype == torch.float32


@needs_bf16
def test_fast_preview_and_exact_export_share_one_encoding(tiny_checkpoints) -> None:
    path = tiny_checkpoints["restoration"]
    exact = load_model(path, device="cpu", precision="fp32")
    fast = load_model(path, device="cpu", precision="bf16")
    x = faces()
    encoded = fast.encode(x)
    export = exact.decode(encoded, 0.7)
    assert torch.equal(export, exact.restore(x, 0.7))
    preview = fast.decode(encoded, 0.7)
    # the same codes: the preview only rounds (no face is replaced by another)
    assert (preview - export).abs().mean() < 0.02


def test_measure_fastest_precision_picks_a_measured_candidate() -> None:
    cpu = torch.device("cpu")
    choice = measure_fastest_precision(cpu, channels=32, size=16, repeats=1)
    assert set(choice.seconds) == set(candidate_precisions(cpu))
    assert choice.precision in choice.seconds
    assert all(0 < t < 10 for t in choice.seconds.values())
    if choice.precision != "fp32":  # a reduced precision must win by the margin
        assert choice.seconds[choice.precision] < 0.85 * choice.seconds["fp32"]


def test_measure_fastest_precision_keeps_fp32_without_a_clear_win() -> None:
    choice = measure_fastest_precision("cpu", channels=32, size=16, repeats=1, margin=0.0)
    assert choice.precision == "fp32"


def test_auto_precision_on_the_cpu_is_measured_or_fp32(monkeypatch) -> None:
    from core import device

    cpu = torch.device("cpu")
    monkeypatch.setattr(device, "cpu_has_fast_bf16", lambda: False)
    assert device.resolve_precision("auto", cpu) == "fp32"
    monkeypatch.setattr(device, "cpu_has_fast_bf16", lambda: True)
    for winner in ("bf16", "fp32"):
        monkeypatch.setattr(
            device,
            "measure_fastest_precision",
            lambda dev, w=winner: device.PrecisionChoice(precision=w, seconds={w: 0.1}),
        )
        assert device.resolve_precision("auto", cpu) == winner


def test_keep_freed_memory_applies_on_linux_glibc() -> None:
    import platform
    import sys

    from core.memory import keep_freed_memory

    assert "torch" in sys.modules  # (this test file imports it; core.memory itself does not)
    applied = keep_freed_memory()
    if sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc":
        assert applied is True
    else:
        assert applied is False
    assert torch.ones(64 << 20, dtype=torch.uint8).sum() == 64 << 20  # allocation still works


def test_core_memory_does_not_import_torch() -> None:
    import subprocess
    import sys

    code = "import sys, core.memory; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
