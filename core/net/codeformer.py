"""The CodeFormer network, split at the fidelity weight.

`encode` runs everything that does not depend on the fidelity `w` (encoder, transformer, code
lookup, AdaIN, generator up to the first fusion point, that point's scale and shift, and the
encoder skip's share of each later fusion point) and returns it as a frozen `Encoded` value.
`decode` runs only the rest. `forward` is the one-shot composition of the two. The network
keeps no per-image state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from core.callbacks import CancelCheck
from core.errors import Cancelled
from core.net.blocks import (
    AttnBlock,
    Downsample,
    FuseBlock,
    ResBlock,
    SkipShare,
    TransformerLayer,
    Upsample,
    adaptive_instance_norm,
    group_norm,
)
from core.net.config import NetworkConfig


@dataclass(frozen=True, eq=False)
class Encoded:
    """Everything about a batch of faces that does not depend on the fidelity.

    Tensors are batch-first; `batch` faces of `config.img_size` pixels.
    - `skip_shares`: per fusion size after the first one, the encoder skip's share of that
      fusion point's first residual block (`FuseBlock.skip_share`).
    - `generator_state`: the generator's output at the first fusion point (or the looked-up
      codes when the network has no fusion point), before any fusion.
    - `first_scale`, `first_shift`: modulation of the first fusion point (None without one).
    - `code_indices`: B x (latent*latent) long, the codebook entries chosen per token.
    """

    skip_shares: dict[int, SkipShare]
    generator_state: torch.Tensor
    first_scale: torch.Tensor | None
    first_shift: torch.Tensor | None
    code_indices: torch.Tensor

    @property
    def batch(self) -> int:
        return int(self.generator_state.shape[0])

    def tensors(self) -> tuple[torch.Tensor, ...]:
        """Every tensor held, in a fixed order (for sizes and comparisons)."""
        shares = [t for size in sorted(self.skip_shares) for t in self._share(size)]
        optional = [t for t in (self.first_scale, self.first_shift) if t is not None]
        return (*shares, self.generator_state, *optional, self.code_indices)

    def _share(self, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        share = self.skip_shares[size]
        return share.hidden, share.shortcut

    def _apply(self, change: Callable[[torch.Tensor], torch.Tensor]) -> Encoded:
        return Encoded(
            skip_shares={size: share.apply(change) for size, share in self.skip_shares.items()},
            generator_state=change(self.generator_state),
            first_scale=None if self.first_scale is None else change(self.first_scale),
            first_shift=None if self.first_shift is None else change(self.first_shift),
            code_indices=change(self.code_indices),
        )

    def select(self, index: int | slice | list[int]) -> Encoded:
        """The encoded faces at `index` along the batch (a view, no copy)."""
        if isinstance(index, int):
            index = slice(index, index + 1)
        return self._apply(lambda t: t[index])

    @staticmethod
    def concat(parts: list[Encoded]) -> Encoded:
        """Join encoded batches along the batch dimension."""
        if not parts:
            raise ValueError("nothing to concatenate")
        first = parts[0]

        def cat_optional(ts: list[torch.Tensor | None]) -> torch.Tensor | None:
            if any(t is None for t in ts):
                return None
            return torch.cat([t for t in ts if t is not None])

        return Encoded(
            skip_shares={
                size: SkipShare(
                    hidden=torch.cat([p.skip_shares[size].hidden for p in parts]),
                    shortcut=torch.cat([p.skip_shares[size].shortcut for p in parts]),
                )
                for size in first.skip_shares
            },
            generator_state=torch.cat([p.generator_state for p in parts]),
            first_scale=cat_optional([p.first_scale for p in parts]),
            first_shift=cat_optional([p.first_shift for p in parts]),
            code_indices=torch.cat([p.code_indices for p in parts]),
        )

    def to(self, device: torch.device | str) -> Encoded:
        return self._apply(lambda t: t.to(device))

    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in self.tensors())


class Encoder(nn.Module):
    def __init__(self, config: NetworkConfig) -> None:
        super().__init__()
        groups = config.norm_groups
        channels = [config.nf * m for m in config.ch_mult]
        blocks: list[nn.Module] = [nn.Conv2d(3, config.nf, 3, padding=1)]
        # skip_after[size] = index of the block whose output is the skip feature at that size.
        self.skip_after: dict[int, int] = {}
        size = config.img_size
        block_in = config.nf
        for level, block_out in enumerate(channels):
            for _ in range(config.res_blocks):
                blocks.append(ResBlock(block_in, block_out, groups))
                block_in = block_out
                if size in config.attn_resolutions:
                    blocks.append(AttnBlock(block_in, groups))
            if level != len(channels) - 1:
                self.skip_after[size] = len(blocks) - 1
                blocks.append(Downsample(block_in))
                size //= 2
        blocks.append(ResBlock(block_in, block_in, groups))
        blocks.append(AttnBlock(block_in, groups))
        blocks.append(ResBlock(block_in, block_in, groups))
        blocks.append(group_norm(block_in, groups))
        blocks.append(nn.Conv2d(block_in, config.embed_dim, 3, padding=1))
        self.blocks = nn.ModuleList(blocks)

    def forward(
        self, x: torch.Tensor, skip_sizes: tuple[int, ...], inplace: bool = False
    ) -> tuple[torch.Tensor, dict[int, torch.Tensor]]:
        """`inplace`: run the blocks' in-place inference forms (bit-identical results)."""
        wanted = {self.skip_after[s]: s for s in skip_sizes}
        skips: dict[int, torch.Tensor] = {}
        for index, block in enumerate(self.blocks):
            x = _infer(block, x) if inplace else block(x)
            if index in wanted:
                skips[wanted[index]] = x
        return x, skips


