"""The in-place inference forms of the blocks compute exactly what the plain forms compute."""

from __future__ import annotations

import pytest
import torch

from core.checkpoint import load_network
from core.net.blocks import FuseBlock, ResBlock


def _random(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("channels_in, channels_out", [(64, 64), (64, 32)])
@pytest.mark.parametrize("channels_last", [False, True])
def test_resblock_infer_is_bit_identical(channels_in, channels_out, channels_last) -> None:
    torch.manual_seed(1)
    block = ResBlock(channels_in, channels_out, groups=32).eval()
    x = _random(2, channels_in, 16, 16)
    if channels_last:
        block = block.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    before = x.clone()
    with torch.inference_mode():
        assert torch.equal(block.infer(x), block(x))
    assert torch.equal(x, before)  # the input is not changed


def test_fuse_infer_is_bit_identical_and_leaves_inputs_alone() -> None:
    decoder, scale, shift = (_random(1, 8, 6, 6, seed=s) for s in (1, 2, 3))
    copies = [t.clone() for t in (decoder, scale, shift)]
    for w in (0.0, 0.3, 1.0):
        assert torch.equal(
            FuseBlock.fuse_infer(decoder, scale, shift, w), FuseBlock.fuse(decoder, scale, shift, w)
        )
    for t, copy in zip((decoder, scale, shift), copies, strict=True):
        assert torch.equal(t, copy)


@pytest.mark.parametrize("variant", ["restoration", "colorization", "inpainting"])
def test_split_is_bit_identical_to_one_shot(variant, tiny_checkpoints) -> None:
    net, spec = load_network(tiny_checkpoints[variant])
    x = _random(2, 3, 64, 64).clamp(-1, 1)
    with torch.inference_mode():
        encoded = net.encode(x, adain=spec.adain)
        for w in (0.0, 0.5, 1.0):
            assert torch.equal(net.decode(encoded, w), net(x, w, adain=spec.adain))
