"""The public CodeFormer model: load a checkpoint, encode faces once, decode at any fidelity.

Faces are `B x 3 x S x S` float tensors, RGB, values in [-1, 1] (S = 512 for official weights).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch

from core.callbacks import CancelCheck
from core.checkpoint import load_network
from core.device import Placement, resolve_placement
from core.net.codeformer import CodeFormerNet, Encoded
from core.net.config import Variant

log = logging.getLogger(__name__)

RANGE_TOLERANCE = 1e-3


@dataclass(frozen=True, eq=False)
class EncodedFaces:
    """Faces encoded once, ready for `CodeFormer.decode` at any fidelity.

    For inpainting, `keep` holds the input faces and `mask` (B x 1 x S x S, 1 = fill) the region
    to fill, so that decode returns the unpainted pixels unchanged.
    """

    features: Encoded
    variant: str
    keep: torch.Tensor | None = None
    mask: torch.Tensor | None = None

    @property
    def batch(self) -> int:
        return self.features.batch

    def select(self, index: int | slice | list[int]) -> EncodedFaces:
        def pick(t: torch.Tensor | None) -> torch.Tensor | None:
            if t is None:
                return None
            return t[slice(index, index + 1) if isinstance(index, int) else index]

        return EncodedFaces(
            features=self.features.select(index),
            variant=self.variant,
            keep=pick(self.keep),
            mask=pick(self.mask),
        )

    @staticmethod
    def concat(parts: list[EncodedFaces]) -> EncodedFaces:
        """Join encodings of the same variant along the batch."""
        variants = {p.variant for p in parts}
        if len(variants) != 1:
            raise ValueError(f"cannot join encodings of different variants: {sorted(variants)}")

        def join(ts: list[torch.Tensor | None]) -> torch.Tensor | None:
            present = [t for t in ts if t is not None]
            if not present:
                return None
            if len(present) != len(ts):
                raise ValueError("cannot join encodings with and without inpainting masks")
            return torch.cat(present)

        return EncodedFaces(
            features=Encoded.concat([p.features for p in parts]),
            variant=parts[0].variant,
            keep=join([p.keep for p in parts]),
            mask=join([p.mask for p in parts]),
        )

    def nbytes(self) -> int:
        extra = sum(t.numel() * t.element_size() for t in (self.keep, self.mask) if t is not None)
        return self.features.nbytes() + extra


class CodeFormer:
    """A CodeFormer network placed on a device, with its variant's inference conventions.

    Holds no per-image state: `encode` returns the cache as a value, `decode` takes it back.
    """

    def __init__(
        self, net: CodeFormerNet, variant: Variant, placement: Placement, source: Path | None = None
    ) -> None:
        self.net = net.to(placement.device)
        if placement.channels_last:
            self.net = self.net.to(memory_format=torch.channels_last)
        self.net.eval().requires_grad_(False)
        self.variant = variant
        self.placement = placement
        self.source = source

    # -- properties -----------------------------------------------------------------------

    @property
    def device(self) -> torch.device:
        return self.placement.device

    @property
    def precision(self) -> str:
        return self.placement.precision

    @property
    def face_size(self) -> int:
        return self.net.config.img_size

    def __repr__(self) -> str:
        return f"CodeFormer({self.variant.name}, {self.placement.describe()}, source={self.source})"

    # -- inference ------------------------------------------------------------------------

    def encode(self, faces: torch.Tensor, mask: torch.Tensor | None = None) -> EncodedFaces:
        """Run everything that does not depend on the fidelity, in fp32 at every precision.

        faces: B x 3 x S x S float RGB in [-1, 1]. mask (inpainting only): B x 1 x S x S, 1 where
        the face is to be filled; without it, the pure-white pixels are the mask (official rule).
        """
        with self._inference():
            x = self._prepare(faces)
            keep = fill = None
            if self.variant.fills_white_mask:
                fill = self._inpainting_mask(x, mask)
                x = x * (1 - fill) + fill  # painted region is pure white, as in training
                keep = x
            elif mask is not None:
                raise ValueError(f"a mask is only used by inpainting, not {self.variant.name}")
            # Always fp32, whatever the precision: the encoder's output decides which codes are
            # looked up, and a reduced precision there flips near-tied choices (a different
            # face, not a rounded one). The encoding is then valid for every precision's decode,
            # so an fp32 export can reuse the faces encoded for a fast preview.
            features = self.net.encode(x, adain=self.variant.adain)
            return EncodedFaces(features=features, variant=self.variant.name, keep=keep, mask=fill)

    def decode(
        self,
        encoded: EncodedFaces,
        fidelity: float | None = None,
        cancel: CancelCheck | None = None,
    ) -> torch.Tensor:
        """Rebuild the faces at `fidelity` (0 = quality, 1 = identity).

        Returns B x 3 x S x S float32 RGB in [-1, 1] on the model's device. Variants with a fixed
        fidelity (colorization 0, inpainting 1) take None or that value. `cancel` is asked
        before each stage of the generator (raises `core.errors.Cancelled`).
        """
        if encoded.variant != self.variant.name:
            raise ValueError(f"these faces were encoded by a {encoded.variant} model")
        w = self.effective_fidelity(fidelity)
        with self._inference():
            with self._autocast():
                out = self.net.decode(encoded.features, w, cancel)
            out = out.float().clamp_(-1.0, 1.0).contiguous()
            if encoded.mask is not None and encoded.keep is not None:
                out = (1 - encoded.mask) * encoded.keep.float() + encoded.mask * out
            return out

    def restore(
        self, faces: torch.Tensor, fidelity: float | None = None, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """One-shot `decode(encode(faces, mask), fidelity)`."""
        return self.decode(self.encode(faces, mask), fidelity)

    def effective_fidelity(self, fidelity: float | None) -> float:
        fixed = self.variant.fixed_fidelity
        if fixed is not None:
            if fidelity is not None and abs(fidelity - fixed) > 1e-9:
                raise ValueError(
                    f"the {self.variant.name} model always runs at fidelity {fixed} (official "
                    f"convention); got {fidelity}"
                )
            return fixed
        if fidelity is None:
            return self.variant.default_fidelity
        if not 0.0 <= fidelity <= 1.0:
            raise ValueError(f"fidelity must be in [0, 1], got {fidelity}")
        return float(fidelity)

    # -- helpers --------------------------------------------------------------------------

    def _prepare(self, faces: torch.Tensor) -> torch.Tensor:
        size = self.face_size
        if faces.ndim != 4 or faces.shape[1] != 3 or faces.shape[2:] != (size, size):
            raise ValueError(f"faces must be B x 3 x {size} x {size}, got {tuple(faces.shape)}")
        if not faces.is_floating_point():
            raise ValueError(f"faces must be float in [-1, 1], got {faces.dtype}")
        lo, hi = float(faces.min()), float(faces.max())
        if lo < -1 - RANGE_TOLERANCE or hi > 1 + RANGE_TOLERANCE:
            raise ValueError(f"faces must be in [-1, 1], got values in [{lo:.3g}, {hi:.3g}]")
        if self.device.type == "cuda" and not faces.is_cuda:
            # Page-locked host memory: the copy to the GPU runs without an extra staging copy.
            faces = faces.to(torch.float32).contiguous().pin_memory()
        x = faces.to(self.device, torch.float32, non_blocking=True)
        if self.placement.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x

    def _inpainting_mask(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        if mask is None:
            return (x.sum(dim=1, keepdim=True) >= 3.0).to(x.dtype)
        expected = (x.shape[0], 1, *x.shape[2:])
        if tuple(mask.shape) != expected:
            raise ValueError(f"mask must be {expected}, got {tuple(mask.shape)}")
        return (mask.to(x.device, x.dtype) > 0.5).to(x.dtype)

    @contextlib.contextmanager
    def _inference(self) -> Iterator[None]:
        with torch.inference_mode():
            yield

    def _autocast(self) -> contextlib.AbstractContextManager[object]:
        dtype = self.placement.dtype
        if dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=dtype)


def load_model(path: str | Path, device: str = "auto", precision: str = "auto") -> CodeFormer:
    """Load an official CodeFormer checkpoint (any variant) onto a device.

    The variant is told from the state dict. Raises CheckpointError for unusable files and
    DeviceError for a device or precision this machine cannot provide.
    """
    placement = resolve_placement(device, precision)
    net, variant = load_network(path)
    model = CodeFormer(net, variant, placement, source=Path(path))
    log.info("%r ready", model)
    return model
