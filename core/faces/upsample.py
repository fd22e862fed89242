"""Upscaling the background of a photo (and, optionally, restored faces).

- `BackgroundUpsampler`: the interface the pipeline uses.
- `ResizeUpsampler`: a plain high-quality resize (no weights, no torch).
- `RealESRGANUpsampler`: Real-ESRGAN x2plus / x4plus (or another spandrel SR model) run tile by
  tile with overlapping padding; cancellable between tiles.

Images are H x W x 3 RGB, uint8 or uint16 (the output has the input's dtype). The output of
`upscale(rgb, factor)` is `round(H * factor) x round(W * factor)`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import cv2
import numpy as np

from core.callbacks import CancelCheck, ProgressCallback
from core.errors import Cancelled, CheckpointError
from core.faces.helper_weights import require_weights

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)


REALESRGAN_FILES = ("RealESRGAN_x2plus.pth", "RealESRGAN_x4plus.pth")


class BackgroundUpsampler(Protocol):
    """Enlarges an H x W x 3 RGB image by an integer factor."""

    def upscale(
        self,
        rgb: np.ndarray,
        factor: int,
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelCheck | None = None,
    ) -> np.ndarray:
        """`rgb` enlarged to round(H * factor) x round(W * factor), same dtype."""
        ...


def _check_image(rgb: np.ndarray) -> None:
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype not in (np.uint8, np.uint16):
        raise ValueError(
            f"expected an H x W x 3 uint8 or uint16 image, got {rgb.shape} {rgb.dtype}"
        )


def _target_size(rgb: np.ndarray, factor: float) -> tuple[int, int]:
    if factor <= 0:
        raise ValueError(f"the upscale factor must be positive, got {factor}")
    height, width = rgb.shape[:2]
    return max(1, round(width * factor)), max(1, round(height * factor))


def resize_image(
    rgb: np.ndarray, size: tuple[int, int], up: int = cv2.INTER_LANCZOS4
) -> np.ndarray:
    """`rgb` resized to `size` (width, height): `up` interpolation to enlarge, INTER_AREA to
    shrink. Returns a copy even when the size is unchanged."""
    height, width = rgb.shape[:2]
    if (width, height) == tuple(size):
        return rgb.copy()
    shrinking = size[0] < width and size[1] < height
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if shrinking else up)


class ResizeUpsampler:
    """A plain resize: Lanczos (default) or bicubic to enlarge; factor 1 returns a copy."""

    def __init__(self, interpolation: str = "lanczos") -> None:
        choices = {"lanczos": cv2.INTER_LANCZOS4, "cubic": cv2.INTER_CUBIC}
        if interpolation not in choices:
            raise ValueError(f"unknown interpolation {interpolation!r}; choose lanczos or cubic")
        self._up = choices[interpolation]

    def upscale(
        self,
        rgb: np.ndarray,
        factor: float,
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelCheck | None = None,
    ) -> np.ndarray:
        """`rgb` resized by `factor` (same dtype)."""
        _check_image(rgb)
        if cancel is not None and cancel():
            raise Cancelled("upscaling cancelled")
        out = resize_image(rgb, _target_size(rgb, factor), self._up)
        if progress is not None:
            progress("Upscaling the background", 1.0)
        return out


def _tiles(length: int, tile: int) -> list[int]:
    return list(range(0, length, tile))


class RealESRGANUpsampler:
    """Real-ESRGAN (x2plus or x4plus), loaded with spandrel, run in padded tiles.

    - `weights_path`: the `.pth` (read with `weights_only=True`) or `.safetensors` file; must
      exist (WeightsMissingError naming the file and its folder otherwise).
    - `tile`: tile size in input pixels (0: the whole image at once); `tile_pad`: context added
      around each tile and cropped away from its output, so tiles join without seams (400 and 40
      as the official CodeFormer script; each padded tile starts on the model's size grid, so a
      pixel-unshuffle model such as x2plus groups pixels the same way in every tile).
    - `precision`: "fp32", "fp16" or "bf16" (where the model and device support it).
    The model's native scale is resized to the requested factor tile by tile (INTER_AREA down,
    Lanczos up), so the full native-scale image is never held in memory. Factor 1 still runs the
    model (it cleans the background) and shrinks its output back, as the reference does.
    """

    def __init__(
        self,
        weights_path: str | Path,
        device: torch.device | str = "cpu",
        *,
        tile: int = 400,
        tile_pad: int = 40,
        precision: str = "fp32",
    ) -> None:
        path = require_weights(Path(weights_path).parent, Path(weights_path).name)
        import torch
        from spandrel import ImageModelDescriptor, ModelLoader, UnsupportedModelError

        from core.checkpoint import read_state_dict

        self.device = torch.device(device)
        self.tile = int(tile)
        self.tile_pad = int(tile_pad)
        state = read_state_dict(path)  # weights_only=True, or safetensors
        try:
            descriptor = ModelLoader(self.device).load_from_state_dict(state)
        except (UnsupportedModelError, KeyError, RuntimeError, ValueError) as exc:
            raise CheckpointError(
                f"{path}: not a super-resolution model spandrel knows ({exc})"
            ) from exc
        if not isinstance(descriptor, ImageModelDescriptor) or descriptor.purpose != "SR":
            raise CheckpointError(
                f"{path}: not a super-resolution model ({descriptor.architecture.name})"
            )
        if descriptor.input_channels != 3 or descriptor.output_channels != 3:
            raise CheckpointError(f"{path}: the model does not take and give RGB images")
        dtypes = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
        if precision not in dtypes:
            raise ValueError(f"unknown precision {precision!r}; choose one of {', '.join(dtypes)}")
        if (precision == "fp16" and not descriptor.supports_half) or (
            precision == "bf16" and not descriptor.supports_bfloat16
        ):
            raise ValueError(f"{descriptor.architecture.name} does not support {precision}")
        self.dtype = dtypes[precision]
        self._model: Any = descriptor.to(self.dtype).eval()
        self.native_scale = int(descriptor.scale)
        self._grid = int(descriptor.size_requirements.multiple_of)
        self.name = f"{descriptor.architecture.name} x{self.native_scale}"
        log.debug("loaded %s from %s", self.name, path)

    def upscale(
        self,
        rgb: np.ndarray,
        factor: int,
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelCheck | None = None,
    ) -> np.ndarray:
        """`rgb` enlarged by `factor` (an integer >= 1); same dtype. `cancel` is checked before
        every tile (Cancelled is raised); `progress` is told after every tile."""
        import torch

        _check_image(rgb)
        if int(factor) != factor or factor < 1:
            raise ValueError(
                f"the Real-ESRGAN upscale factor must be an integer >= 1, got {factor}"
            )
        factor = int(factor)
        height, width = rgb.shape[:2]
        out = np.empty((height * factor, width * factor, 3), dtype=rgb.dtype)
        unit = float(np.iinfo(rgb.dtype).max)
        tile = self.tile if self.tile > 0 else max(height, width)
        pad, scale = self.tile_pad, self.native_scale
        boxes = [(x, y) for y in _tiles(height, tile) for x in _tiles(width, tile)]
        for done, (x0, y0) in enumerate(boxes):
            if cancel is not None and cancel():
                raise Cancelled("background upscaling cancelled")
            x1, y1 = min(x0 + tile, width), min(y0 + tile, height)
            px0 = max(0, x0 - pad) // self._grid * self._grid
            py0 = max(0, y0 - pad) // self._grid * self._grid
            px1, py1 = min(width, x1 + pad), min(height, y1 + pad)
            patch = rgb[py0:py1, px0:px1]
            tensor = torch.from_numpy(np.ascontiguousarray(patch).astype(np.float32) / unit)
            tensor = tensor.permute(2, 0, 1).unsqueeze(0).to(self.device, self.dtype)
            with torch.inference_mode():
                result = self._model(tensor)[0].float().clamp(0, 1).permute(1, 2, 0).cpu()
            native = result.numpy()
            if factor != scale:  # the padded tile resized as a whole, then cropped: no seams
                size = ((px1 - px0) * factor, (py1 - py0) * factor)
                native = resize_image(native, size)
            crop = native[
                (y0 - py0) * factor : (y1 - py0) * factor, (x0 - px0) * factor : (x1 - px0) * factor
            ]
            out[y0 * factor : y1 * factor, x0 * factor : x1 * factor] = np.rint(
                np.clip(crop, 0.0, 1.0) * unit
            ).astype(rgb.dtype)
            if progress is not None:
                progress("Upscaling the background", (done + 1) / len(boxes))
        return out
