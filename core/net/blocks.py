"""Building blocks of the CodeFormer encoder and generator (see shared SPEC: "Building blocks").

Attribute names and registration order match the official state dict exactly.

`forward` is the plain formulation of the paper and the official code (the reference the tests
compare against). The inference forms used by `CodeFormerNet.encode` and `decode` compute the
same values faster:
- `ResBlock.infer` and `FuseBlock.fuse_infer` with in-place operations: fewer new tensors and
  passes over large feature maps, and the very same roundings (bit-identical results);
- `Upsample.infer` as one transposed convolution at the input's size
  (`upsample_conv_transposed`): 2.25x fewer multiply-adds, equal up to float rounding (its
  kernels are sums of the official ones);
- `FuseBlock.skip_share` and `modulation_from_share`: the encoder skip's half of a fusion
  point's first residual block is computed once per face, the decoder's half per fidelity;
  equal up to float rounding (two convolutions summed instead of one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

GROUP_NORM_EPS = 1e-6


def group_norm(channels: int, groups: int) -> nn.GroupNorm:
    return nn.GroupNorm(num_groups=groups, num_channels=channels, eps=GROUP_NORM_EPS, affine=True)


def swish(x: torch.Tensor) -> torch.Tensor:
    return x * torch.sigmoid(x)


def swish_(x: torch.Tensor) -> torch.Tensor:
    """`swish` in place: the same roundings (`x * sigmoid(x)`), no new tensor for the product."""
    return x.mul_(torch.sigmoid(x))


class ResBlock(nn.Module):
    """norm1 -> swish -> conv1 -> norm2 -> swish -> conv2, plus the (projected) input."""

    def __init__(self, in_channels: int, out_channels: int, groups: int) -> None:
        super().__init__()
        self.norm1 = group_norm(in_channels, groups)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.norm2 = group_norm(out_channels, groups)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.conv_out: nn.Conv2d | None = None
        if in_channels != out_channels:
            self.conv_out = nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(swish(self.norm1(x)))
        h = self.conv2(swish(self.norm2(h)))
        shortcut = x if self.conv_out is None else self.conv_out(x)
        return h + shortcut

    def infer(self, x: torch.Tensor) -> torch.Tensor:
        """`forward` with fused swish and in-place adds (inference only; `x` is not changed)."""
        hidden = self.conv1(swish_(self.norm1(x)))
        return self.finish(hidden, x if self.conv_out is None else self.conv_out(x))

    def finish(self, hidden: torch.Tensor, shortcut: torch.Tensor) -> torch.Tensor:
        """The block after conv1: norm2 -> swish -> conv2, plus `shortcut` (both consumed)."""
        return self.conv2(swish_(self.norm2(hidden))).add_(shortcut)

    def input_share(
        self, part: torch.Tensor, start: int, *, with_bias: bool
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """conv1(swish(norm1(x))) and conv_out(x), from input channels [start, start + C) alone.

        `part` (B x C x H x W) is those channels of the input x. Summed over a partition of the
        input channels (the biases counted once), the shares are conv1's output and the
        shortcut of `infer(x)`: norm1's groups must not straddle a part's edges, so that each
        part is normalised on its own. Only blocks that project their input (`conv_out`) split.
        """
        if self.conv_out is None:
            raise ValueError("only a block with a projected shortcut splits its input")
        count = part.shape[1]
        per_group = self.norm1.num_channels // self.norm1.num_groups
        if start % per_group or count % per_group:
            raise ValueError(
                f"channels {start}..{start + count} cut through norm1's groups of {per_group}"
            )
        window = slice(start, start + count)
        weight, bias = self.norm1.weight[window], self.norm1.bias[window]
        normed = F.group_norm(part, count // per_group, weight, bias, self.norm1.eps)
        hidden = F.conv2d(
            swish_(normed),
            self.conv1.weight[:, window],
            self.conv1.bias if with_bias else None,
            padding=1,
        )
        shortcut = F.conv2d(
            part, self.conv_out.weight[:, window], self.conv_out.bias if with_bias else None
        )
        return hidden, shortcut


class AttnBlock(nn.Module):
    """Single-head spatial self-attention with a residual connection."""

    def __init__(self, channels: int, groups: int) -> None:
        super().__init__()
        self.norm = group_norm(channels, groups)
        self.q = nn.Conv2d(channels, channels, 1)
        self.k = nn.Conv2d(channels, channels, 1)
        self.v = nn.Conv2d(channels, channels, 1)
        self.proj_out = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        normed = self.norm(x)
        # B x 1 x HW x C: one head whose queries, keys and values are the spatial positions.
        q = self.q(normed).reshape(b, 1, c, h * w).transpose(2, 3)
        k = self.k(normed).reshape(b, 1, c, h * w).transpose(2, 3)
        v = self.v(normed).reshape(b, 1, c, h * w).transpose(2, 3)
        attended = F.scaled_dot_product_attention(q, k, v)  # softmax(q.k / sqrt(C)) v
        attended = attended.transpose(2, 3).reshape(b, c, h, w)
        return x + self.proj_out(attended)


class Downsample(nn.Module):
    """Pad right and bottom by one, then a 3x3 convolution with stride 2."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.pad(x, (0, 1, 0, 1), mode="constant", value=0.0))


