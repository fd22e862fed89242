"""Reading CodeFormer checkpoints safely and telling their variant from the state dict alone.

Official files are pickled dicts with the weights under `params_ema`; a bare state dict and
`.safetensors` files are accepted too. Pickles are read with `weights_only=True`. A file is
checked completely before any weight is loaded, so a model never loads partly.
"""

from __future__ import annotations

import logging
import math
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch

from core.errors import CheckpointError
from core.net.codeformer import CodeFormerNet
from core.net.config import (
    COLORIZATION,
    INPAINTING,
    RESTORATION,
    NetworkConfig,
    Variant,
    replace_network,
)

log = logging.getLogger(__name__)

StateDict = dict[str, torch.Tensor]

WRAPPER_KEYS = ("params_ema", "params", "state_dict")
REQUIRED_KEYS = (
    "position_emb",
    "quantize.embedding.weight",
    "encoder.blocks.0.weight",
    "idx_pred_layer.1.weight",
    "feat_emb.weight",
)


@dataclass(frozen=True, kw_only=True)
class CheckpointInfo:
    """What a checkpoint file holds, found without building the model."""

    path: Path
    variant: Variant
    tensors: int
    values: int


def read_state_dict(path: str | Path) -> StateDict:
    """Read the tensors of a `.pth`, `.pt` or `.safetensors` file onto the CPU.

    Raises CheckpointError with a message naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path}: the file is empty (an interrupted download?)")
    if path.suffix.lower() == ".safetensors":
        raw: object = _read_safetensors(path)
    else:
        raw = _read_pickle(path)
    return _unwrap(raw, path)


def _read_safetensors(path: Path) -> Mapping[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(
            f"{path}: not a readable safetensors file (truncated or damaged?): {exc}"
        ) from exc


def _read_pickle(path: Path) -> object:
    is_zip = zipfile.is_zipfile(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types here; each becomes a clear user message
        text = str(exc)
        if "Unsupported global" in text or "GLOBAL" in text:
            raise CheckpointError(
                f"{path}: refused to load: the file contains Python objects other than tensors, "
                "and loading them could run code. Use an official checkpoint."
            ) from exc
        if is_zip or _starts_like_zip(path):
            raise CheckpointError(
                f"{path}: the checkpoint is truncated or damaged ({text.splitlines()[0][:160]}); "
                "download it again"
            ) from exc
        raise CheckpointError(f"{path}: not a PyTorch checkpoint ({type(exc).__name__})") from exc


def _starts_like_zip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) == b"PK\x03\x04"


def _unwrap(raw: object, path: Path) -> StateDict:
    if isinstance(raw, Mapping):
        for key in WRAPPER_KEYS:
            inner = raw.get(key)
            if isinstance(inner, Mapping):
                raw = inner
                break
    if not isinstance(raw, Mapping) or not raw:
        raise CheckpointError(f"{path}: not a checkpoint: it holds no state dict of tensors")
    tensors = {k: v for k, v in raw.items() if isinstance(k, str) and isinstance(v, torch.Tensor)}
    if len(tensors) != len(raw):
        raise CheckpointError(f"{path}: not a checkpoint: it holds values that are not tensors")
    return tensors


# The tensors the sizes are read from, with the number of dimensions each must have.
SIZE_TENSORS = {
    "position_emb": 2,
    "quantize.embedding.weight": 2,
    "encoder.blocks.0.weight": 4,
    "feat_emb.weight": 2,
}
N_HEAD = 8  # attention heads of the official transformer


def _misshaped(path: Path, key: str, tensor: torch.Tensor, why: str) -> CheckpointError:
    return CheckpointError(
        f"{path}: not a usable CodeFormer checkpoint: tensor {key} has shape "
        f"{tuple(tensor.shape)}; {why}"
    )


def infer_network_config(state: StateDict, path: Path) -> NetworkConfig:
    """Tell the network sizes from tensor shapes. Raises CheckpointError for other architectures,
    naming the first tensor whose shape no CodeFormer can have."""
    missing = [k for k in REQUIRED_KEYS if k not in state]
    if missing:
        raise CheckpointError(
            f"{path}: a different architecture, not CodeFormer "
            f"(missing {', '.join(missing[:3])}; it has {_describe_keys(state)})"
        )
    for key, dims in SIZE_TENSORS.items():
        if state[key].dim() != dims or 0 in state[key].shape:
            raise _misshaped(path, key, state[key], f"expected {dims} non-empty dimensions")
    tokens, dim_embd = state["position_emb"].shape
    latent = math.isqrt(int(tokens))
    if latent * latent != tokens:
        raise _misshaped(path, "position_emb", state["position_emb"], "tokens must be a square")
    if dim_embd % N_HEAD:
        raise _misshaped(
            path,
            "position_emb",
            state["position_emb"],
            f"its width must be divisible by the {N_HEAD} attention heads",
        )
    codebook_size, embed_dim = state["quantize.embedding.weight"].shape
    nf = int(state["encoder.blocks.0.weight"].shape[0])
    levels = _encoder_levels(state)
    res_blocks = sum(1 for kind, _ in levels[0] if kind == "res")
    ch_mult = []
    for level in levels:
        outs = [ch for kind, ch in level if kind == "res"]
        if not outs or outs[0] % nf:
            raise CheckpointError(f"{path}: unexpected encoder layout for CodeFormer")
        ch_mult.append(outs[0] // nf)
    img_size = latent * 2 ** (len(levels) - 1)
    n_layers = len({m.group(1) for k in state if (m := re.match(r"ft_layers\.(\d+)\.", k))})
    connect = sorted(
        int(m.group(1))
        for k in state
        if (m := re.match(r"fuse_convs_dict\.(\d+)\.scale\.0\.weight$", k))
    )
    return NetworkConfig(
        img_size=img_size,
        nf=nf,
        ch_mult=tuple(ch_mult),
        res_blocks=res_blocks,
        attn_resolutions=(latent,),
        codebook_size=int(codebook_size),
        embed_dim=int(embed_dim),
        dim_embd=int(dim_embd),
        n_head=N_HEAD,
        n_layers=n_layers,
        norm_groups=32,
        connect_sizes=tuple(connect),
    )


def _encoder_levels(state: StateDict) -> list[list[tuple[str, int]]]:
    """Encoder blocks per resolution level, as (kind, out channels), split at Downsamples."""
    indices = sorted(
        {int(m.group(1)) for k in state if (m := re.match(r"encoder\.blocks\.(\d+)\.", k))}
    )
    levels: list[list[tuple[str, int]]] = [[]]
    for i in indices[1:]:
        prefix = f"encoder.blocks.{i}."
        if prefix + "conv1.weight" in state:
            levels[-1].append(("res", int(state[prefix + "conv1.weight"].shape[0])))
        elif prefix + "conv.weight" in state:
            levels.append([])
        elif prefix + "q.weight" in state:
            levels[-1].append(("attn", 0))
    return levels


def _describe_keys(state: StateDict) -> str:
    first = list(state)[:3]
    return f"{len(state)} tensors such as {', '.join(first)}"


def identify_variant(config: NetworkConfig, path: Path) -> Variant:
    """The official variant whose conventions apply to a network of these sizes."""
    restoration_like = (
        bool(config.connect_sizes) and config.connect_sizes[-1] * 2 == config.img_size
    )
    if config.codebook_size == INPAINTING.network.codebook_size and not restoration_like:
        base = INPAINTING
    elif config.codebook_size == RESTORATION.network.codebook_size and restoration_like:
        base = RESTORATION
    elif config.codebook_size == COLORIZATION.network.codebook_size and config.connect_sizes:
        base = COLORIZATION
    else:
        raise CheckpointError(
            f"{path}: an unsupported CodeFormer variant (codebook {config.codebook_size}, "
            f"fusion sizes {list(config.connect_sizes)}); supported: restoration, "
            "colorization, inpainting"
        )
    return replace_network(base, config)


def check_state_dict(state: StateDict, expected: Mapping[str, torch.Tensor], path: Path) -> None:
    """Raise CheckpointError naming missing, unexpected and mis-shaped tensors, if any."""
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    misshaped = [
        f"{k} {tuple(state[k].shape)} (expected {tuple(v.shape)})"
        for k, v in expected.items()
        if k in state and state[k].shape != v.shape
    ]
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing tensors ({', '.join(missing[:3])})")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected tensors ({', '.join(unexpected[:3])})")
    if misshaped:
        problems.append(f"{len(misshaped)} tensors of the wrong shape ({'; '.join(misshaped[:3])})")
    if problems:
        raise CheckpointError(f"{path}: does not match CodeFormer: " + ", ".join(problems))
    not_float = [k for k, v in state.items() if not v.is_floating_point()]
    if not_float:
        raise CheckpointError(
            f"{path}: tensors that are not floating point ({', '.join(not_float[:3])})"
        )


def load_network(path: str | Path) -> tuple[CodeFormerNet, Variant]:
    """Read, check and load a checkpoint into a new network on the CPU (eval mode, fp32).

    Validated by structure, never by hash, so fine-tuned and community copies of any official
    layout load. Whatever is wrong with the file, the only exception that leaves is a
    CheckpointError naming the file (and the tensor, where one is at fault).
    """
    path = Path(path)
    try:
        return _build_network(read_state_dict(path), path)
    except (CheckpointError, MemoryError):
        raise
    except Exception as exc:  # a layout no check above foresaw: still the file's fault
        first = (str(exc).splitlines() or [""])[0][:200]
        raise CheckpointError(
            f"{path}: unexpected CodeFormer layout ({type(exc).__name__}: {first})"
        ) from exc


def _build_network(state: StateDict, path: Path) -> tuple[CodeFormerNet, Variant]:
    config = infer_network_config(state, path)
    variant = identify_variant(config, path)
    net = CodeFormerNet(config)
    check_state_dict(state, net.state_dict(), path)
    net.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
    net.eval().requires_grad_(False)
    log.info("loaded %s: CodeFormer %s, %d tensors", path, variant.name, len(state))
    return net, variant


def inspect_checkpoint(path: str | Path) -> CheckpointInfo:
    """Check a file completely and say what it is, without keeping the weights."""
    path = Path(path)
    net, variant = load_network(path)
    values = sum(p.numel() for p in net.parameters())
    return CheckpointInfo(path=path, variant=variant, tensors=len(net.state_dict()), values=values)