class Generator(nn.Module):
    def __init__(self, config: NetworkConfig) -> None:
        super().__init__()
        groups = config.norm_groups
        channels = [config.nf * m for m in config.ch_mult]
        block_in = channels[-1]
        size = config.latent_size
        blocks: list[nn.Module] = [nn.Conv2d(config.embed_dim, block_in, 3, padding=1)]
        blocks.append(ResBlock(block_in, block_in, groups))
        blocks.append(AttnBlock(block_in, groups))
        blocks.append(ResBlock(block_in, block_in, groups))
        # fuse_after[size] = index of the first block at that size after upsampling into it.
        self.fuse_after: dict[int, int] = {}
        for level in reversed(range(len(channels))):
            block_out = channels[level]
            for i in range(config.res_blocks):
                blocks.append(ResBlock(block_in, block_out, groups))
                block_in = block_out
                if i == 0:
                    self.fuse_after.setdefault(size, len(blocks) - 1)
                if size in config.attn_resolutions:
                    blocks.append(AttnBlock(block_in, groups))
            if level != 0:
                blocks.append(Upsample(block_in))
                size *= 2
        blocks.append(group_norm(block_in, groups))
        blocks.append(nn.Conv2d(block_in, 3, 3, padding=1))
        self.blocks = nn.ModuleList(blocks)


