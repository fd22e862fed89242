"""Whole-photo restoration, split for a live fidelity slider.

`analyze(photo, ...)` does everything that does not depend on the fidelity, once per photo:
detect, align, encode every face (batched), paste masks, prepare the background.
`core.rendering.render(analysis, fidelity, ...)` decodes the faces and composites only their
regions over the cached background. Both return immutable values; nothing is kept in hidden
state.

The parsing mask used for pasting is computed once per face, in `analyze`, from the aligned
input face (not from each restored face as the reference does), so a new fidelity never reruns
the parser.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import cv2
import numpy as np
import torch

from core.callbacks import CancelCheck, ProgressCallback
from core.choices import PipelineSettings
from core.errors import Cancelled
from core.faces.alignment import FACE_TEMPLATE_512, alignment_matrix, warp_face
from core.faces.detection import DetectedFace, FaceDetector, select_faces
from core.faces.masks import FaceParser, combine_masks, square_mask
from core.faces.upsample import BackgroundUpsampler, ResizeUpsampler
from core.model import CodeFormer, EncodedFaces
from core.photo import Photo


@dataclass(frozen=True, eq=False, kw_only=True)
class AnalyzedFace:
    """One face of a photo, with all that a render needs except the fidelity.

    - `box`: x1, y1, x2, y2 in original-photo pixels; `landmarks`: 5 x 2 float (x, y).
    - `matrix`: 2 x 3 affine from original-photo pixels to the aligned face crop.
    - `crop`: the aligned face, S x S x 3 uint8 RGB (S = the model's face size).
    - `paste_mask`: S x S float32 in [0, 1], the soft blend mask in crop coordinates
      (computed once per face, from the aligned input face).
    - `encoded`: this face's encoding (batch of one).
    """

    index: int
    box: tuple[float, float, float, float]
    score: float
    landmarks: np.ndarray
    matrix: np.ndarray
    crop: np.ndarray
    paste_mask: np.ndarray
    encoded: EncodedFaces


@dataclass(frozen=True, eq=False, kw_only=True)
class Analysis:
    """A photo analysed once: its faces encoded and its background prepared."""

    photo: Photo
    settings: PipelineSettings
    variant: str
    faces: tuple[AnalyzedFace, ...]
    background: np.ndarray  # H*u x W*u x 3 RGB, the photo's dtype, upscaled, faces not restored
    background_alpha: np.ndarray | None  # H*u x W*u, the photo's alpha upscaled, or None
    upscale: int
    damage: np.ndarray | None = None  # inpainting: H x W bool in photo pixels, True = fill
    notices: tuple[str, ...] = field(default_factory=tuple)

    def nbytes(self) -> int:
        """The memory this analysis holds beyond its photo: the encoded faces, their crops and
        masks, the background, its alpha and the damage (planes shared with the photo, as an
        unscaled background can be, are not counted)."""
        faces = sum(f.encoded.nbytes() + f.crop.nbytes + f.paste_mask.nbytes for f in self.faces)
        photo_planes = [p for p in (self.photo.pixels, self.photo.alpha) if p is not None]
        planes = (self.background, self.background_alpha, self.damage)
        own = [
            plane
            for plane in planes
            if plane is not None
            and not any(np.may_share_memory(plane, shared) for shared in photo_planes)
        ]
        return faces + sum(plane.nbytes for plane in own)


@dataclass(frozen=True, eq=False, kw_only=True)
class Rendered:
    """The result of a render: the whole photo, and the restored face crops."""

    image: np.ndarray  # H*u x W*u x 3 RGB, the photo's dtype (uint8 or uint16)
    alpha: np.ndarray | None  # H*u x W*u, or None
    fidelity: float
    faces: Mapping[int, np.ndarray]  # index -> restored crop S x S x 3 uint8 RGB
    seconds: float


# -- analysis -----------------------------------------------------------------------------------

ENCODE_BATCH = 4  # faces encoded together; bounds the memory of a photo with many faces


def batch_size(model: CodeFormer) -> int:
    """Faces encoded or decoded together: `ENCODE_BATCH` on a GPU, one at a time on the CPU.

    On the CPU batching gains nothing measurable (bench/), costs memory (a 512 face's decoder
    activations take about 0.5 GB), and would make a face's pixels depend, by float rounding, on
    which other faces share its batch (switching one face off could move another by one level).
    """
    return 1 if model.device.type == "cpu" else ENCODE_BATCH


def _report(progress: ProgressCallback | None, what: str, fraction: float) -> None:
    if progress is not None:
        progress(what, min(max(fraction, 0.0), 1.0))


def _check(cancel: CancelCheck | None) -> None:
    if cancel is not None and cancel():
        raise Cancelled("cancelled")


def faces_to_tensor(crops: list[np.ndarray]) -> torch.Tensor:
    """S x S x 3 uint8 RGB crops -> B x 3 x S x S float32 in [-1, 1]."""
    batch = np.stack(crops).astype(np.float32)
    return torch.from_numpy(batch).permute(0, 3, 1, 2).div_(127.5).sub_(1.0)


def tensor_to_faces(faces: torch.Tensor) -> list[np.ndarray]:
    """B x 3 x S x S float in [-1, 1], on any device -> S x S x 3 uint8 RGB crops.

    Rounded to bytes where the tensor is, so a GPU hands over a quarter of the data.
    """
    scaled = faces.detach().float().clamp(-1, 1).add(1.0).mul(127.5).round()
    array = scaled.to(torch.uint8).permute(0, 2, 3, 1).contiguous().cpu().numpy()
    return list(array)


def analyze(
    photo: Photo,
    model: CodeFormer,
    settings: PipelineSettings,
    *,
    detector: FaceDetector | None,
    upsampler: BackgroundUpsampler,
    parser: FaceParser | None = None,
    mask: np.ndarray | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> Analysis:
    """Everything about `photo` that does not depend on the fidelity.

    `mask` (inpainting): H x W bool or uint8 in photo pixels, true where the face is damaged.
    `detector` may be None only with `settings.aligned` (the photo is an aligned face crop).
    """
    if not 1 <= settings.upscale <= 4:
        raise ValueError(f"upscale must be 1 to 4, got {settings.upscale}")
    size = model.face_size
    rgb = photo.rgb8()
    notices: list[str] = []
    damage = None
    if model.variant.fills_white_mask:
        # Official rule without a painted mask: the pure-white pixels are the damage.
        damage = (np.asarray(mask) > 0) if mask is not None else np.all(rgb == 255, axis=2)
        if damage.shape != rgb.shape[:2]:
            raise ValueError(
                f"the mask is {damage.shape[1]}x{damage.shape[0]}, the photo "
                f"{photo.width}x{photo.height}: they must be the same size"
            )
    elif mask is not None:
        raise ValueError(f"a damage mask is only used by inpainting, not {model.variant.name}")
    _report(progress, "Finding faces", 0.0)
    if settings.aligned:
        found = [_aligned_face(photo, size)]
    else:
        if detector is None:
            raise ValueError("a face detector is needed unless the photo is an aligned face")
        detected = detector.detect(rgb)
        found = select_faces(
            detected,
            min_eye_distance=settings.min_eye_distance,
            only_center_face=settings.only_center_face,
            image_size=(photo.width, photo.height),
        )
        if not found:
            notices.append("No face was found in this photo; it is passed through unchanged.")
    _check(cancel)

    matrices = [
        _aligned_matrix(photo, size) if settings.aligned else alignment_matrix(f.landmarks, size)
        for f in found
    ]
    crops = [warp_face(rgb, m, size) for m in matrices]
    face_masks = [mask_in_face(damage, m, size) for m in matrices] if damage is not None else None

    # Without the parsing weights, "parsing" blends with the soft square (the app offers the
    # file among its model files; no per-photo warning).
    use_parsing = settings.paste_mask == "parsing" and parser is not None
    square = square_mask(size)
    paste_masks = []
    for i, crop in enumerate(crops):
        _check(cancel)
        _report(progress, "Preparing faces", 0.1 + 0.1 * i / max(len(crops), 1))
        if parser is not None and use_parsing:
            paste_masks.append(combine_masks(square, parser.mask(crop)))
        else:
            paste_masks.append(square)

    encoded_parts: list[EncodedFaces] = []
    batch = batch_size(model)
    for start in range(0, len(crops), batch):
        _check(cancel)
        _report(progress, "Encoding faces", 0.2 + 0.6 * start / max(len(crops), 1))
        chunk = faces_to_tensor(crops[start : start + batch])
        chunk_mask = None
        if face_masks is not None:
            stacked = np.stack(face_masks[start : start + batch]).astype(np.float32)
            chunk_mask = torch.from_numpy(stacked)[:, None]
        encoded_parts.append(model.encode(chunk, mask=chunk_mask))

    faces = []
    offset = 0
    for part in encoded_parts:
        for j in range(part.batch):
            i = offset + j
            found_face = found[i]
            faces.append(
                AnalyzedFace(
                    index=i,
                    box=found_face.box,
                    score=found_face.score,
                    landmarks=found_face.landmarks,
                    matrix=matrices[i],
                    crop=crops[i],
                    paste_mask=paste_masks[i],
                    encoded=part.select(j),
                )
            )
        offset += part.batch

    _check(cancel)
    _report(progress, "Preparing the background", 0.8)
    background = _upscale_background(photo, upsampler, settings.upscale, cancel)
    alpha = None
    if photo.alpha is not None:
        alpha = _resize_plane(photo.alpha, settings.upscale)
    _report(progress, "Ready", 1.0)
    return Analysis(
        photo=photo,
        settings=settings,
        variant=model.variant.name,
        faces=tuple(faces),
        background=background,
        background_alpha=alpha,
        upscale=settings.upscale,
        damage=damage,
        notices=tuple(notices),
    )


def _upscale_background(
    photo: Photo, upsampler: BackgroundUpsampler, factor: int, cancel: CancelCheck | None
) -> np.ndarray:
    """The photo upscaled, in the photo's own dtype (a plain resize keeps 16 bits)."""
    if photo.bit_depth == 8 or isinstance(upsampler, ResizeUpsampler):
        return upsampler.upscale(photo.pixels, factor, cancel=cancel)
    eight_bit = upsampler.upscale(photo.rgb8(), factor, cancel=cancel)
    return eight_bit.astype(np.uint16) * 257


def _resize_plane(plane: np.ndarray, factor: int) -> np.ndarray:
    if factor == 1:
        return plane
    h, w = plane.shape[:2]
    return cv2.resize(plane, (w * factor, h * factor), interpolation=cv2.INTER_CUBIC)


def _aligned_matrix(photo: Photo, size: int) -> np.ndarray:
    """An already aligned face crop: only a scale to the model's face size."""
    return np.array(
        [[size / photo.width, 0.0, 0.0], [0.0, size / photo.height, 0.0]], dtype=np.float64
    )


def _aligned_face(photo: Photo, size: int) -> DetectedFace:
    w, h = photo.width, photo.height
    scale = np.array([w / 512.0, h / 512.0], dtype=np.float32)
    return DetectedFace(
        box=(0.0, 0.0, float(w), float(h)),
        score=1.0,
        landmarks=(FACE_TEMPLATE_512 * scale).astype(np.float32),
    )


def mask_in_face(mask: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """A photo-space damage mask, warped into an aligned face (S x S bool)."""
    plane = (np.asarray(mask) > 0).astype(np.uint8) * 255
    warped = cv2.warpAffine(plane, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=0)
    return warped >= 128
