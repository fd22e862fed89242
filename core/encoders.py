"""The encoders Pillow lacks: TIFF (8/16-bit, with ICC and EXIF sub-IFDs) and 16-bit colour PNG.

Pillow holds no 16-bit colour image, and its libtiff writer fails on EXIF sub-IFDs. So:
- TIFF is written here: little-endian, chunky samples, Deflate-compressed strips with horizontal
  differencing (lossless), IFD0 serialised by Pillow's `ImageFileDirectory_v2`.
- 16-bit PNG pixels are encoded by OpenCV (libpng); the iCCP, eXIf and pHYs chunks are inserted
  after IHDR here.
"""

from __future__ import annotations

import struct
import zlib
from typing import Any, BinaryIO

import cv2
import numpy as np
from PIL import TiffImagePlugin

from core.exif_bytes import EXIF_HEADER

_STRIP_BYTES = 1 << 18  # about 256 KiB of samples per strip
_DEFLATE_LEVEL = 6
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_HEAD = len(_PNG_SIGNATURE) + 4 + 4 + 13 + 4  # signature and the IHDR chunk


def write_tiff(
    fp: BinaryIO,
    samples: np.ndarray,
    *,
    colour: bool,
    has_alpha: bool,
    icc_profile: bytes | None,
    exif_tags: dict[int, Any],
    dpi: tuple[float, float] | None,
) -> None:
    """Write one TIFF image to the seekable binary file `fp`.

    `samples`: H x W x S, uint8 or uint16, S = 1 (grey), 2 (grey, alpha), 3 (RGB) or 4 (RGB, alpha).
    16-bit grey+alpha is written as RGBA with equal channels (Pillow cannot open the former).
    `exif_tags`: IFD0 tags to add (see `core.exif_bytes.tiff_exif_tags`); the EXIF and GPS IFDs
    are given as dicts and written as sub-IFDs.
    """
    if samples.dtype == np.uint16 and samples.shape[2] == 2:
        # Pillow cannot open 16-bit grey+alpha TIFF: write RGBA with equal channels instead
        grey, alpha = samples[..., :1], samples[..., 1:]
        samples = np.concatenate([grey, grey, grey, alpha], axis=2)
        colour = True
    height, width, spp = samples.shape
    bits = samples.dtype.itemsize * 8
    rows_per_strip = max(1, _STRIP_BYTES // (width * spp * samples.dtype.itemsize))
    strips = (height + rows_per_strip - 1) // rows_per_strip

    ifd = TiffImagePlugin.ImageFileDirectory_v2(prefix=b"II")
    for tag, value in exif_tags.items():
        ifd[tag] = value
    ifd[256] = width
    ifd[257] = height
    ifd[258] = (bits,) * spp
    ifd[259] = 8  # Adobe Deflate
    ifd[262] = 2 if colour else 1  # RGB or BlackIsZero
    ifd[273] = (0,) * strips  # StripOffsets: relative to the end of the IFD, Pillow adds it
    ifd[277] = spp
    ifd[278] = rows_per_strip
    ifd[279] = (0,) * strips  # StripByteCounts
    ifd[284] = 1  # chunky
    ifd[317] = 2  # horizontal differencing
    ifd[339] = (1,) * spp  # unsigned integers
    if has_alpha:
        ifd[338] = (2,)  # unassociated alpha
    if icc_profile:
        ifd[34675] = icc_profile
    if dpi:
        ifd[282] = float(dpi[0])
        ifd[283] = float(dpi[1])
        ifd[296] = 2  # inch

    # The IFD's size does not depend on the strip values: reserve it, write the strips after it,
    # then write the IFD with the real offsets and counts.
    start = fp.tell()
    ifd_size = len(ifd.tobytes(start + 8))
    fp.write(b"II*\x00" + struct.pack("<I", start + 8))
    fp.seek(start + 8 + ifd_size)
    offsets: list[int] = []
    counts: list[int] = []
    position = 0
    for top in range(0, height, rows_per_strip):
        block = samples[top : top + rows_per_strip]
        differences = block.astype(block.dtype.newbyteorder("<"), copy=True)
        differences[:, 1:] -= block[:, :-1]  # wraps modulo 2**bits, as the predictor expects
        data = zlib.compress(differences.tobytes(), _DEFLATE_LEVEL)
        fp.write(data)
        offsets.append(position)
        counts.append(len(data))
        position += len(data)
    end = fp.tell()
    ifd[273] = tuple(offsets)
    ifd[279] = tuple(counts)
    packed = ifd.tobytes(start + 8)
    if len(packed) != ifd_size:  # pragma: no cover - would be a Pillow change
        raise RuntimeError("TIFF directory changed size between passes")
    fp.seek(start + 8)
    fp.write(packed)
    fp.seek(end)


def write_png16(
    fp: BinaryIO,
    samples: np.ndarray,
    *,
    icc_profile: bytes | None,
    exif: bytes | None,
    dpi: tuple[float, float] | None,
    software: str | None = None,
) -> None:
    """Write a 16-bit PNG to `fp`. `software` goes into a "Software" text chunk.

    `samples`: H x W x S uint16, S = 1 (grey), 2 (grey, alpha), 3 (RGB) or 4 (RGBA), RGB order.
    `exif`: canonical EXIF bytes (with or without the `Exif\\0\\0` header).
    """
    spp = samples.shape[2]
    if spp == 1:
        bgr = samples[..., 0]
    elif spp == 2:  # libpng through OpenCV has no grey+alpha: write RGBA with equal channels
        grey, alpha = samples[..., 0], samples[..., 1]
        bgr = np.dstack([grey, grey, grey, alpha])
    elif spp == 3:
        bgr = samples[..., ::-1]
    else:
        bgr = samples[..., [2, 1, 0, 3]]
    ok, encoded = cv2.imencode(".png", np.ascontiguousarray(bgr), [cv2.IMWRITE_PNG_COMPRESSION, 6])
    if not ok:
        raise OSError("the PNG encoder failed")
    data = encoded.reshape(-1).data
    if bytes(data[:8]) != _PNG_SIGNATURE or bytes(data[12:16]) != b"IHDR":
        raise OSError("the PNG encoder wrote an unexpected header")
    fp.write(data[:_PNG_HEAD])
    if icc_profile:
        fp.write(_png_chunk(b"iCCP", b"ICC Profile\x00\x00" + zlib.compress(icc_profile)))
    if exif:
        body = exif[len(EXIF_HEADER) :] if exif.startswith(EXIF_HEADER) else exif
        fp.write(_png_chunk(b"eXIf", body))
    if dpi:
        per_metre = [round(d / 0.0254) for d in dpi]
        fp.write(_png_chunk(b"pHYs", struct.pack(">IIB", per_metre[0], per_metre[1], 1)))
    if software:
        fp.write(_png_chunk(b"tEXt", b"Software\x00" + software.encode("latin-1", "replace")))
    fp.write(data[_PNG_HEAD:])


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)
