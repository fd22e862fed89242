"""The inference forms of the blocks compute what the plain forms compute: the in-place forms
bit for bit, the upsampling as a transposed convolution and the fusion from a skip share up to
float rounding. (That encode + decode equals the one-shot forward: test_encode_decode.)"""

from __future__ import annotations

import pytest
import torch

from core.net.blocks import (
    FuseBlock,
    ResBlock,
    Upsample,
    transposed_kernel,
    upsample_conv_transposed,
)


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


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("size", [(1, 1), (5, 7), (16, 16)])
def test_transposed_upsample_equals_upsample_then_conv(size, channels_last) -> None:
    torch.manual_seed(2)
    block = Upsample(24).eval()
    x = _random(2, 24, *size, seed=3)
    if channels_last:
        block = block.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    before = x.clone()
    with torch.inference_mode():
        expected = block(x)
        got = block.infer(x)
    assert got.shape == expected.shape == (2, 24, 2 * size[0], 2 * size[1])
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)
    assert (got - expected).abs().max() > 0 or size == (1, 1)  # another computation: rounds apart
    if size != (1, 1):  # one-pixel inputs are both layouts at once
        assert got.is_contiguous(memory_format=torch.channels_last) == channels_last
    assert torch.equal(x, before)


def test_transposed_upsample_without_bias_and_in_bf16() -> None:
    weight = _random(8, 4, 3, 3, seed=4)
    x = _random(1, 4, 6, 6, seed=5)
    plain = torch.nn.functional.conv2d(
        torch.nn.functional.interpolate(x, scale_factor=2.0, mode="nearest"), weight, padding=1
    )
    torch.testing.assert_close(upsample_conv_transposed(x, weight, None), plain, atol=1e-5, rtol=0)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        rounded = upsample_conv_transposed(x, weight, None)
    assert rounded.dtype == torch.bfloat16
    torch.testing.assert_close(rounded.float(), plain, atol=0.1, rtol=0.02)


def test_transposed_kernel_redistributes_the_taps() -> None:
    """Each output pixel sees 2 x 2 taps of the transposed kernel that hold all nine official
    taps once; the corner taps are the official corners."""
    weight = _random(3, 2, 3, 3, seed=6)
    kernel = transposed_kernel(weight)
    assert kernel.shape == (2, 3, 4, 4)  # Cin x Cout x 4 x 4
    full = weight.sum(dim=(2, 3)).t()
    for rows in ((0, 2), (1, 3)):  # the taps one output row parity uses
        for columns in ((0, 2), (1, 3)):
            taps = kernel[:, :, list(rows)][:, :, :, list(columns)]
            torch.testing.assert_close(taps.sum(dim=(2, 3)), full)
    assert torch.equal(kernel[:, :, 3, 3], weight[:, :, 0, 0].t())
    assert torch.equal(kernel[:, :, 0, 0], weight[:, :, 2, 2].t())


@pytest.mark.parametrize("channels_last", [False, True])
def test_modulation_from_the_skip_share_equals_modulation(channels_last) -> None:
    torch.manual_seed(7)
    block = FuseBlock(32, groups=32).eval()
    skip, decoder = _random(2, 32, 12, 12, seed=8), _random(2, 32, 12, 12, seed=9)
    if channels_last:
        block = block.to(memory_format=torch.channels_last)
        skip, decoder = (t.contiguous(memory_format=torch.channels_last) for t in (skip, decoder))
    with torch.inference_mode():
        share = block.skip_share(skip)
        kept = (share.hidden.clone(), share.shortcut.clone(), decoder.clone())
        expected = block.modulation(skip, decoder)
        got = block.modulation_from_share(share, decoder)
    for mine, theirs in zip(got, expected, strict=True):
        torch.testing.assert_close(mine, theirs, atol=1e-5, rtol=1e-5)
    assert all(map(torch.equal, kept, (share.hidden, share.shortcut, decoder)))


def test_resblock_input_shares_add_up_to_the_block() -> None:
    torch.manual_seed(10)
    block = ResBlock(64, 32, groups=32).eval()
    x = _random(1, 64, 8, 8, seed=11)
    with torch.inference_mode():
        first = block.input_share(x[:, :16], 0, with_bias=True)
        second = block.input_share(x[:, 16:], 16, with_bias=False)
        hidden, shortcut = (a + b for a, b in zip(first, second, strict=True))
        torch.testing.assert_close(block.finish(hidden, shortcut), block(x), atol=1e-5, rtol=0)
        with pytest.raises(ValueError, match="cut through norm1's groups"):
            block.input_share(x[:, :15], 0, with_bias=True)  # groups of 2 channels
        with pytest.raises(ValueError, match="projected shortcut"):
            ResBlock(32, 32, groups=32).input_share(x[:, :32], 0, with_bias=True)


def test_fusion_block_refuses_groups_that_cannot_split() -> None:
    with pytest.raises(ValueError, match="even number of norm groups"):
        FuseBlock(6, groups=3)