class Upsample(nn.Module):
    """Nearest-neighbour x2, then a 3x3 convolution."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))

    def infer(self, x: torch.Tensor) -> torch.Tensor:
        """`forward` as one transposed convolution (`upsample_conv_transposed`): 16 instead of 36
        multiply-adds per input pixel and channel pair, the same values up to float rounding."""
        return upsample_conv_transposed(x, self.conv.weight, self.conv.bias)


def _spread_taps(weight: torch.Tensor, dim: int) -> torch.Tensor:
    """Three taps along `dim` of a 3x3 kernel on a nearest-x2 map -> four taps of a stride-2
    transposed convolution (padding 1) on the map before upsampling.

    Output 2i lies over upsampled pixels 2i-1, 2i, 2i+1, that is input pixels i-1, i, i: taps
    w0 on i-1 and w1 + w2 on i. Output 2i+1 lies over 2i, 2i+1, 2i+2 = input i, i, i+1: taps
    w0 + w1 on i and w2 on i+1. A transposed convolution puts input i's tap k on output
    2i - 1 + k, so its taps k = 0..3 are (w2, w1 + w2, w0 + w1, w0).
    """
    w0, w1, w2 = weight.unbind(dim)
    return torch.stack((w2, w1 + w2, w0 + w1, w0), dim)


def transposed_kernel(weight: torch.Tensor) -> torch.Tensor:
    """Cout x Cin x 3 x 3 kernel after nearest x2 -> Cin x Cout x 4 x 4 transposed kernel."""
    return _spread_taps(_spread_taps(weight, 2), 3).transpose(0, 1)


def upsample_conv_transposed(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None
) -> torch.Tensor:
    """`conv2d(interpolate(x, x2, nearest), weight, bias, padding=1)` without upsampling first.

    x: B x Cin x H x W; weight: Cout x Cin x 3 x 3. Every output pixel sees 2 x 2 input pixels
    through sums of the official taps (`transposed_kernel`); the zero border of the upsampled
    map is the zero border of `x`, so the edges are exact too. Returns B x Cout x 2H x 2W.
    """
    kernel = transposed_kernel(weight)
    if x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous():
        kernel = kernel.contiguous(memory_format=torch.channels_last)
    return F.conv_transpose2d(x, kernel, bias, stride=2, padding=1)


class TransformerLayer(nn.Module):
    """Pre-norm self-attention layer; the position embedding is added to queries and keys only.

    Tokens are B x N x C (batch first).
    """

    def __init__(self, dim: int, n_head: int, ff_dim: int) -> None:
        super().__init__()
        self.self_attn = nn.MultiheadAttention(dim, n_head, dropout=0.0, batch_first=True)
        self.linear1 = nn.Linear(dim, ff_dim)
        self.linear2 = nn.Linear(ff_dim, dim)
        self.norm1 = nn.LayerNorm(dim)
        self.norm2 = nn.LayerNorm(dim)

    def forward(self, tokens: torch.Tensor, position: torch.Tensor) -> torch.Tensor:
        normed = self.norm1(tokens)
        query_key = normed + position
        attended, _ = self.self_attn(query_key, query_key, normed, need_weights=False)
        tokens = tokens + attended
        return tokens + self.linear2(F.gelu(self.linear1(self.norm2(tokens))))


@dataclass(frozen=True, eq=False)
class SkipShare:
    """The encoder skip's share of a fusion point's first residual block (`encode_enc`).

    It does not depend on the fidelity, so it is computed once per face. Both B x C x S x S:
    `hidden`, conv1 on swish(norm1(skip)) with conv1's bias; `shortcut`, conv_out on the skip
    with conv_out's bias.
    """

    hidden: torch.Tensor
    shortcut: torch.Tensor

    def apply(self, change: Callable[[torch.Tensor], torch.Tensor]) -> SkipShare:
        """The same share with `change` applied to each tensor (select, move, ...)."""
        return SkipShare(hidden=change(self.hidden), shortcut=change(self.shortcut))


class FuseBlock(nn.Module):
    """Controllable feature transformation at one size: `dec + w * (dec * scale + shift)`."""

    def __init__(self, channels: int, groups: int) -> None:
        super().__init__()
        if (2 * channels) % groups or channels % (2 * channels // groups):
            raise ValueError(
                f"a fusion block of {channels} channels needs an even number of norm groups "
                f"that divides {2 * channels}, not {groups}"
            )
        self.channels = channels
        self.encode_enc = ResBlock(2 * channels, channels, groups)
        self.scale = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(channels, channels, 3, padding=1),
        )
        self.shift = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(channels, channels, 3, padding=1),
        )

    def modulation(
        self, skip: torch.Tensor, decoder: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (scale, shift) from the encoder skip and the decoder state; no `w` involved."""
        fused = self.encode_enc(torch.cat([skip, decoder], dim=1))
        return self.scale(fused), self.shift(fused)

    def skip_share(self, skip: torch.Tensor) -> SkipShare:
        """The part of `modulation` that depends on the skip alone (w-independent)."""
        hidden, shortcut = self.encode_enc.input_share(skip, 0, with_bias=True)
        return SkipShare(hidden=hidden, shortcut=shortcut)

    def modulation_from_share(
        self, share: SkipShare, decoder: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """`modulation(skip, decoder)` given the skip's share: the decoder's half of the first
        residual block, and the rest. Equal up to float rounding; `share` is not changed."""
        block = self.encode_enc
        hidden, shortcut = block.input_share(decoder, self.channels, with_bias=False)
        # The share is fp32; under autocast the convolutions give bf16 or fp16. Cast first: an
        # in-place add across dtypes takes the slow path (30x slower on the CPU).
        hidden.add_(share.hidden.to(hidden.dtype))
        shortcut.add_(share.shortcut.to(shortcut.dtype))
        fused = block.finish(hidden, shortcut)
        return self.scale(fused), self.shift(fused)

    @staticmethod
    def fuse(
        decoder: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor, fidelity: float
    ) -> torch.Tensor:
        return decoder + fidelity * (decoder * scale + shift)

    @staticmethod
    def fuse_infer(
        decoder: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor, fidelity: float
    ) -> torch.Tensor:
        """`fuse` with one new tensor instead of three, rounding alike; inputs not changed."""
        return (decoder * scale).add_(shift).mul_(fidelity).add_(decoder)


def adaptive_instance_norm(content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
    """Give `content` the per-channel mean and std of `style` (B x C x H x W each)."""
    eps = 1e-5

    def mean_std(feat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        flat = feat.flatten(2)
        mean = flat.mean(dim=2)[:, :, None, None]
        std = (flat.var(dim=2, unbiased=True) + eps).sqrt()[:, :, None, None]
        return mean, std

    content_mean, content_std = mean_std(content)
    style_mean, style_std = mean_std(style)
    return (content - content_mean) / content_std * style_std + style_mean
