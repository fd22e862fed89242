"""Soft masks that blend a restored face back into its photo.

Masks live in the coordinates of the aligned S x S crop: S x S float32 in [0, 1], 1 = take the
restored face. `paste.paste_face` warps them back with the face.

- `square_mask(S)`: the reference's eroded, blurred square, zero on the crop's outer border.
- `FaceParser(...).mask(face)`: facexlib's ParseNet face parsing: skin, features, hair, ears and
  earrings kept; background, hat, necklace, neck and cloth excluded; blurred like the reference.
- `combine_masks(square, parsing)`: the element-wise minimum, as the reference blends them.

The parsing mask depends only on the face it is computed from. The reference parses each
restored face, so its mask changes with the fidelity; a caller that wants a live fidelity slider
can compute it once per face (for instance from one restored result) and reuse it for every
fidelity: that choice belongs to the pipeline and is documented there.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from core.faces.helper_weights import load_helper_network, require_weights

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

PARSING_FILE = "parsing_parsenet.pth"
PARSING_SIZE = 512

PARSING_CLASSES = (
    "background", "skin", "nose", "eyeglasses", "left_eye", "right_eye", "left_brow",
    "right_brow", "left_ear", "right_ear", "mouth", "upper_lip", "lower_lip", "hair", "hat",
    "earring", "necklace", "neck", "cloth",
)  # fmt: skip
"""ParseNet's 19 output classes (CelebAMask-HQ order)."""

EXCLUDED_CLASSES = frozenset({"background", "hat", "necklace", "neck", "cloth"})
"""Classes that keep the original photo when pasting (as the official pipeline)."""

_KEEP = np.array([name not in EXCLUDED_CLASSES for name in PARSING_CLASSES], dtype=np.float32)


def square_mask(face_size: int = 512) -> np.ndarray:
    """The soft square mask of an S x S crop: S x S float32 in [0, 1].

    Follows the reference's square mask, expressed in crop pixels: a 1-pixel erosion (which
    hides interpolation borders), then an erosion by `S // 20` pixels, then a Gaussian blur with
    a `2 * (S // 20) + 1` kernel. The outer ring of the crop is exactly 0 and its centre exactly 1.
    """
    edge = max(1, face_size // 20)
    inset = 1 + edge
    square = np.zeros((face_size, face_size), dtype=np.float32)
    square[inset : face_size - inset, inset : face_size - inset] = 1.0
    blurred: np.ndarray = cv2.GaussianBlur(square, (2 * edge + 1, 2 * edge + 1), 0)
    return np.clip(blurred, 0.0, 1.0)


def parsing_to_mask(labels: np.ndarray) -> np.ndarray:
    """A soft paste mask from ParseNet labels (512 x 512 integers in [0, 19)).

    Kept classes are 1, excluded 0; then blurred twice (101 x 101 kernel, sigma 11) and a
    10-pixel border set to 0, as the reference. Returns 512 x 512 float32 in [0, 1].
    """
    mask: np.ndarray = _KEEP[np.asarray(labels, dtype=np.intp)]
    mask = cv2.GaussianBlur(mask, (101, 101), 11)
    mask = cv2.GaussianBlur(mask, (101, 101), 11)
    border = 10 * mask.shape[0] // PARSING_SIZE
    mask[:border, :] = 0
    mask[-border:, :] = 0
    mask[:, :border] = 0
    mask[:, -border:] = 0
    return np.clip(mask, 0.0, 1.0).astype(np.float32)


def combine_masks(square: np.ndarray, parsing: np.ndarray) -> np.ndarray:
    """The element-wise minimum of two S x S float32 masks (the reference's fusion)."""
    if square.shape != parsing.shape:
        raise ValueError(f"mask shapes differ: {square.shape} and {parsing.shape}")
    return np.minimum(square, parsing).astype(np.float32)


class FaceParser:
    """facexlib's ParseNet face parsing, from `parsing_parsenet.pth` in `weights_dir`.

    The file must already be there (WeightsMissingError otherwise; nothing is downloaded); it is
    read with `weights_only=True`.
    """

    def __init__(self, weights_dir: str | Path, device: torch.device | str = "cpu") -> None:
        path = require_weights(weights_dir, PARSING_FILE)  # before any facexlib call
        import torch
        from facexlib.parsing.parsenet import ParseNet

        self.device = torch.device(device)
        net = ParseNet(in_size=PARSING_SIZE, out_size=PARSING_SIZE, parsing_ch=len(PARSING_CLASSES))
        self._net = load_helper_network(net, path, "ParseNet face parser").to(self.device)

    def labels(self, face_rgb: np.ndarray) -> np.ndarray:
        """The parsing of an aligned face (S x S x 3 uint8 RGB): 512 x 512 uint8 class indices."""
        import torch

        if face_rgb.ndim != 3 or face_rgb.shape[2] != 3:
            raise ValueError(f"expected an S x S x 3 RGB face, got shape {face_rgb.shape}")
        face = face_rgb
        if face.shape[:2] != (PARSING_SIZE, PARSING_SIZE):
            face = cv2.resize(face, (PARSING_SIZE, PARSING_SIZE), interpolation=cv2.INTER_LINEAR)
        x = torch.from_numpy(np.ascontiguousarray(face)).to(self.device)
        x = x.permute(2, 0, 1).unsqueeze(0).float().div(127.5).sub(1.0)  # RGB in [-1, 1]
        with torch.inference_mode():
            logits = self._net(x)[0]
        return logits.argmax(dim=1)[0].to(torch.uint8).cpu().numpy()

    def mask(self, face_rgb: np.ndarray) -> np.ndarray:
        """The soft parsing mask of an aligned face (S x S x 3 uint8 RGB): S x S float32 [0, 1]."""
        mask = parsing_to_mask(self.labels(face_rgb))
        size = face_rgb.shape[0]
        if size != PARSING_SIZE:
            mask = cv2.resize(mask, (size, size), interpolation=cv2.INTER_LINEAR)
        return np.clip(mask, 0.0, 1.0).astype(np.float32)
