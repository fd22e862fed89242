"""Aligning a face to CodeFormer's 512 template with a similarity transform.

A transform is a 2 x 3 float64 affine matrix (OpenCV layout) from photo pixels to pixels of the
aligned S x S crop. Matrices are values: every function here returns a new, read-only array and
never changes its arguments, so a face can be pasted back any number of times.
"""

from __future__ import annotations

import cv2
import numpy as np

FACE_TEMPLATE_512 = np.array(
    [
        [192.98138, 239.94708],
        [318.90277, 240.1936],
        [256.63416, 314.01935],
        [201.26117, 371.41043],
        [313.08905, 371.15118],
    ],
    dtype=np.float64,
)
"""Where the five landmarks land in a 512 x 512 aligned face (x, y; left eye, right eye, nose,
left and right mouth corner)."""
FACE_TEMPLATE_512.setflags(write=False)

BORDER_RGB = (132, 133, 135)
"""Colour of the crop outside the photo (the reference's BGR (135, 133, 132), in RGB)."""


def _frozen(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def face_template(face_size: int = 512) -> np.ndarray:
    """The template for an S x S crop: `FACE_TEMPLATE_512 * S / 512` (5 x 2 float64)."""
    return _frozen(FACE_TEMPLATE_512 * (face_size / 512.0))


def alignment_matrix(landmarks: np.ndarray, face_size: int = 512) -> np.ndarray:
    """The similarity transform (rotation, uniform scale, translation) taking the five
    `landmarks` (5 x 2, x, y in photo pixels) onto the template of an S x S crop.

    Fitted like the reference: `cv2.estimateAffinePartial2D(..., method=cv2.LMEDS)`.
    Returns a read-only 2 x 3 float64 matrix. Raises ValueError for degenerate landmarks.
    """
    points = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    matrix, _ = cv2.estimateAffinePartial2D(points, face_template(face_size), method=cv2.LMEDS)
    if (
        matrix is None
        or not np.all(np.isfinite(matrix))
        or abs(np.linalg.det(matrix[:, :2])) < 1e-12
    ):
        raise ValueError(f"cannot align a face from these landmarks: {points.tolist()}")
    return _frozen(matrix.astype(np.float64))


def invert(matrix: np.ndarray) -> np.ndarray:
    """The inverse 2 x 3 affine transform (a new read-only array)."""
    return _frozen(cv2.invertAffineTransform(np.asarray(matrix, dtype=np.float64)))


def transform_points(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """`points` (N x 2, x, y) mapped by the 2 x 3 `matrix`; N x 2 float64."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    m = np.asarray(matrix, dtype=np.float64)
    return pts @ m[:, :2].T + m[:, 2]


def warp_face(image: np.ndarray, matrix: np.ndarray, face_size: int = 512) -> np.ndarray:
    """The aligned S x S crop of `image` (H x W x 3 RGB, uint8 or uint16; same dtype out).

    Bilinear (INTER_LINEAR); outside the photo the crop is filled with `BORDER_RGB` (scaled to
    16 bits for a uint16 image).
    """
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an H x W x 3 RGB image, got shape {image.shape}")
    unit = 257 if image.dtype == np.uint16 else 1
    border = tuple(float(c * unit) for c in BORDER_RGB)
    return cv2.warpAffine(
        image,
        np.asarray(matrix, dtype=np.float64),
        (face_size, face_size),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=border,
    )