class Quantize(nn.Module):
    def __init__(self, codebook_size: int, embed_dim: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(codebook_size, embed_dim)


def _infer(block: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """A block's inference form where it has one (see `blocks`), else its forward."""
    if isinstance(block, (ResBlock, Upsample)):
        return block.infer(x)
    return block(x)


class CodeFormerNet(nn.Module):
    """CodeFormer with the official state-dict layout.

    Input and output: B x 3 x S x S float, RGB, in [-1, 1] (S = `config.img_size`, 512 officially).
    The output is not clamped.
    """

    def __init__(self, config: NetworkConfig) -> None:
        super().__init__()
        self.config = config
        tokens = config.latent_size**2
        self.position_emb = nn.Parameter(torch.zeros(tokens, config.dim_embd))
        self.encoder = Encoder(config)
        self.quantize = Quantize(config.codebook_size, config.embed_dim)
        self.generator = Generator(config)
        self.feat_emb = nn.Linear(config.embed_dim, config.dim_embd)
        self.ft_layers = nn.Sequential(
            *[
                TransformerLayer(config.dim_embd, config.n_head, config.ff_dim)
                for _ in range(config.n_layers)
            ]
        )
        self.idx_pred_layer = nn.Sequential(
            nn.LayerNorm(config.dim_embd),
            nn.Linear(config.dim_embd, config.codebook_size, bias=False),
        )
        self.fuse_convs_dict = nn.ModuleDict(
            {
                str(size): FuseBlock(self._fuse_channels(size), config.norm_groups)
                for size in config.connect_sizes
            }
        )
        # Fusion points in generator order (smallest size first).
        self.fusion_sizes: tuple[int, ...] = tuple(sorted(config.connect_sizes))
        for size in self.fusion_sizes:
            if size not in self.generator.fuse_after or size not in self.encoder.skip_after:
                raise ValueError(f"fusion size {size} does not exist in this network")

    def _fuse_channels(self, size: int) -> int:
        level = (self.config.img_size // size).bit_length() - 1
        return self.config.nf * self.config.ch_mult[level]

    def fuse_block(self, size: int) -> FuseBlock:
        block = self.fuse_convs_dict[str(size)]
        assert isinstance(block, FuseBlock)
        return block

    # -- the w-independent part ------------------------------------------------------------

    def lookup_codes(self, latent: torch.Tensor, adain: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """Transformer and codebook lookup. Returns (features B x E x L x L, indices B x L*L).

        Always computed in fp32, even under autocast: it is cheap (L*L tokens), and a reduced
        precision would flip near-tied code choices, changing the face rather than rounding it.
        """
        with torch.autocast(device_type=latent.device.type, enabled=False):
            return self._lookup_codes_fp32(latent.float(), adain)

    def _lookup_codes_fp32(
        self, latent: torch.Tensor, adain: bool
    ) -> tuple[torch.Tensor, torch.Tensor]:
        b, _, h, w = latent.shape
        tokens = self.feat_emb(latent.flatten(2).transpose(1, 2))
        position = self.position_emb.unsqueeze(0)
        for layer in self.ft_layers:
            tokens = layer(tokens, position)
        logits = self.idx_pred_layer(tokens)
        indices = logits.argmax(dim=2)
        codes = self.quantize.embedding.weight[indices]  # B x HW x E
        features = codes.transpose(1, 2).reshape(b, -1, h, w).to(latent.dtype)
        if adain:
            features = adaptive_instance_norm(features, latent)
        return features, indices

    def encode(self, x: torch.Tensor, adain: bool) -> Encoded:
        latent, skips = self.encoder(x, self.fusion_sizes, inplace=True)
        state, indices = self.lookup_codes(latent, adain)
        if not self.fusion_sizes:
            return Encoded(
                skip_shares={},
                generator_state=state,
                first_scale=None,
                first_shift=None,
                code_indices=indices,
            )
        first = self.fusion_sizes[0]
        for block in self.generator.blocks[: self.generator.fuse_after[first] + 1]:
            state = _infer(block, state)
        scale, shift = self.fuse_block(first).modulation(skips.pop(first), state)
        shares = {size: self.fuse_block(size).skip_share(skip) for size, skip in skips.items()}
        return Encoded(
            skip_shares=shares,
            generator_state=state,
            first_scale=scale,
            first_shift=shift,
            code_indices=indices,
        )

    # -- the w-dependent part ----------------------------------------------------------------

    def decode(
        self, encoded: Encoded, fidelity: float, cancel: CancelCheck | None = None
    ) -> torch.Tensor:
        """The generator from the first fusion point on, with the blocks' inference forms
        (`ResBlock.infer`, `Upsample.infer`, `FuseBlock.modulation_from_share`, `fuse_infer`):
        the one-shot result up to float rounding. `cancel` is asked before each stage (raises
        `Cancelled`): a stale decode stops within a block, not after the whole face."""
        state = encoded.generator_state
        if not self.fusion_sizes:
            start = 0
        else:
            first = self.fusion_sizes[0]
            start = self.generator.fuse_after[first] + 1
            if fidelity > 0 and encoded.first_scale is not None:
                assert encoded.first_shift is not None
                state = FuseBlock.fuse_infer(
                    state, encoded.first_scale, encoded.first_shift, fidelity
                )
        fuse_at = {self.generator.fuse_after[s]: s for s in self.fusion_sizes[1:]}
        blocks = self.generator.blocks
        for index in range(start, len(blocks)):
            if cancel is not None and cancel():
                raise Cancelled("cancelled")
            state = _infer(blocks[index], state)
            size = fuse_at.get(index)
            if size is not None and fidelity > 0:
                share = encoded.skip_shares[size]
                scale, shift = self.fuse_block(size).modulation_from_share(share, state)
                state = FuseBlock.fuse_infer(state, scale, shift, fidelity)
        return state

    def forward(self, x: torch.Tensor, fidelity: float = 0.5, adain: bool = True) -> torch.Tensor:
        """One-shot pass straight through the network, in the order of the paper.

        Independent of the `encode`/`decode` split, which must give the same result.
        """
        latent, skips = self.encoder(x, self.fusion_sizes)
        state, _ = self.lookup_codes(latent, adain)
        fuse_at = {self.generator.fuse_after[s]: s for s in self.fusion_sizes}
        for index, block in enumerate(self.generator.blocks):
            state = block(state)
            size = fuse_at.get(index)
            if size is not None and fidelity > 0:
                scale, shift = self.fuse_block(size).modulation(skips[size], state)
                state = FuseBlock.fuse(state, scale, shift, fidelity)
        return state
