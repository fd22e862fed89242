"""Sizes of the CodeFormer network and the conventions of each official variant.

Everything here is a plain frozen value: building a network from a config never touches the disk
or the network.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True, kw_only=True)
class NetworkConfig:
    """Sizes of a CodeFormer network. The defaults are those of the official checkpoints.

    `connect_sizes` lists the feature-map sizes (in pixels) where the controllable feature
    transformation fuses encoder features into the decoder.
    """

    img_size: int = 512
    nf: int = 64
    ch_mult: tuple[int, ...] = (1, 2, 2, 4, 4, 8)
    res_blocks: int = 2
    attn_resolutions: tuple[int, ...] = (16,)
    codebook_size: int = 1024
    embed_dim: int = 256
    dim_embd: int = 512
    n_head: int = 8
    n_layers: int = 9
    norm_groups: int = 32
    connect_sizes: tuple[int, ...] = (32, 64, 128, 256)

    @property
    def latent_size(self) -> int:
        return self.img_size // 2 ** (len(self.ch_mult) - 1)

    @property
    def ff_dim(self) -> int:
        return self.dim_embd * 2


@dataclass(frozen=True, kw_only=True)
class Variant:
    """One official CodeFormer task and how the official inference calls it.

    `fixed_fidelity` is None when the user chooses the fidelity (restoration), else the value
    the official inference always uses.
    """

    name: str
    title: str
    network: NetworkConfig
    adain: bool
    fixed_fidelity: float | None
    default_fidelity: float
    checkpoint_file: str
    fills_white_mask: bool = False


RESTORATION = Variant(
    name="restoration",
    title="Restore",
    network=NetworkConfig(codebook_size=1024, connect_sizes=(32, 64, 128, 256)),
    adain=True,
    fixed_fidelity=None,
    default_fidelity=0.5,
    checkpoint_file="codeformer.pth",
)
COLORIZATION = Variant(
    name="colorization",
    title="Colorize",
    network=NetworkConfig(codebook_size=1024, connect_sizes=(32, 64, 128)),
    adain=True,
    fixed_fidelity=0.0,
    default_fidelity=0.0,
    checkpoint_file="codeformer_colorization.pth",
)
INPAINTING = Variant(
    name="inpainting",
    title="Inpaint",
    network=NetworkConfig(codebook_size=512, connect_sizes=(32, 64, 128)),
    adain=False,
    fixed_fidelity=1.0,
    default_fidelity=1.0,
    checkpoint_file="codeformer_inpainting.pth",
    fills_white_mask=True,
)

VARIANTS: tuple[Variant, ...] = (RESTORATION, COLORIZATION, INPAINTING)


def variant_by_name(name: str) -> Variant:
    """Return the official variant called `name` ("restoration", "colorization", "inpainting")."""
    for variant in VARIANTS:
        if variant.name == name:
            return variant
    known = ", ".join(v.name for v in VARIANTS)
    raise ValueError(f"unknown CodeFormer variant {name!r}; known variants: {known}")


def tiny_config(variant: Variant) -> NetworkConfig:
    """A network of the official shape at tiny sizes (64x64 faces), for fast tests.

    Keeps what identifies the variant: the codebook size, and whether the largest fusion point
    sits at half the face size (restoration) or not (colorization, inpainting).
    """
    connect_sizes = (16, 32) if variant.network.connect_sizes[-1] * 2 == 512 else (16,)
    return NetworkConfig(
        img_size=64,
        nf=32,
        ch_mult=(1, 1, 2, 2),
        res_blocks=2,
        attn_resolutions=(8,),
        codebook_size=variant.network.codebook_size,
        embed_dim=32,
        dim_embd=64,
        n_head=8,
        n_layers=2,
        norm_groups=32,
        connect_sizes=connect_sizes,
    )


def replace_network(variant: Variant, network: NetworkConfig) -> Variant:
    """The same variant conventions on another network size (used by tests and benchmarks)."""
    return replace(variant, network=network)


__all__ = [
    "COLORIZATION",
    "INPAINTING",
    "RESTORATION",
    "VARIANTS",
    "NetworkConfig",
    "Variant",
    "replace_network",
    "tiny_config",
    "variant_by_name",
]
