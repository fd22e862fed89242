"""Finding and safely loading the helper models' weights (RetinaFace, ParseNet).

facexlib's own `init_*_model` functions download missing files and unpickle them without
`weights_only`; we never call them. Instead the file must already be in the weights folder, it is
read with `weights_only=True` (see `core.checkpoint.read_state_dict`), and the network is built
from facexlib's classes and filled with `load_state_dict(strict=True)`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import CheckpointError, WeightsMissingError

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)


def require_weights(weights_dir: str | Path, file_name: str) -> Path:
    """The path of `file_name` inside `weights_dir`; WeightsMissingError if it is not there.

    Touches only the file system: nothing is downloaded. The error names the file and the folder
    and, for files in the catalogue, how to fetch them (`core.weights.require`'s message). A file
    that is present is used whatever its size: a damaged one fails to load with a
    CheckpointError naming it.
    """
    folder = Path(weights_dir)
    path = folder / file_name
    if path.is_file():
        return path
    from core.weights import CATALOGUE, require

    for entry in CATALOGUE:
        if entry.filename == file_name:
            require(entry, folder)  # raises, with the catalogue's instructions
    raise WeightsMissingError(
        f"{file_name} is not in the weights folder {folder}: copy the file into that folder"
    )


def load_helper_network(net: torch.nn.Module, path: Path, what: str) -> torch.nn.Module:
    """Fill `net` from the state dict in `path` (weights_only load), strictly; eval mode.

    A `module.` prefix (weights saved from DataParallel) is removed. Raises CheckpointError naming
    the file when the file is unreadable or does not match `what` (e.g. "RetinaFace ResNet-50").
    """
    from core.checkpoint import read_state_dict

    state = read_state_dict(path)
    state = {k.removeprefix("module."): v for k, v in state.items()}
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0][:200]
        raise CheckpointError(f"{path}: not the weights of a {what} ({first})") from exc
    net.eval().requires_grad_(False)
    log.debug("loaded %s from %s", what, path)
    return net
