"""The weights files the app can use: where they come from, how to check them, and their licences.

Plain frozen values only: reading the catalogue never touches the disk or the network.

Sizes and SHA-256 hashes are the published ones (the tests check them against
`tests/data/codeformer/SPEC.md`). Where no hash is published (`sha256 is None`), the hash of the
first copy that arrives (downloaded or imported) is recorded beside it in the weights folder
(`<filename>.sha256`, trust on first use) and later copies are checked against that record;
`WeightsFile.hash_note` says so in words the user can read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from core.net.config import COLORIZATION, INPAINTING, RESTORATION

Kind = Literal["codeformer", "detection", "parsing", "upsampler"]

CODEFORMER_RELEASE = "https://github.com/sczhou/CodeFormer/releases/download/v0.1.0/"
FACEXLIB_RELEASE = "https://github.com/xinntao/facexlib/releases/download/"
REALESRGAN_RELEASE = "https://github.com/xinntao/Real-ESRGAN/releases/download/"

S_LAB = "S-Lab License 1.0 (non-commercial use only)"
S_LAB_URL = "https://github.com/sczhou/CodeFormer/blob/master/LICENSE"
FACEXLIB_LICENCE = "MIT License (facexlib)"
FACEXLIB_LICENCE_URL = "https://github.com/xinntao/facexlib/blob/master/LICENSE"
REALESRGAN_LICENCE = "BSD 3-Clause License (Real-ESRGAN)"
REALESRGAN_LICENCE_URL = "https://github.com/xinntao/Real-ESRGAN/blob/master/LICENSE"


@dataclass(frozen=True, kw_only=True)
class WeightsFile:
    """One downloadable weights file.

    `size` (bytes) and `sha256` (lower-case hex) are None where they are not published.
    `sha256_partial` holds the (first, last) hex digits where only part of the hash is known:
    a first copy must match them before its full hash is recorded. `approx_size` is for display
    only, where the exact size is unknown. `variant` names the CodeFormer variant
    ("restoration", "colorization", "inpainting") of a `kind == "codeformer"` file, else None.
    """

    key: str
    filename: str
    url: str
    size: int | None
    sha256: str | None
    licence: str
    licence_url: str
    non_commercial: bool
    purpose: str
    kind: Kind
    variant: str | None = None
    sha256_partial: tuple[str, str] | None = None
    approx_size: int | None = None

    @property
    def size_text(self) -> str:
        """The size for people: "376.6 MB", "about 1.7 MB" or "size not published"."""
        if self.size is not None:
            return format_size(self.size)
        if self.approx_size is not None:
            return "about " + format_size(self.approx_size)
        return "size not published"

    @property
    def hash_note(self) -> str | None:
        """What the user should be told about checking this file, or None if a hash is published."""
        if self.sha256 is not None:
            return None
        return (
            f"No full SHA-256 is published for {self.filename}: the hash of the first copy "
            f"downloaded or imported is recorded in the weights folder as "
            f"{self.filename}.sha256, and later copies are checked against it."
        )


def format_size(size: int) -> str:
    """Bytes as decimal megabytes (or kilobytes below 1 MB), one decimal: "376.6 MB"."""
    if size >= 1_000_000:
        return f"{size / 1_000_000:.1f} MB"
    return f"{size / 1_000:.1f} kB"


def _codeformer(key: str, variant: str, filename: str, size: int, sha256: str) -> WeightsFile:
    return WeightsFile(
        key=key,
        filename=filename,
        url=CODEFORMER_RELEASE + filename,
        size=size,
        sha256=sha256,
        licence=S_LAB,
        licence_url=S_LAB_URL,
        non_commercial=True,
        purpose=f"CodeFormer face {variant} network",
        kind="codeformer",
        variant=variant,
    )


CATALOGUE: tuple[WeightsFile, ...] = (
    _codeformer(
        "codeformer",
        RESTORATION.name,
        RESTORATION.checkpoint_file,
        376_637_898,
        "1009e537e0c2a07d4cabce6355f53cb66767cd4b4297ec7a4a64ca4b8a5684b7",
    ),
    _codeformer(
        "codeformer-colorization",
        COLORIZATION.name,
        COLORIZATION.checkpoint_file,
        372_359_475,
        "4f041f194fe17cc128d7c76526fe45689079ce5f5811e1441ccfd3d5aec4693d",
    ),
    _codeformer(
        "codeformer-inpainting",
        INPAINTING.name,
        INPAINTING.checkpoint_file,
        370_786_611,
        "b0d1b868c3dacf75d637bbcc0d4b3dd4ce2a064a338dfb4d35c740d3b4ae8797",
    ),
    WeightsFile(
        key="detection-resnet50",
        filename="detection_Resnet50_Final.pth",
        url=FACEXLIB_RELEASE + "v0.1.0/detection_Resnet50_Final.pth",
        size=109_497_761,
        sha256="6d1de9c2944f2ccddca5f5e010ea5ae64a39845a86311af6fdf30841b0a5a16d",
        licence=FACEXLIB_LICENCE,
        licence_url=FACEXLIB_LICENCE_URL,
        non_commercial=False,
        purpose="RetinaFace ResNet-50 face detector (default)",
        kind="detection",
    ),
    WeightsFile(
        key="detection-mobilenet",
        filename="detection_mobilenet0.25_Final.pth",
        url=FACEXLIB_RELEASE + "v0.1.0/detection_mobilenet0.25_Final.pth",
        size=None,
        sha256=None,
        approx_size=1_700_000,
        licence=FACEXLIB_LICENCE,
        licence_url=FACEXLIB_LICENCE_URL,
        non_commercial=False,
        purpose="RetinaFace mobilenet 0.25 face detector (light option)",
        kind="detection",
    ),
    WeightsFile(
        key="parsing-parsenet",
        filename="parsing_parsenet.pth",
        url=FACEXLIB_RELEASE + "v0.2.2/parsing_parsenet.pth",
        size=85_331_193,
        sha256="3d558d8d0e42c20224f13cf5a29c79eba2d59913419f945545d8cf7b72920de2",
        licence=FACEXLIB_LICENCE,
        licence_url=FACEXLIB_LICENCE_URL,
        non_commercial=False,
        purpose="ParseNet face parsing (paste-back mask)",
        kind="parsing",
    ),
    WeightsFile(
        key="realesrgan-x2",
        filename="RealESRGAN_x2plus.pth",
        url=REALESRGAN_RELEASE + "v0.2.1/RealESRGAN_x2plus.pth",
        size=67_061_725,
        sha256=None,
        sha256_partial=("49fafd45", "6abb"),
        licence=REALESRGAN_LICENCE,
        licence_url=REALESRGAN_LICENCE_URL,
        non_commercial=False,
        purpose="Real-ESRGAN x2 background upsampler",
        kind="upsampler",
    ),
    WeightsFile(
        key="realesrgan-x4",
        filename="RealESRGAN_x4plus.pth",
        url=REALESRGAN_RELEASE + "v0.1.0/RealESRGAN_x4plus.pth",
        size=None,
        sha256=None,
        approx_size=67_000_000,
        licence=REALESRGAN_LICENCE,
        licence_url=REALESRGAN_LICENCE_URL,
        non_commercial=False,
        purpose="Real-ESRGAN x4 background upsampler",
        kind="upsampler",
    ),
)


def weights_file(key: str, catalogue: Iterable[WeightsFile] | None = None) -> WeightsFile:
    """The catalogue entry called `key` (e.g. "codeformer"). Raises ValueError naming the keys.

    `catalogue` replaces the official one (tests use entries of synthetic files).
    """
    entries = tuple(CATALOGUE if catalogue is None else catalogue)
    for entry in entries:
        if entry.key == key:
            return entry
    known = ", ".join(e.key for e in entries)
    raise ValueError(f"unknown weights file {key!r}; known: {known}")


def codeformer_file(
    variant_name: str, catalogue: Iterable[WeightsFile] | None = None
) -> WeightsFile:
    """The CodeFormer checkpoint of a variant ("restoration", "colorization", "inpainting")."""
    entries = tuple(CATALOGUE if catalogue is None else catalogue)
    for entry in entries:
        if entry.kind == "codeformer" and entry.variant == variant_name:
            return entry
    known = ", ".join(e.variant for e in entries if e.variant)
    raise ValueError(f"unknown CodeFormer variant {variant_name!r}; known: {known}")


def files_of_kind(kind: Kind) -> tuple[WeightsFile, ...]:
    """The catalogue entries of one kind, in catalogue order."""
    return tuple(e for e in CATALOGUE if e.kind == kind)


__all__ = [
    "CATALOGUE",
    "Kind",
    "WeightsFile",
    "codeformer_file",
    "files_of_kind",
    "format_size",
    "weights_file",
]
