"""Checkpoints with random weights in the official layout, for tests and benchmarks.

They load exactly like the official files but restore nothing: never offer them to users.
"""

from __future__ import annotations

from pathlib import Path

import torch

from core.net.codeformer import CodeFormerNet
from core.net.config import NetworkConfig
from core.weights.catalogue import WeightsFile


def random_state_dict(config: NetworkConfig, seed: int = 0) -> dict[str, torch.Tensor]:
    """A state dict of a randomly initialised network of these sizes (seeded, reproducible)."""
    generator_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        net = CodeFormerNet(config)
        with torch.no_grad():
            # Non-trivial norms and embeddings, so no tensor is left at its default constant.
            for name, param in net.named_parameters():
                if name.endswith("norm1.weight") or name.endswith("norm2.weight"):
                    param.uniform_(0.5, 1.5)
                elif name == "position_emb" or "quantize" in name:
                    param.normal_(0.0, 0.5)
        return {k: v.clone() for k, v in net.state_dict().items()}
    finally:
        torch.random.set_rng_state(generator_state)


def write_checkpoint(
    path: str | Path, config: NetworkConfig, seed: int = 0, wrapper: str | None = "params_ema"
) -> Path:
    """Write a random checkpoint like the official release (`{"params_ema": state_dict}`).

    A path ending in `.safetensors` is written as safetensors; `wrapper=None` writes a bare
    state dict.
    """
    path = Path(path)
    state = random_state_dict(config, seed)
    if path.suffix == ".safetensors":
        from safetensors.torch import save_file

        save_file(state, str(path))
    else:
        torch.save(state if wrapper is None else {wrapper: state}, path)
    return path


def unverified_catalogue() -> tuple[WeightsFile, ...]:
    """The weights catalogue without sizes or hashes, so synthetic files stand in for real ones.

    For tests, benchmarks and screenshots only.
    """
    from dataclasses import replace

    from core.weights.catalogue import CATALOGUE

    return tuple(replace(e, size=None, sha256=None, sha256_partial=None) for e in CATALOGUE)
