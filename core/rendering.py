"""Rendering an analysed photo at a fidelity: decode the faces, paste them over the background.

`render` makes the whole photo; `render_regions` makes only the rectangles the faces can change
(`core.faces.paste.paste_region`, merged where they overlap), each exactly as `render` would
make it there, for a window that already shows a render of the same analysis: the pixels
elsewhere are the background's in every render. Faces decoded before at the fidelity they get
(`decoded`) are only pasted. Neither reruns detection, encoding nor the background.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import cv2
import numpy as np

from core.callbacks import CancelCheck
from core.choices import FaceChoice
from core.damage_mask import keep_unpainted
from core.faces.paste import Region, merge_regions, paste_face, paste_region
from core.faces.upsample import BackgroundUpsampler
from core.model import CodeFormer, EncodedFaces
from core.pipeline import Analysis, AnalyzedFace, Rendered, _check, batch_size, tensor_to_faces

INPAINT_FEATHER = 2.0  # photo pixels over which an inpainted region blends into the photo


@dataclass(frozen=True, eq=False, kw_only=True)
class RenderedRegions:
    """The parts of a render that faces can change: (rectangle, pixels) in canvas pixels, each
    `image[y1:y2, x1:x2]` of the whole render; the rest of the canvas is the background."""

    patches: tuple[tuple[Region, np.ndarray], ...]
    fidelity: float
    faces: Mapping[int, np.ndarray]  # index -> restored crop S x S x 3 uint8 RGB
    seconds: float


def render(
    analysis: Analysis,
    model: CodeFormer,
    fidelity: float | None,
    *,
    choices: Mapping[int, FaceChoice] | None = None,
    face_upsampler: BackgroundUpsampler | None = None,
    cancel: CancelCheck | None = None,
    decoded: Mapping[int, np.ndarray] | None = None,
) -> Rendered:
    """Decode the faces at `fidelity` and paste them over the cached background.

    `choices` maps a face index to its own options (off, or its own fidelity); faces not in it
    follow `fidelity`. `face_upsampler` (optional) enlarges restored faces before pasting
    ("face upsample"). `decoded` holds faces already decoded at the fidelity they get here
    (`Rendered.faces` of an earlier render, kept by the caller): they are only pasted.
    """
    started = time.perf_counter()
    base, restored = _restore_faces(analysis, model, fidelity, choices, decoded, cancel)
    canvas = analysis.background.copy()
    _paste_faces(canvas, analysis, model, restored, face_upsampler, cancel)
    if analysis.damage is not None:
        # Pasting resamples the whole face: keep every pixel away from the damage exact.
        damage = analysis.damage
        if analysis.upscale > 1:
            damage = cv2.resize(
                damage.astype(np.uint8),
                (damage.shape[1] * analysis.upscale, damage.shape[0] * analysis.upscale),
                interpolation=cv2.INTER_NEAREST,
            ).astype(bool)
        canvas = keep_unpainted(
            analysis.background, canvas, damage, feather=INPAINT_FEATHER * analysis.upscale
        )
    return Rendered(
        image=canvas,
        alpha=analysis.background_alpha,
        fidelity=base,
        faces=restored,
        seconds=time.perf_counter() - started,
    )


def render_regions(
    analysis: Analysis,
    model: CodeFormer,
    fidelity: float | None,
    *,
    choices: Mapping[int, FaceChoice] | None = None,
    face_upsampler: BackgroundUpsampler | None = None,
    cancel: CancelCheck | None = None,
    decoded: Mapping[int, np.ndarray] | None = None,
) -> RenderedRegions:
    """`render`, made only where faces can change the photo (see the module docstring): every
    face's region (also of faces switched off, which show the background there again). Not for
    inpainting, whose damage reaches beyond the faces."""
    if analysis.damage is not None:
        raise ValueError("an inpainting render changes more than the faces' regions")
    started = time.perf_counter()
    base, restored = _restore_faces(analysis, model, fidelity, choices, decoded, cancel)
    background = analysis.background
    regions = [
        paste_region(
            background.shape,
            face.matrix,
            face.paste_mask,
            float(analysis.upscale),
            face_size=model.face_size,
        )
        for face in analysis.faces
    ]
    patches = []
    for x1, y1, x2, y2 in merge_regions(regions):
        window = background[y1:y2, x1:x2].copy()
        _paste_faces(
            window, analysis, model, restored, face_upsampler, cancel, box=(x1, y1, x2, y2)
        )
        patches.append(((x1, y1, x2, y2), window))
    return RenderedRegions(
        patches=tuple(patches),
        fidelity=base,
        faces=restored,
        seconds=time.perf_counter() - started,
    )


def _inside(region: Region, box: Region) -> bool:
    x1, y1, x2, y2 = box
    return region[0] >= x1 and region[1] >= y1 and region[2] <= x2 and region[3] <= y2


def _restore_faces(
    analysis: Analysis,
    model: CodeFormer,
    fidelity: float | None,
    choices: Mapping[int, FaceChoice] | None,
    decoded: Mapping[int, np.ndarray] | None,
    cancel: CancelCheck | None,
) -> tuple[float, dict[int, np.ndarray]]:
    """The effective global fidelity, and every face to paste, decoded (or given)."""
    if analysis.variant != model.variant.name:
        raise ValueError(
            f"this photo was analysed for {analysis.variant}, not {model.variant.name}"
        )
    choices = choices or {}
    decoded = decoded or {}
    base = model.effective_fidelity(fidelity)
    groups: dict[float, list[AnalyzedFace]] = {}
    restored: dict[int, np.ndarray] = {}
    for face in analysis.faces:
        choice = choices.get(face.index, FaceChoice())
        if not choice.enabled:
            continue
        if analysis.damage is not None and not _has_damage(face):
            continue  # inpainting with nothing to fill in this face
        if face.index in decoded:
            restored[face.index] = decoded[face.index]
            continue
        w = base if choice.fidelity is None else model.effective_fidelity(choice.fidelity)
        groups.setdefault(w, []).append(face)
    for w, faces in groups.items():
        restored.update(decode_faces(faces, model, w, cancel=cancel))
    return base, restored


def _paste_faces(
    canvas: np.ndarray,
    analysis: Analysis,
    model: CodeFormer,
    restored: Mapping[int, np.ndarray],
    face_upsampler: BackgroundUpsampler | None,
    cancel: CancelCheck | None,
    *,
    box: Region | None = None,
) -> None:
    """Paste the restored faces in the analysis' order (whichever were decoded before) into
    `canvas`: the whole canvas, or its rectangle `box` (then only the faces inside it)."""
    grey = analysis.photo.is_grey and model.variant.name != "colorization"
    shape = analysis.background.shape
    for face in analysis.faces:
        if face.index not in restored:
            continue
        if box is not None:
            scale = float(analysis.upscale)
            region = paste_region(
                shape, face.matrix, face.paste_mask, scale, face_size=model.face_size
            )
            if not _inside(region, box):
                continue
        _check(cancel)
        crop = restored[face.index]
        if grey:
            crop = to_grey_rgb(crop)
        if face_upsampler is not None and analysis.upscale > 1:
            crop = face_upsampler.upscale(crop, analysis.upscale, cancel=cancel)
        if canvas.dtype == np.uint16:
            crop = crop.astype(np.uint16) * 257
        paste_face(
            canvas,
            crop,
            face.matrix,
            face.paste_mask,
            float(analysis.upscale),
            face_size=model.face_size,
            origin=(0, 0) if box is None else (box[0], box[1]),
            full_shape=shape,
        )


def decode_faces(
    faces: list[AnalyzedFace],
    model: CodeFormer,
    fidelity: float,
    *,
    cancel: CancelCheck | None = None,
) -> dict[int, np.ndarray]:
    """These faces decoded at `fidelity` (already effective: `model.effective_fidelity`), as
    S x S x 3 uint8 crops by face index; nothing pasted. Batched as `batch_size` says; `cancel`
    is asked between batches and between the generator's stages."""
    restored: dict[int, np.ndarray] = {}
    batch = batch_size(model)
    for start in range(0, len(faces), batch):
        _check(cancel)
        chunk = faces[start : start + batch]
        encoded = EncodedFaces.concat([f.encoded for f in chunk])
        out = tensor_to_faces(model.decode(encoded, fidelity, cancel))
        for face, crop in zip(chunk, out, strict=True):
            restored[face.index] = crop
    return restored


def _has_damage(face: AnalyzedFace) -> bool:
    mask = face.encoded.mask
    return mask is not None and bool((mask > 0.5).any())


def to_grey_rgb(rgb: np.ndarray) -> np.ndarray:
    """Luma of an RGB uint8 image, repeated in three channels (no colour cast on grey photos)."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    return np.repeat(grey[:, :, None], 3, axis=2)
