"""EXIF kept as raw bytes, so that an export carries every tag the camera wrote.

The canonical form is the one JPEG stores in its APP1 segment: `b"Exif\\0\\0"` followed by a TIFF
structure (byte order, IFD0, its sub-IFDs). Pillow's JPEG, PNG, WebP and TIFF writers all accept it.
The orientation is reset by changing the two bytes of its value in place, so nothing else moves
(maker notes hold absolute offsets and break when EXIF is re-serialised).
"""

from __future__ import annotations

import logging
import struct
from typing import Any

from PIL import Image

log = logging.getLogger(__name__)

EXIF_HEADER = b"Exif\x00\x00"
ORIENTATION = 0x0112
EXIF_IFD = 0x8769
GPS_IFD = 0x8825
INTEROP_IFD = 0xA005

# IFD0 tags that describe the photo rather than the file's layout: these may travel between
# formats. Layout tags (size, strips, compression, bits per sample...) never do.
DESCRIPTIVE_TAGS = (
    0x010E,  # ImageDescription
    0x010F,  # Make
    0x0110,  # Model
    ORIENTATION,
    0x0131,  # Software
    0x0132,  # DateTime
    0x013B,  # Artist
    0x8298,  # Copyright
)
_SHORT = 3
_TIFF_HEADS = (b"II*\x00", b"MM\x00*")


def normalized_exif(raw: bytes | None) -> bytes | None:
    """`raw` with the `Exif\\0\\0` header (added if missing), or None if it is not EXIF at all."""
    if not raw:
        return None
    body = raw[len(EXIF_HEADER) :] if raw.startswith(EXIF_HEADER) else raw
    if body[:4] not in _TIFF_HEADS:
        return None
    return EXIF_HEADER + body


def with_orientation_reset(exif: bytes) -> bytes:
    """`exif` (canonical form) with IFD0's Orientation set to 1; every other byte unchanged.

    Without an Orientation tag the bytes come back as they are. If the structure cannot be walked
    (damaged EXIF), Pillow re-serialises it with Orientation 1 instead.
    """
    patched = bytearray(exif)
    try:
        order = "<" if patched[6:8] == b"II" else ">"
        (ifd0,) = struct.unpack_from(order + "I", patched, 10)
        position = len(EXIF_HEADER) + ifd0
        (count,) = struct.unpack_from(order + "H", patched, position)
        for index in range(count):
            entry = position + 2 + 12 * index
            tag, kind, n = struct.unpack_from(order + "HHI", patched, entry)
            if tag == ORIENTATION:
                if kind != _SHORT or n != 1:
                    raise ValueError("Orientation is not a single SHORT")
                struct.pack_into(order + "H", patched, entry + 8, 1)
                return bytes(patched)
        return exif
    except (struct.error, ValueError) as error:
        log.debug("EXIF not walkable (%s); re-serialising it with Pillow", error)
        parsed = Image.Exif()
        parsed.load(exif)
        if ORIENTATION in parsed:
            parsed[ORIENTATION] = 1
        return parsed.tobytes()


def exif_from_tags(tags: Image.Exif) -> bytes | None:
    """Canonical EXIF bytes for a TIFF's own tags: its descriptive IFD0 tags, the EXIF and GPS IFDs.

    A TIFF has no EXIF block: its EXIF is its IFD0, mixed with the tags that lay out the pixels.
    Only the tags that describe the photo are kept (Orientation reset to 1). None if none are left.
    """
    kept = tiff_exif_tags_from(tags)
    if not kept:
        return None
    out = Image.Exif()
    for tag, value in kept.items():
        out[tag] = value
    return out.tobytes()


def tiff_exif_tags(exif: bytes) -> dict[int, Any]:
    """The tags of canonical EXIF bytes that a TIFF's IFD0 may carry (sub-IFDs as dicts).

    Orientation is reset to 1. Damaged EXIF gives an empty dict (logged), not an error: metadata
    must never stop an export.
    """
    parsed = Image.Exif()
    try:
        parsed.load(exif)
        return tiff_exif_tags_from(parsed)
    except (struct.error, ValueError, KeyError, TypeError, SyntaxError, OSError) as error:
        log.warning("EXIF data could not be parsed for TIFF; written without it (%s)", error)
        return {}


def tiff_exif_tags_from(parsed: Image.Exif) -> dict[int, Any]:
    """See `tiff_exif_tags`; from an `Image.Exif` (a file's own tags or loaded EXIF bytes)."""
    kept: dict[int, Any] = {}
    for tag in DESCRIPTIVE_TAGS:
        if tag in parsed:
            kept[tag] = parsed[tag]
    if ORIENTATION in kept:
        kept[ORIENTATION] = 1
    for ifd_tag in (EXIF_IFD, GPS_IFD):
        if ifd_tag not in parsed:
            continue
        # nested IFDs (Interop) would be written as dangling offsets: drop them
        sub = {
            tag: value
            for tag, value in parsed.get_ifd(ifd_tag).items()
            if tag != INTEROP_IFD and not isinstance(value, dict)
        }
        if sub:
            kept[ifd_tag] = sub
    return kept
