"""Inpainting a whole photo while the user paints: only the faces whose damage changed re-encode.

The window analyses a photo once for the inpainting variant (`Engine.analyze(...,
variant="inpainting", mask=...)`); after each stroke, `remask` re-encodes just the faces whose
damage in the aligned crop changed, reusing detection, alignment, paste masks and background.
`core.rendering.render` then fills only the damaged faces and keeps every pixel away from the
damage exactly as in the photo.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from core.model import CodeFormer
from core.pipeline import (
    Analysis,
    AnalyzedFace,
    CancelCheck,
    _check,
    batch_size,
    faces_to_tensor,
    mask_in_face,
)


def remask(
    analysis: Analysis,
    model: CodeFormer,
    mask: np.ndarray,
    *,
    cancel: CancelCheck | None = None,
) -> Analysis:
    """The same analysis with every face encoded for the damage `mask`.

    `mask`: H x W bool in photo pixels (True = damage), e.g. `rasterize(damage_mask)`. Faces whose
    damage in the aligned crop is unchanged keep their encoding; the others are encoded again
    (batched). Nothing else is recomputed. The result equals a fresh `analyze` with this mask.
    """
    if analysis.variant != "inpainting" or model.variant.name != "inpainting":
        raise ValueError(
            f"remask needs an inpainting analysis and model, got {analysis.variant} and "
            f"{model.variant.name}"
        )
    photo = analysis.photo
    if mask.shape != (photo.height, photo.width):
        raise ValueError(f"mask must be {photo.height} x {photo.width}, got {mask.shape}")
    size = model.face_size
    faces = list(analysis.faces)
    changed: list[tuple[int, np.ndarray]] = []
    for i, face in enumerate(faces):
        new = mask_in_face(mask, face.matrix, size)
        if not np.array_equal(face_damage(face), new):
            changed.append((i, new))
    batch = batch_size(model)
    for start in range(0, len(changed), batch):
        _check(cancel)
        chunk = changed[start : start + batch]
        crops = faces_to_tensor([faces[i].crop for i, _ in chunk])
        masks = torch.from_numpy(np.stack([m for _, m in chunk]).astype(np.float32))[:, None]
        encoded = model.encode(crops, mask=masks)
        for j, (i, _) in enumerate(chunk):
            faces[i] = replace(faces[i], encoded=encoded.select(j))
    return replace(analysis, faces=tuple(faces), damage=np.asarray(mask, dtype=bool))


def face_damage(face: AnalyzedFace) -> np.ndarray:
    """The damage of one face in its aligned crop: S x S bool (all False without a mask)."""
    mask = face.encoded.mask
    if mask is None:
        return np.zeros(face.crop.shape[:2], bool)
    return mask[0, 0].detach().cpu().numpy() > 0.5


__all__ = ["face_damage", "remask"]
