"""Reading and writing photos without losing anything: pixels, depth, alpha, ICC, EXIF.

Pillow decodes and reads metadata (it is the reference for ICC, EXIF and orientation); OpenCV
decodes 16-bit colour PNG and TIFF, which Pillow would cut to 8 bits. Files are opened by Python
(`open`), so paths with any characters work on every OS.

Reading (`read_photo`): JPEG, PNG, WebP, TIFF, BMP; 8 and 16 bits; grey, grey+alpha, RGB, RGBA,
palette (with transparency), CMYK. Pixels come back as H x W x 3 RGB in the file's own depth
(uint8 or uint16) with the EXIF orientation applied; the alpha as H x W of the same dtype.

Writing (`write_photo`): PNG, JPEG, WebP, TIFF. Atomic (a hidden temporary file in the same
folder, then a rename), never over an existing file unless asked, never over the original.
- JPEG has no alpha: a photo with alpha is composited onto white (documented choice: a black or
  refused export surprises more than a white background, which is how most viewers show it).
- JPEG and WebP are 8-bit: 16-bit pixels are rounded to 8 bits. PNG and TIFF keep 16 bits.
- ICC and EXIF come from `like` (the photo the pixels were made from); the EXIF orientation is 1
  because the rotation is already in the pixels; an ICC profile whose colour space does not match
  the pixels (a grey profile on RGB pixels) is left out.

File names and folder scanning (`output_path`, `next_free_path`, `supported_extensions`,
`is_image_path`, `iter_photos`) live in `core.photo_files` and are re-exported here.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import os
import struct
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import cv2
import numpy as np
from PIL import Image, ImageCms, ImageFile, UnidentifiedImageError

from core.atomic_file import same_file, write_atomically
from core.encoders import write_png16, write_tiff
from core.errors import ImageReadError, ImageWriteError
from core.exif_bytes import (
    ORIENTATION,
    exif_from_tags,
    normalized_exif,
    tiff_exif_tags,
    with_orientation_reset,
)
from core.photo import Photo
from core.photo_files import (
    WRITE_FORMATS,
    WRITE_SUFFIXES,
    is_image_path,
    iter_photos,
    next_free_path,
    output_path,
    supported_extensions,
)

__all__ = [
    "MAX_PIXELS",
    "is_image_path",
    "iter_photos",
    "next_free_path",
    "output_path",
    "read_photo",
    "supported_extensions",
    "write_photo",
]

log = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]

MAX_PIXELS = 178_000_000
"""The largest photo `read_photo` accepts by default (e.g. 16300 x 10900; a 12000 x 9000 photo
is 108 MP). Just under Pillow's own hard decompression-bomb limit (2 x `Image.MAX_IMAGE_PIXELS`,
179 MP), so the refusal is ours and says what happened. Pillow's warning above 89 MP is silenced
while a photo is read: the size is checked here instead, before any pixel is decoded."""

GREY_TOLERANCE = 3 / 255
"""An RGB photo is grey when no sampled pixel's channels differ by more than this (of full scale):
JPEG rounding of a grey picture stays within 1 or 2 levels of 255."""

_GREY_SAMPLES = 1 << 18  # pixels examined by the grey check, whatever the photo's size

_READ_FORMATS = ("JPEG", "PNG", "WEBP", "TIFF", "BMP")  # JPEG includes MPO (multi-picture)
_WEBP_MAX_SIDE = 16383
_JPEG_MAX_SIDE = 65535
_JPEG_MAX_EXIF = 65533  # one APP1 segment
_DAMAGED = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, TypeError)
_BAD_EXIF = (*_DAMAGED, KeyError)


# ----------------------------------------------------------------------------------------------
# reading


def read_photo(path: PathLike, *, max_pixels: int = MAX_PIXELS) -> Photo:
    """Read a photo file into a `Photo` (see there for the shapes and dtypes).

    - EXIF orientation (all 8 values) is applied to the pixels and reset to 1 in `Photo.exif`.
    - Grey files (1-bit, L, LA, I;16) become RGB with equal channels and `is_grey=True`; an RGB
      file whose channels are nearly equal (`GREY_TOLERANCE`, checked on a subsample) is grey too.
    - Palette files become RGB, or RGB + alpha when they have transparency.
    - CMYK is converted to sRGB through its ICC profile when it has one (`icc_profile` is then
      sRGB's), else with Pillow's plain formula (`icc_profile` None).
    - 16-bit PNG and TIFF keep uint16 pixels (grey, RGB and their alpha).

    Raises `ImageReadError` (the message names the file) for a missing file, a folder, a file that
    is not a JPEG/PNG/WebP/TIFF/BMP image, a truncated or damaged file, a file with no pixels, and
    a photo larger than `max_pixels`.
    """
    path = Path(path)
    try:
        fp = open(path, "rb")  # noqa: SIM115 - closed by the `with` below
    except FileNotFoundError:
        raise ImageReadError(f"Cannot read '{path}': the file does not exist.") from None
    except IsADirectoryError:
        raise ImageReadError(f"Cannot read '{path}': it is a folder, not a photo.") from None
    except PermissionError:
        raise ImageReadError(f"Cannot read '{path}': permission denied.") from None
    except OSError as error:
        raise ImageReadError(f"Cannot read '{path}': {error.strerror or error}.") from error
    with fp:
        if os.fstat(fp.fileno()).st_size == 0:
            raise ImageReadError(f"Cannot read '{path}': the file is empty.")
        with warnings.catch_warnings():
            # Pillow warns from 89 MP; the size is checked against max_pixels in _decode.
            # (catch_warnings is process-wide; it only ever silences this one warning.)
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            try:
                image = Image.open(fp, formats=_READ_FORMATS)
            except UnidentifiedImageError:
                raise ImageReadError(
                    f"Cannot read '{path}': it is not a JPEG, PNG, WebP, TIFF or BMP image."
                ) from None
            except Image.DecompressionBombError:
                raise ImageReadError(_too_large(path, None, None)) from None
            except _DAMAGED as error:
                raise ImageReadError(_damaged(path, error)) from error
            with image:
                return _decode(image, fp, path, max_pixels)


def _decode(image: ImageFile.ImageFile, fp: BinaryIO, path: Path, max_pixels: int) -> Photo:
    width, height = image.size
    if width <= 0 or height <= 0:
        raise ImageReadError(f"Cannot read '{path}': the image has no pixels.")
    if width * height > max_pixels:
        raise ImageReadError(_too_large(path, (width, height), max_pixels))
    source_format = "JPEG" if image.format == "MPO" else image.format
    icc = image.info.get("icc_profile") or None
    dpi = _dpi(image.info.get("dpi"))
    rawmode = _tile_rawmode(image)
    deep_colour = image.mode in ("RGB", "RGBA", "LA") and ";16" in rawmode
    with _pillow_errors(path):  # (a PNG's getexif may load the pixels, emptying `tile`)
        tags = image.getexif()  # before load: a TIFF's tags are read from the open file
        orientation = _orientation(tags.get(ORIENTATION), path)
        exif = _kept_exif(image, tags, path)

    if deep_colour:
        colour, alpha, grey = _decode_16bit(fp, path, image, rawmode, orientation)
    else:
        with _pillow_errors(path):
            image.load()
            colour, alpha, grey, icc = _pixels(image, icc, path)
        if image.format == "TIFF" and ORIENTATION not in getattr(image, "tag_v2", {ORIENTATION: 0}):
            orientation = 1  # Pillow's TIFF loader turned the pixels itself (and dropped the tag)

    colour = _oriented(colour, orientation)
    if colour.ndim == 2:
        pixels = np.repeat(colour[:, :, None], 3, axis=2)
    else:
        pixels = np.array(colour, order="C")  # the one copy out of the decoder's buffer
    if alpha is not None:
        alpha = np.array(_oriented(alpha, orientation), order="C")
    if pixels.shape[0] == 0 or pixels.shape[1] == 0:
        raise ImageReadError(f"Cannot read '{path}': the image decoded to nothing.")
    return Photo(
        pixels=pixels,
        alpha=alpha,
        icc_profile=icc,
        exif=exif,
        source=path.resolve(),
        format=source_format,
        is_grey=grey or _looks_grey(pixels),
        dpi=dpi,
    )


@contextlib.contextmanager
def _pillow_errors(path: Path) -> Iterator[None]:
    """Turn what Pillow raises on broken data into an `ImageReadError` naming the file."""
    try:
        yield
    except Image.DecompressionBombError:
        raise ImageReadError(_too_large(path, None, None)) from None
    except MemoryError:
        raise ImageReadError(f"Cannot read '{path}': not enough memory to decode it.") from None
    except _DAMAGED as error:
        raise ImageReadError(_damaged(path, error)) from error


def _damaged(path: Path, error: BaseException) -> str:
    detail = str(error) or type(error).__name__
    return f"Cannot read '{path}': the file is truncated or damaged ({detail})."


def _too_large(path: Path, size: tuple[int, int] | None, max_pixels: int | None) -> str:
    if size is None or max_pixels is None:
        return f"Cannot read '{path}': the image is too large to read safely."
    limit = f"{max_pixels / 1e6:.0f} megapixels"
    w, h = size
    return (
        f"Cannot read '{path}': {w} x {h} pixels ({w * h / 1e6:.0f} megapixels) is more than "
        f"the {limit} this app reads (a larger size usually means a damaged or hostile file)."
    )


def _dpi(value: Any) -> tuple[float, float] | None:
    try:
        x, y = (float(v) for v in value)
    except (TypeError, ValueError):
        return None
    if not (x > 1 and y > 1 and math.isfinite(x) and math.isfinite(y)):
        return None  # 0 or 1: the writer had no resolution to record
    return (round(x, 2), round(y, 2))  # PNG stores dots per metre: 300 dpi reads 299.9994


def _orientation(value: Any, path: Path) -> int:
    if value is None:
        return 1
    if isinstance(value, int) and 1 <= value <= 8:
        return value
    log.warning("%s: EXIF orientation %r is not 1 to 8; ignored", path, value)
    return 1


def _kept_exif(image: Image.Image, tags: Image.Exif, path: Path) -> bytes | None:
    """The EXIF bytes an export should carry (canonical form, orientation reset), or None."""
    raw = image.info.get("exif")
    try:
        if isinstance(raw, bytes) and raw:
            exif = normalized_exif(raw)
            if exif is None:
                log.warning("%s: EXIF block is not TIFF-structured; not kept", path)
                return None
            return with_orientation_reset(exif)
        if image.format == "TIFF":
            return exif_from_tags(tags)
        if "Raw profile type exif" in image.info and len(tags):  # ImageMagick's PNG text chunk
            if ORIENTATION in tags:
                tags[ORIENTATION] = 1
            return normalized_exif(tags.tobytes())
    except _BAD_EXIF as error:
        log.warning("%s: EXIF data is damaged and is not kept (%s)", path, error)
    return None


def _tile_rawmode(image: ImageFile.ImageFile) -> str:
    """How the file stores its samples, e.g. "RGB;16B" for a 16-bit RGB PNG ("" if unknown)."""
    if not image.tile:
        return ""
    args = image.tile[0].args
    rawmode = args[0] if isinstance(args, tuple) and args else args
    return rawmode if isinstance(rawmode, str) else ""


def _decode_16bit(
    fp: BinaryIO, path: Path, image: ImageFile.ImageFile, rawmode: str, orientation: int
) -> tuple[np.ndarray, np.ndarray | None, bool]:
    """16-bit RGB, RGBA or grey+alpha, decoded by OpenCV (Pillow would keep 8 bits).

    Orientation is not applied. Pillow's `image.size` of a TIFF is already the displayed one, so
    with an orientation of 5 to 8 the stored pixels may have it transposed.
    """
    fp.seek(0)
    data = np.frombuffer(fp.read(), np.uint8)
    decoded = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)  # no EXIF rotation with this flag
    del data
    width, height = image.size
    shapes = {(height, width), (width, height)} if orientation >= 5 else {(height, width)}
    if decoded is None or decoded.shape[:2] not in shapes:
        raise ImageReadError(_damaged(path, OSError("the 16-bit decoder found broken data")))
    if decoded.dtype != np.uint16:
        raise ImageReadError(_damaged(path, OSError(f"16-bit file decoded as {decoded.dtype}")))
    channels = 1 if decoded.ndim == 2 else decoded.shape[2]
    alpha = decoded[..., -1] if channels in (2, 4) else None
    if rawmode.startswith("LA") or channels <= 2:  # (Pillow calls 16-bit grey+alpha "RGBA")
        grey = decoded if channels == 1 else decoded[..., 0]
        return grey, alpha, True
    return decoded[..., 2::-1], alpha, False  # BGR(A) -> RGB


def _pixels(
    image: Image.Image, icc: bytes | None, path: Path
) -> tuple[np.ndarray, np.ndarray | None, bool, bytes | None]:
    """Pillow's decoded image as (colour H x W x 3 or grey H x W, alpha or None, grey, icc)."""
    mode = image.mode
    has_transparency = "transparency" in image.info
    if mode == "1":
        return np.asarray(image.convert("L")), None, True, icc
    if mode == "L":
        if has_transparency:
            la = np.asarray(image.convert("LA"))
            return la[..., 0], la[..., 1], True, icc
        return np.asarray(image), None, True, icc
    if mode in ("LA", "La"):
        la = np.asarray(image if mode == "LA" else image.convert("LA"))
        return la[..., 0], la[..., 1], True, icc
    if mode.startswith("I;16") or mode == "I":
        grey = _grey16(np.asarray(image), path)
        alpha = None
        if has_transparency and isinstance(image.info["transparency"], int):
            opaque = grey != image.info["transparency"]
            alpha = (opaque * np.uint16(65535)).astype(np.uint16)
        return grey, alpha, True, icc
    if mode in ("P", "PA"):
        if mode == "PA" or image.has_transparency_data:
            rgba = np.asarray(image.convert("RGBA"))
            return rgba[..., :3], rgba[..., 3], False, icc
        return np.asarray(image.convert("RGB")), None, False, icc
    if mode == "RGB":
        if has_transparency:
            rgba = np.asarray(image.convert("RGBA"))
            return rgba[..., :3], rgba[..., 3], False, icc
        return np.asarray(image), None, False, icc
    if mode in ("RGBA", "RGBa"):
        rgba = np.asarray(image if mode == "RGBA" else image.convert("RGBA"))
        return rgba[..., :3], rgba[..., 3], False, icc
    if mode in ("RGBX", "YCbCr"):
        return np.asarray(image.convert("RGB")), None, False, icc
    if mode == "CMYK":
        rgb, icc = _cmyk_to_rgb(image, icc, path)
        return np.asarray(rgb), None, False, icc
    raise ImageReadError(f"Cannot read '{path}': its pixel format ({mode}) is not supported.")


def _grey16(samples: np.ndarray, path: Path) -> np.ndarray:
    if samples.dtype.kind == "u" and samples.dtype.itemsize == 2:
        return samples.astype(np.uint16, copy=False)  # native byte order
    if samples.size and (samples.min() < 0 or samples.max() > 65535):
        raise ImageReadError(
            f"Cannot read '{path}': its 32-bit grey values do not fit 16 bits "
            "(only 8- and 16-bit photos are supported)."
        )
    return samples.astype(np.uint16)


def _cmyk_to_rgb(
    image: Image.Image, icc: bytes | None, path: Path
) -> tuple[Image.Image, bytes | None]:
    """CMYK to sRGB through the file's profile; Pillow's plain formula without one."""
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
            converted = ImageCms.profileToProfile(image, source, srgb, outputMode="RGB")
            if converted is not None:
                return converted, srgb.tobytes()
        except (ImageCms.PyCMSError, OSError, ValueError) as error:
            log.warning("%s: CMYK profile unusable (%s); converted without it", path, error)
    return image.convert("RGB"), None


def _oriented(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """A view of `pixels` (H x W or H x W x C) as EXIF `orientation` says to display it."""
    if orientation in (5, 6, 7, 8):
        transposed = pixels.swapaxes(0, 1)
        return {
            5: transposed,  # transpose
            6: transposed[:, ::-1],  # rotate 90 clockwise
            7: transposed[::-1, ::-1],  # transverse
            8: transposed[::-1],  # rotate 90 counter-clockwise
        }[orientation]
    return {1: pixels, 2: pixels[:, ::-1], 3: pixels[::-1, ::-1], 4: pixels[::-1]}[orientation]


def _looks_grey(pixels: np.ndarray) -> bool:
    """True when every sampled pixel of H x W x 3 `pixels` has (nearly) equal channels.

    A sparse subset of the sample is checked first (every 8th row and column of it), so a colour
    photo is told at once; only a photo that passes is checked on the whole sample.
    """
    height, width = pixels.shape[:2]
    step = max(1, math.isqrt(height * width // _GREY_SAMPLES))
    full_scale = 65535 if pixels.dtype == np.uint16 else 255
    limit = GREY_TOLERANCE * full_scale + 1e-9
    return all(_channel_spread(pixels[::s, ::s]) <= limit for s in (8 * step, step))


def _channel_spread(sample: np.ndarray) -> int:
    """The largest difference between two channels of one pixel (max - min over channels).

    Pairwise channel differences on the (strided) views: much faster than numpy's reductions
    along an axis of length 3.
    """
    r, g, b = (sample[..., c].astype(np.int32) for c in range(3))
    return max(int(np.abs(r - g).max()), int(np.abs(g - b).max()), int(np.abs(r - b).max()))


# ----------------------------------------------------------------------------------------------
# writing


def write_photo(
    path: PathLike,
    pixels: np.ndarray,
    *,
    alpha: np.ndarray | None = None,
    like: Photo | None = None,
    format: str | None = None,
    quality: int = 95,
    overwrite: bool = False,
    software: str | None = None,
) -> Path:
    """Write `pixels` to `path` atomically and return the path written.

    - `pixels`: H x W x 3 RGB or H x W grey, uint8 or uint16. `alpha`: H x W, uint8 or uint16
      (scaled to the pixels' depth), or None.
    - `like`: the photo the pixels come from. Its ICC profile and EXIF (orientation 1) are written
      too, its dpi scaled by the change of width; its `source` is never written, even with
      `overwrite=True`.
    - `format`: "png", "jpeg"/"jpg", "webp" or "tiff"/"tif"; None takes it from the suffix.
    - `quality`: 1 to 100, for JPEG and WebP. JPEG at 90 or more keeps full colour resolution
      (4:4:4), below that it uses 4:2:0.
    - JPEG: alpha is composited onto white; JPEG and WebP are 8-bit; PNG and TIFF keep 16 bits.
    - `software`: what made the pixels (e.g. the app and the model file), recorded where the
      format has a place for it: PNG's "Software" text, JPEG's comment, TIFF's Software tag
      (WebP: nowhere).

    Raises `ImageWriteError` for an unknown format, an existing file without `overwrite`, the
    original photo, a missing folder, or a failed write (no temporary file is left behind).
    """
    path = Path(path)
    pil_format = _write_format(path, format)
    pixels = np.asarray(pixels)
    pixels, alpha = _checked_pixels(pixels, alpha)
    if not 1 <= int(quality) <= 100:
        raise ValueError(f"quality must be 1 to 100, not {quality}")

    if like is not None and like.source is not None and same_file(path, like.source):
        raise ImageWriteError(
            f"Refusing to write '{path}': it is the original photo; originals are never written."
        )
    if path.is_dir():
        raise ImageWriteError(f"Cannot write '{path}': it is a folder.")
    if not overwrite and os.path.lexists(path):
        raise ImageWriteError(
            f"Cannot write '{path}': the file already exists (choose another name, or allow "
            "overwriting)."
        )
    if not path.parent.is_dir():
        raise ImageWriteError(f"Cannot write '{path}': the folder '{path.parent}' does not exist.")

    icc, exif, dpi = _metadata(like, pixels)
    encode = _encoder(pil_format, pixels, alpha, icc, exif, dpi, int(quality), path, software)
    write_atomically(path, encode, overwrite=overwrite)
    log.info("Wrote %s (%s, %d x %d)", path, pil_format, pixels.shape[1], pixels.shape[0])
    return path


def _write_format(path: Path, format: str | None) -> str:
    if format is None:
        suffix = path.suffix.lower()
        if suffix not in WRITE_SUFFIXES:
            raise ImageWriteError(
                f"Cannot write '{path}': no format is known for the suffix '{path.suffix}' "
                "(use .png, .jpg, .webp or .tif)."
            )
        return WRITE_SUFFIXES[suffix]
    name = format.lower().lstrip(".")
    if name not in WRITE_FORMATS:
        raise ImageWriteError(
            f"Cannot write '{path}': unknown format '{format}' (use png, jpeg, webp or tiff)."
        )
    return WRITE_FORMATS[name][0]


def _checked_pixels(
    pixels: np.ndarray, alpha: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None]:
    if pixels.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"pixels must be uint8 or uint16, not {pixels.dtype}")
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[..., 0]
    if not (pixels.ndim == 2 or (pixels.ndim == 3 and pixels.shape[2] == 3)):
        raise ValueError(f"pixels must be H x W x 3 or H x W, not {pixels.shape}")
    if pixels.shape[0] == 0 or pixels.shape[1] == 0:
        raise ValueError(f"pixels have no area: {pixels.shape}")
    if alpha is None:
        return pixels, None
    alpha = np.asarray(alpha)
    if alpha.shape != pixels.shape[:2]:
        raise ValueError(f"alpha must be {pixels.shape[:2]}, not {alpha.shape}")
    if alpha.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"alpha must be uint8 or uint16, not {alpha.dtype}")
    if alpha.dtype != pixels.dtype:
        alpha = alpha.astype(np.uint16) * 257 if pixels.dtype == np.uint16 else _to_uint8(alpha)
    return pixels, alpha


def _metadata(
    like: Photo | None, pixels: np.ndarray
) -> tuple[bytes | None, bytes | None, tuple[float, float] | None]:
    if like is None:
        return None, None, None
    icc = like.icc_profile
    wanted = b"RGB " if pixels.ndim == 3 else b"GRAY"
    if icc is not None and icc[16:20] != wanted:
        log.info("ICC profile for %r data left out: pixels are %r", icc[16:20], wanted)
        icc = None
    exif = None
    if like.exif:
        exif = normalized_exif(like.exif)
        if exif is not None:
            try:
                exif = with_orientation_reset(exif)
            except _BAD_EXIF as error:
                log.warning("EXIF of %s is damaged; written without it (%s)", like.source, error)
                exif = None
    dpi = None
    if like.dpi is not None and like.width > 0:
        scale = pixels.shape[1] / like.width
        dpi = (round(like.dpi[0] * scale, 4), round(like.dpi[1] * scale, 4))
    return icc, exif, dpi


def _encoder(
    pil_format: str,
    pixels: np.ndarray,
    alpha: np.ndarray | None,
    icc: bytes | None,
    exif: bytes | None,
    dpi: tuple[float, float] | None,
    quality: int,
    path: Path,
    software: str | None = None,
) -> Callable[[BinaryIO], None]:
    """A function that encodes the photo into an open binary file (checks done up front)."""
    height, width = pixels.shape[:2]
    if pil_format == "TIFF":
        samples = _stacked(pixels, alpha)
        exif_tags = tiff_exif_tags(exif) if exif else {}
        if software:
            exif_tags[0x0131] = software

        def tiff(fp: BinaryIO) -> None:
            write_tiff(
                fp,
                samples,
                colour=pixels.ndim == 3,
                has_alpha=alpha is not None,
                icc_profile=icc,
                exif_tags=exif_tags,
                dpi=dpi,
            )

        return tiff
    if pil_format == "PNG" and pixels.dtype == np.uint16:
        samples16 = _stacked(pixels, alpha)

        def png16(fp: BinaryIO) -> None:
            write_png16(fp, samples16, icc_profile=icc, exif=exif, dpi=dpi, software=software)

        return png16

    pixels8 = _to_uint8(pixels)
    alpha8 = None if alpha is None else _to_uint8(alpha)
    options: dict[str, Any] = {}
    if icc:
        options["icc_profile"] = icc
    if exif:
        options["exif"] = exif
    if pil_format == "JPEG":
        if max(width, height) > _JPEG_MAX_SIDE:
            raise ImageWriteError(f"Cannot write '{path}': JPEG holds at most 65535 pixels a side.")
        if alpha8 is not None:
            pixels8, alpha8 = _onto_white(pixels8, alpha8), None
        if exif and len(exif) > _JPEG_MAX_EXIF:
            log.warning("%s: EXIF (%d bytes) does not fit a JPEG; left out", path, len(exif))
            del options["exif"]
        options.update(quality=quality, subsampling=0 if quality >= 90 else 2)
        if software:
            options["comment"] = software
    elif pil_format == "WEBP":
        if max(width, height) > _WEBP_MAX_SIDE:
            raise ImageWriteError(f"Cannot write '{path}': WebP holds at most 16383 pixels a side.")
        if pixels8.ndim == 2:
            pixels8 = np.repeat(pixels8[:, :, None], 3, axis=2)
        options.update(quality=quality, exact=alpha8 is not None)  # keep colour under alpha 0
        dpi = None  # WebP has no resolution field
    if dpi:
        options["dpi"] = dpi
    if pil_format == "PNG" and software:
        from PIL.PngImagePlugin import PngInfo

        options["pnginfo"] = PngInfo()
        options["pnginfo"].add_text("Software", software)
    image = Image.fromarray(_stacked(pixels8, alpha8) if alpha8 is not None else pixels8)

    def pillow(fp: BinaryIO) -> None:
        image.save(fp, format=pil_format, **options)

    return pillow


def _stacked(pixels: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    """H x W x S samples: grey (S=1), grey+alpha (2), RGB (3) or RGBA (4)."""
    planes = pixels[:, :, None] if pixels.ndim == 2 else pixels
    if alpha is None:
        return np.ascontiguousarray(planes)
    return np.concatenate([planes, alpha[:, :, None]], axis=2)


def _to_uint8(samples: np.ndarray) -> np.ndarray:
    """uint16 to uint8 with rounding (the same rule as `Photo.rgb8`); uint8 unchanged."""
    if samples.dtype == np.uint8:
        return samples
    return ((samples.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)


def _onto_white(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """uint8 `rgb` (H x W x 3 or H x W) composited onto white by uint8 `alpha`, in row blocks."""
    out = np.empty_like(rgb)
    for top in range(0, rgb.shape[0], 1024):
        colour = rgb[top : top + 1024].astype(np.uint16)
        weight = alpha[top : top + 1024].astype(np.uint16)
        if colour.ndim == 3:
            weight = weight[:, :, None]
        out[top : top + 1024] = (colour * weight + 255 * (255 - weight) + 127) // 255
    return out
