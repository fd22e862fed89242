"""Reading and writing photos: every format, depth, mode, orientation and metadata survives.

Test images are made here with Pillow (and OpenCV for 16-bit colour, which Pillow cannot write);
expected pixels are computed independently of `core.photo_io`.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import tracemalloc
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageCms, ImageFile, ImageOps

from core import encoders, photo_io
from core.errors import ImageReadError, ImageWriteError
from core.photo import Photo
from core.photo_io import (
    is_image_path,
    iter_photos,
    next_free_path,
    output_path,
    read_photo,
    supported_extensions,
    write_photo,
)
from tests.conftest import TESTDATA

SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
GS_CMYK = Path("/usr/share/color/icc/ghostscript/default_cmyk.icc")


def colour_image(height: int = 48, width: int = 64, dtype: type = np.uint8) -> np.ndarray:
    """H x W x 3 smooth, asymmetric RGB (red grows to the right, green downwards)."""
    top = 255 if dtype == np.uint8 else 65535
    y, x = np.mgrid[0:height, 0:width]
    red = x * top // max(1, width - 1)
    green = y * top // max(1, height - 1)
    blue = (x + 2 * y) * top // (width + 2 * height)
    return np.dstack([red, green, blue]).astype(dtype)


def block_image() -> np.ndarray:
    """24 x 40 RGB of 3 x 5 flat 8 x 8 blocks, each a different colour (JPEG keeps them)."""
    colours = np.array(
        [[(40 * c + 20, 80 * r + 20, 255 - 40 * c - 30 * r) for c in range(5)] for r in range(3)],
        dtype=np.uint8,
    )
    return np.repeat(np.repeat(colours, 8, axis=0), 8, axis=1)


def exif_bytes(orientation: int | None = None, *, sub_ifds: bool = False) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "TestCam"  # Make
    if orientation is not None:
        exif[0x0112] = orientation
    if sub_ifds:
        exif[0x8769] = {0x9003: "1950:06:01 12:00:00"}  # DateTimeOriginal
        exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0)}  # GPS latitude
    return exif.tobytes()


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pillow_exif(path: Path) -> tuple[dict, dict, dict]:
    """IFD0, EXIF IFD and GPS IFD of a file, as Pillow reads them."""
    with Image.open(path) as image:
        exif = image.getexif()
        return dict(exif), exif.get_ifd(0x8769), exif.get_ifd(0x8825)


# ---------------------------------------------------------------------------------------------
# reading formats, depths and modes


@pytest.mark.parametrize(
    ("suffix", "options", "tolerance", "name"),
    [
        (".png", {}, 0, "PNG"),
        (".tif", {}, 0, "TIFF"),
        (".bmp", {}, 0, "BMP"),
        (".webp", {"lossless": True}, 0, "WEBP"),
        (".jpg", {"quality": 95, "subsampling": 0}, 6, "JPEG"),
    ],
)
def test_read_each_format(suffix: str, options: dict, tolerance: int, name: str, tmp_path: Path):
    expected = colour_image()
    path = tmp_path / f"photo{suffix}"
    Image.fromarray(expected).save(path, **options)

    photo = read_photo(path)

    assert photo.pixels.shape == (48, 64, 3)
    assert photo.pixels.dtype == np.uint8
    assert photo.format == name
    assert photo.alpha is None
    assert not photo.is_grey
    assert photo.source == path.resolve()
    difference = np.abs(photo.pixels.astype(int) - expected.astype(int)).max()
    assert difference <= tolerance


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_16bit_colour_keeps_uint16(suffix: str, tmp_path: Path):
    rgb = colour_image(dtype=np.uint16)
    rgb[0, 0] = (1, 2, 65534)  # values that 8 bits cannot hold
    path = tmp_path / f"deep{suffix}"
    cv2.imwrite(str(path), rgb[..., ::-1])  # OpenCV writes BGR

    photo = read_photo(path)

    assert photo.pixels.dtype == np.uint16
    np.testing.assert_array_equal(photo.pixels, rgb)
    assert photo.bit_depth == 16
    with Image.open(path) as image:  # Pillow decodes the high bytes: an independent check
        np.testing.assert_array_equal(np.asarray(image.convert("RGB")), rgb >> 8)
    assert not photo.is_grey


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_16bit_rgba_keeps_uint16_alpha(suffix: str, tmp_path: Path):
    rgb = colour_image(dtype=np.uint16)
    alpha = np.linspace(0, 65535, 48 * 64).reshape(48, 64).astype(np.uint16)
    path = tmp_path / f"deep_alpha{suffix}"
    cv2.imwrite(str(path), np.dstack([rgb[..., ::-1], alpha]))

    photo = read_photo(path)

    np.testing.assert_array_equal(photo.pixels, rgb)
    assert photo.alpha is not None and photo.alpha.dtype == np.uint16
    np.testing.assert_array_equal(photo.alpha, alpha)


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_16bit_grey_keeps_uint16(suffix: str, tmp_path: Path):
    grey = (np.arange(48 * 64, dtype=np.uint32).reshape(48, 64) * 21 + 3).astype(np.uint16)
    path = tmp_path / f"grey16{suffix}"
    Image.fromarray(grey).save(path)  # Pillow mode I;16

    photo = read_photo(path)

    assert photo.is_grey
    assert photo.pixels.dtype == np.uint16
    for channel in range(3):
        np.testing.assert_array_equal(photo.pixels[..., channel], grey)


def raw_png16(path: Path, samples: np.ndarray) -> None:
    """A 16-bit PNG written byte by byte from H x W x S samples (S = 1 grey, 2 grey+alpha,
    3 RGB, 4 RGBA), so that no decoder under test also wrote it."""
    height, width, channels = samples.shape
    colour_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    big_endian = samples.astype(">u2")
    rows = b"".join(b"\x00" + big_endian[y].tobytes() for y in range(height))

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_16bit_png_written_byte_by_byte(channels: int, tmp_path: Path):
    rgb = colour_image(dtype=np.uint16)
    rgb[0, 0] = (1, 258, 65534)  # low bytes matter; high and low bytes differ
    alpha = (65535 - rgb[..., 1] // 3).astype(np.uint16)
    planes = {1: [rgb[..., 1:2]], 2: [rgb[..., 1:2], alpha], 3: [rgb], 4: [rgb, alpha]}[channels]
    path = tmp_path / f"raw{channels}.png"
    raw_png16(path, np.dstack(planes))

    photo = read_photo(path)

    assert photo.pixels.dtype == np.uint16
    assert photo.is_grey == (channels <= 2)
    expected = rgb if channels >= 3 else np.dstack([rgb[..., 1]] * 3)
    np.testing.assert_array_equal(photo.pixels, expected)
    if channels in (2, 4):
        np.testing.assert_array_equal(photo.alpha, alpha)
    else:
        assert photo.alpha is None


def test_grey_jpeg_is_grey_rgb(tmp_path: Path):
    grey = colour_image()[..., 0]
    path = tmp_path / "grey.jpg"
    Image.fromarray(grey).save(path, quality=95)

    photo = read_photo(path)

    assert photo.is_grey
    assert photo.pixels.shape == (48, 64, 3)
    assert np.array_equal(photo.pixels[..., 0], photo.pixels[..., 1])
    assert np.abs(photo.pixels[..., 0].astype(int) - grey).max() <= 4


def test_grey_with_alpha(tmp_path: Path):
    grey = colour_image()[..., 1]
    alpha = colour_image()[..., 0]
    path = tmp_path / "grey_alpha.png"
    Image.fromarray(np.dstack([grey, alpha])).save(path)

    photo = read_photo(path)

    assert photo.is_grey
    np.testing.assert_array_equal(photo.pixels[..., 2], grey)
    assert photo.alpha is not None
    np.testing.assert_array_equal(photo.alpha, alpha)


def test_rgb_with_equal_channels_counts_as_grey_and_a_tint_does_not(tmp_path: Path):
    grey = colour_image()[..., 0]
    Image.fromarray(np.dstack([grey] * 3)).save(tmp_path / "grey_rgb.jpg", quality=90)
    sepia = np.dstack([np.clip(grey.astype(int) + 25, 0, 255), grey, grey]).astype(np.uint8)
    Image.fromarray(sepia).save(tmp_path / "sepia.png")

    assert read_photo(tmp_path / "grey_rgb.jpg").is_grey
    assert not read_photo(tmp_path / "sepia.png").is_grey


def test_rgba_alpha_kept(tmp_path: Path):
    rgb = colour_image()
    alpha = np.tile(np.linspace(0, 255, 64).astype(np.uint8), (48, 1))
    path = tmp_path / "rgba.png"
    Image.fromarray(np.dstack([rgb, alpha])).save(path)

    photo = read_photo(path)

    np.testing.assert_array_equal(photo.pixels, rgb)
    assert photo.alpha is not None and photo.alpha.dtype == np.uint8
    np.testing.assert_array_equal(photo.alpha, alpha)


def test_palette_with_transparency(tmp_path: Path):
    indices = np.zeros((20, 30), np.uint8)
    indices[:, 10:20] = 1
    indices[:, 20:] = 2
    image = Image.fromarray(indices)
    image = image.convert("P")
    image.putpalette([0, 0, 0, 255, 0, 0, 0, 0, 255] + [0] * (3 * 253))
    path = tmp_path / "palette.png"
    image.save(path, transparency=0)

    photo = read_photo(path)

    assert photo.alpha is not None
    assert (photo.alpha[:, :10] == 0).all() and (photo.alpha[:, 10:] == 255).all()
    assert (photo.pixels[:, 10:20] == (255, 0, 0)).all()
    assert (photo.pixels[:, 20:] == (0, 0, 255)).all()


def _cmyk_jpeg(path: Path, icc: bytes | None = None) -> None:
    y, x = np.mgrid[0:48, 0:64]
    cmyk = np.dstack([x * 4, y * 5, (x + y) * 2, np.full_like(x, 30)]).astype(np.uint8)
    image = Image.frombytes("CMYK", (64, 48), cmyk.tobytes())
    image.save(path, quality=95, **({"icc_profile": icc} if icc else {}))


def test_cmyk_jpeg_without_profile(tmp_path: Path):
    path = tmp_path / "cmyk.jpg"
    _cmyk_jpeg(path)
    with Image.open(path) as image:
        assert image.mode == "CMYK"
        expected = np.asarray(image.convert("RGB"))

    photo = read_photo(path)

    np.testing.assert_array_equal(photo.pixels, expected)
    assert photo.icc_profile is None


@pytest.mark.skipif(not GS_CMYK.exists(), reason="needs a CMYK ICC profile (ghostscript's)")
def test_cmyk_jpeg_with_profile_goes_through_it(tmp_path: Path):
    path = tmp_path / "cmyk_icc.jpg"
    _cmyk_jpeg(path, GS_CMYK.read_bytes())
    with Image.open(path) as image:
        plain = np.asarray(image.convert("RGB")).astype(int)
        cmyk = ImageCms.ImageCmsProfile(str(GS_CMYK))
        srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
        managed = ImageCms.profileToProfile(image, cmyk, srgb, outputMode="RGB")
        assert managed is not None
        expected = np.asarray(managed)

    photo = read_photo(path)

    np.testing.assert_array_equal(photo.pixels, expected)
    assert np.abs(photo.pixels.astype(int) - plain).mean() > 5  # the profile made a difference
    assert photo.icc_profile is not None and photo.icc_profile[16:20] == b"RGB "


def test_shared_portraits(tmp_path: Path):
    for name, fmt in (("astronaut.png", "PNG"), ("grace_hopper.jpg", "JPEG")):
        photo = read_photo(TESTDATA / name)
        with Image.open(TESTDATA / name) as image:
            assert photo.pixels.shape == (image.height, image.width, 3)
        assert photo.pixels.dtype == np.uint8
        assert photo.format == fmt
        assert not photo.is_grey


def test_dpi_kept_and_scaled_with_the_width(tmp_path: Path):
    path = tmp_path / "scan.jpg"
    Image.fromarray(colour_image()).save(path, dpi=(300, 300))
    photo = read_photo(path)
    assert photo.dpi == (300.0, 300.0)

    doubled = np.repeat(np.repeat(photo.pixels, 2, axis=0), 2, axis=1)
    for suffix in (".jpg", ".png", ".tif"):
        out = write_photo(tmp_path / f"out{suffix}", doubled, like=photo)
        assert read_photo(out).dpi == pytest.approx((600.0, 600.0), abs=0.05)


# ---------------------------------------------------------------------------------------------
# orientation

# How each EXIF orientation is displayed (Pillow's ImageOps.exif_transpose table, in numpy).
DISPLAYED = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],  # mirrored left-right
    3: lambda a: np.rot90(a, 2),
    4: lambda a: a[::-1],  # mirrored top-bottom
    5: lambda a: a.transpose(1, 0, 2),
    6: lambda a: np.rot90(a, -1),  # camera turned clockwise: rotate 90 clockwise to show
    7: lambda a: np.rot90(a, 2).transpose(1, 0, 2),
    8: lambda a: np.rot90(a, 1),
}


def test_orientation_table_itself():
    stored = block_image()
    # orientation 6: the stored bottom-left corner is shown top-left, the picture is portrait
    shown = DISPLAYED[6](stored)
    assert shown.shape == (40, 24, 3)
    np.testing.assert_array_equal(shown[0, 0], stored[-1, 0])
    np.testing.assert_array_equal(shown[0, -1], stored[0, 0])
    # all eight are different pictures
    assert (
        len({DISPLAYED[o](stored).tobytes() + bytes(DISPLAYED[o](stored).shape) for o in DISPLAYED})
        == 8
    )


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize(
    ("suffix", "options", "tolerance"),
    [
        (".jpg", {"quality": 95, "subsampling": 0}, 8),
        (".png", {}, 0),
        (".webp", {"lossless": True}, 0),
        (".tif", {}, 0),
    ],
)
def test_every_orientation_gives_the_right_pixels(
    orientation: int, suffix: str, options: dict, tolerance: int, tmp_path: Path
):
    stored = block_image()
    path = tmp_path / f"o{orientation}{suffix}"
    Image.fromarray(stored).save(path, exif=exif_bytes(orientation), **options)

    photo = read_photo(path)

    expected = DISPLAYED[orientation](stored)
    assert photo.pixels.shape == expected.shape
    assert np.abs(photo.pixels.astype(int) - expected.astype(int)).max() <= tolerance
    with Image.open(path) as image:  # agrees with Pillow's own transpose
        pillow = np.asarray(ImageOps.exif_transpose(image).convert("RGB"))
    np.testing.assert_array_equal(photo.pixels, pillow)
    # the kept EXIF says 1 and still carries the other tags
    assert photo.exif is not None
    kept = Image.Exif()
    kept.load(photo.exif)
    assert kept[0x0112] == 1
    assert kept[0x010F] == "TestCam"


def test_orientation_reset_changes_only_the_orientation_bytes(tmp_path: Path):
    original = exif_bytes(8, sub_ifds=True)
    path = tmp_path / "o8.jpg"
    Image.fromarray(block_image()).save(path, exif=original)

    photo = read_photo(path)

    assert photo.exif is not None and len(photo.exif) == len(original)
    changed = [i for i, (a, b) in enumerate(zip(photo.exif, original, strict=True)) if a != b]
    assert len(changed) == 1


def test_orientation_and_alpha_rotate_together(tmp_path: Path):
    stored = block_image()
    alpha = np.zeros(stored.shape[:2], np.uint8)
    alpha[:8, :8] = 255  # only the top-left block is opaque
    path = tmp_path / "o6_alpha.png"
    Image.fromarray(np.dstack([stored, alpha])).save(path, exif=exif_bytes(6))

    photo = read_photo(path)

    assert photo.alpha is not None
    np.testing.assert_array_equal(photo.alpha, np.rot90(alpha, -1))
    assert photo.alpha[0, -1] == 255  # top-left went to top-right


def test_orientation_from_imagemagick_png_text_chunk(tmp_path: Path):
    from PIL import PngImagePlugin

    raw = exif_bytes(6)
    text = PngImagePlugin.PngInfo()
    text.add_text("Raw profile type exif", f"\nexif\n{len(raw):8d}\n{raw.hex()}\n")
    path = tmp_path / "magick.png"
    Image.fromarray(block_image()).save(path, pnginfo=text)

    photo = read_photo(path)

    np.testing.assert_array_equal(photo.pixels, np.rot90(block_image(), -1))
    assert photo.exif is not None
    kept = Image.Exif()
    kept.load(photo.exif)
    assert (kept[0x0112], kept[0x010F]) == (1, "TestCam")


def test_16bit_orientation_applied_once(tmp_path: Path):
    stored = colour_image(24, 40, np.uint16)
    path = tmp_path / "o6_16.png"
    with path.open("wb") as fp:
        encoders.write_png16(fp, stored, icc_profile=None, exif=exif_bytes(6), dpi=None)

    photo = read_photo(path)

    np.testing.assert_array_equal(photo.pixels, np.rot90(stored, -1))


# ---------------------------------------------------------------------------------------------
# writing


@pytest.mark.parametrize(
    ("suffix", "tolerance", "name"),
    [(".png", 0, "PNG"), (".tif", 0, "TIFF"), (".jpg", 4, "JPEG"), (".webp", 12, "WEBP")],
)
def test_write_then_read_round_trip(suffix: str, tolerance: int, name: str, tmp_path: Path):
    rgb = colour_image()

    written = write_photo(tmp_path / f"out{suffix}", rgb)

    assert written == tmp_path / f"out{suffix}"
    photo = read_photo(written)
    assert photo.format == name
    assert np.abs(photo.pixels.astype(int) - rgb.astype(int)).max() <= tolerance
    assert os.listdir(tmp_path) == [written.name]  # no temporary file left


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_write_16bit_keeps_16bit(suffix: str, tmp_path: Path):
    rgb = colour_image(dtype=np.uint16)
    rgb[1, 1] = (1, 65534, 257)
    alpha = np.linspace(0, 65535, 48 * 64).reshape(48, 64).astype(np.uint16)

    written = write_photo(tmp_path / f"deep{suffix}", rgb, alpha=alpha)

    photo = read_photo(written)
    np.testing.assert_array_equal(photo.pixels, rgb)
    assert photo.alpha is not None
    np.testing.assert_array_equal(photo.alpha, alpha)
    # other decoders agree: libpng / libtiff through OpenCV, and Pillow's high bytes
    bgra = cv2.imread(str(written), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(bgra[..., 2::-1], rgb)
    np.testing.assert_array_equal(bgra[..., 3], alpha)
    with Image.open(written) as image:
        high = np.asarray(image.convert("RGBA"))
    np.testing.assert_array_equal(high, np.dstack([rgb, alpha]) >> 8)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("with_alpha", [False, True])
def test_tiff_grey_and_grey_alpha(dtype: type, with_alpha: bool, tmp_path: Path):
    grey = colour_image(dtype=dtype)[..., 0]
    alpha = colour_image(dtype=dtype)[..., 1] if with_alpha else None

    written = write_photo(tmp_path / "grey.tif", grey, alpha=alpha)

    photo = read_photo(written)
    assert photo.is_grey
    assert photo.pixels.dtype == dtype
    np.testing.assert_array_equal(photo.pixels[..., 0], grey)
    if alpha is not None:
        np.testing.assert_array_equal(photo.alpha, alpha)
    else:
        assert photo.alpha is None
    # libtiff (through OpenCV) reads the same grey samples
    decoded = cv2.imread(str(written), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(decoded if decoded.ndim == 2 else decoded[..., 0], grey)


@pytest.mark.parametrize("suffix", [".png", ".webp", ".tif"])
def test_alpha_kept_on_write(suffix: str, tmp_path: Path):
    rgb = colour_image()
    alpha = np.zeros((48, 64), np.uint8)
    alpha[:, 32:] = 255
    alpha[:24, :16] = 128

    photo = read_photo(write_photo(tmp_path / f"a{suffix}", rgb, alpha=alpha, quality=90))

    assert photo.alpha is not None
    np.testing.assert_array_equal(photo.alpha, alpha)
    # colour is kept even where the photo is fully transparent
    tolerance = 12 if suffix == ".webp" else 0
    assert np.abs(photo.pixels.astype(int) - rgb.astype(int))[alpha == 0].max() <= tolerance


def test_jpeg_composites_alpha_onto_white(tmp_path: Path):
    rgb = np.zeros((32, 48, 3), np.uint8)
    rgb[...] = (200, 0, 0)
    alpha = np.zeros((32, 48), np.uint8)
    alpha[:, 16:32] = 128
    alpha[:, 32:] = 255

    photo = read_photo(write_photo(tmp_path / "flat.jpg", rgb, alpha=alpha, quality=100))

    assert photo.alpha is None
    means = [
        photo.pixels[:, a:b].reshape(-1, 3).mean(axis=0) for a, b in ((0, 16), (16, 32), (32, 48))
    ]
    np.testing.assert_allclose(means[0], (255, 255, 255), atol=2)  # transparent: white
    np.testing.assert_allclose(means[1], (227.5, 127, 127), atol=3)  # half: halfway
    np.testing.assert_allclose(means[2], (200, 0, 0), atol=3)  # opaque: itself


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp", ".tif"])
@pytest.mark.parametrize("depth", [8, 16])
def test_icc_and_exif_survive_a_write(suffix: str, depth: int, tmp_path: Path):
    source = tmp_path / "camera.jpg"
    Image.fromarray(block_image()).save(source, exif=exif_bytes(6, sub_ifds=True), icc_profile=SRGB)
    photo = read_photo(source)
    assert photo.icc_profile == SRGB
    pixels = photo.pixels if depth == 8 else photo.pixels.astype(np.uint16) * 257

    written = write_photo(tmp_path / f"export{suffix}", pixels, like=photo)

    with Image.open(written) as image:
        assert image.info.get("icc_profile") == SRGB
    ifd0, exif_ifd, gps = pillow_exif(written)
    assert ifd0[0x010F] == "TestCam"
    assert ifd0[0x0112] == 1  # the rotation is in the pixels now
    assert exif_ifd[0x9003] == "1950:06:01 12:00:00"
    assert gps[1] == "N"
    assert read_photo(written).pixels.shape == (40, 24, 3)  # shown as written, not rotated again


def test_grey_profile_is_not_put_on_colour_pixels(tmp_path: Path):
    grey_icc = SRGB[:16] + b"GRAY" + SRGB[20:]  # only the colour-space field matters here
    photo = Photo(pixels=colour_image(), icc_profile=grey_icc)

    colour = write_photo(tmp_path / "colour.png", colour_image(), like=photo)
    grey = write_photo(tmp_path / "grey.png", colour_image()[..., 0], like=photo)

    assert read_photo(colour).icc_profile is None
    assert read_photo(grey).icc_profile == grey_icc


def test_unknown_formats_are_refused(tmp_path: Path):
    with pytest.raises(ImageWriteError, match=r"out\.gif"):
        write_photo(tmp_path / "out.gif", colour_image())
    with pytest.raises(ImageWriteError, match="unknown format 'heic'"):
        write_photo(tmp_path / "out.png", colour_image(), format="heic")
    assert os.listdir(tmp_path) == []


def test_format_argument_wins_over_the_suffix(tmp_path: Path):
    written = write_photo(tmp_path / "photo.out", colour_image(), format="jpeg")
    assert read_photo(written).format == "JPEG"


def test_existing_file_is_not_overwritten_by_default(tmp_path: Path):
    target = write_photo(tmp_path / "out.png", colour_image())
    before = sha(target)

    with pytest.raises(ImageWriteError, match=r"out\.png.*already exists"):
        write_photo(target, np.zeros((8, 8, 3), np.uint8))

    assert sha(target) == before
    write_photo(target, np.zeros((8, 8, 3), np.uint8), overwrite=True)
    assert read_photo(target).pixels.shape == (8, 8, 3)
    assert os.listdir(tmp_path) == ["out.png"]


def test_the_original_is_never_written(tmp_path: Path):
    source = tmp_path / "original.jpg"
    Image.fromarray(colour_image()).save(source, quality=90)
    os.utime(source, (1_000_000_000, 1_000_000_000))
    before = (sha(source), source.stat().st_mtime_ns)
    photo = read_photo(source)
    (tmp_path / "sub").mkdir()
    os.link(source, tmp_path / "hard_link.jpg")

    for target in (source, tmp_path / "sub" / ".." / "original.jpg", tmp_path / "hard_link.jpg"):
        with pytest.raises(ImageWriteError, match="original"):
            write_photo(target, photo.pixels, like=photo, overwrite=True)

    assert (sha(source), source.stat().st_mtime_ns) == before
    assert sorted(os.listdir(tmp_path)) == ["hard_link.jpg", "original.jpg", "sub"]


def test_failed_write_leaves_no_temporary_file_and_the_old_file_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    target = write_photo(tmp_path / "keep.tif", colour_image())
    before = sha(target)

    def broken_tiff(fp, *args, **kwargs):
        fp.write(b"II*\x00 half a file")
        raise OSError("No space left on device")

    monkeypatch.setattr(photo_io, "write_tiff", broken_tiff)
    with pytest.raises(ImageWriteError, match=r"keep\.tif.*No space left"):
        write_photo(target, colour_image(), overwrite=True)
    with pytest.raises(ImageWriteError, match="No space left"):
        write_photo(tmp_path / "new.tif", colour_image())

    def broken_save(self, fp, *args, **kwargs):
        fp.write(b"\xff\xd8 half a file")
        raise OSError("disk unplugged")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(ImageWriteError, match="disk unplugged"):
        write_photo(tmp_path / "new.jpg", colour_image())

    assert os.listdir(tmp_path) == ["keep.tif"]
    assert sha(target) == before


def test_a_file_that_appears_during_the_write_is_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    target = tmp_path / "race.tif"
    real_write_tiff = photo_io.write_tiff

    def slow_write_tiff(fp, *args, **kwargs):
        target.write_bytes(b"written meanwhile by another program")
        real_write_tiff(fp, *args, **kwargs)

    monkeypatch.setattr(photo_io, "write_tiff", slow_write_tiff)
    with pytest.raises(ImageWriteError, match="already exists"):
        write_photo(target, colour_image())

    assert target.read_bytes() == b"written meanwhile by another program"
    assert os.listdir(tmp_path) == ["race.tif"]


def test_missing_folder_is_a_clear_error(tmp_path: Path):
    with pytest.raises(ImageWriteError, match="does not exist"):
        write_photo(tmp_path / "nowhere" / "out.png", colour_image())


def test_bad_pixels_are_programming_errors(tmp_path: Path):
    with pytest.raises(ValueError, match="uint8 or uint16"):
        write_photo(tmp_path / "f.png", colour_image().astype(np.float32))
    with pytest.raises(ValueError, match="H x W x 3"):
        write_photo(tmp_path / "f.png", np.zeros((4, 4, 5), np.uint8))
    with pytest.raises(ValueError, match="alpha"):
        write_photo(tmp_path / "f.png", colour_image(), alpha=np.zeros((3, 3), np.uint8))


# ---------------------------------------------------------------------------------------------
# paths with any characters


def test_non_ascii_paths(tmp_path: Path):
    folder = tmp_path / "Fotos für Oma"
    folder.mkdir()
    path = folder / "Großmutter 写真.jpg"
    Image.fromarray(colour_image()).save(path, quality=95)

    photo = read_photo(path)
    written = write_photo(folder / "Großmutter 写真_restored.png", photo.pixels, like=photo)

    assert photo.pixels.shape == (48, 64, 3)
    np.testing.assert_array_equal(read_photo(written).pixels, photo.pixels)
    assert list(iter_photos(folder)) == [path, written]


# ---------------------------------------------------------------------------------------------
# broken files


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp", ".tif", ".bmp", "16.png"])
def test_truncated_file_is_an_error_naming_it(suffix: str, tmp_path: Path):
    whole = io.BytesIO()
    if suffix == "16.png":
        ok, encoded = cv2.imencode(".png", colour_image(dtype=np.uint16))
        assert ok
        whole.write(encoded.tobytes())
    else:
        fmt = Image.registered_extensions()[suffix]
        Image.fromarray(colour_image(96, 128)).save(whole, fmt)
    path = tmp_path / f"cut off{suffix}"
    path.write_bytes(whole.getvalue()[: len(whole.getvalue()) * 6 // 10])

    with pytest.raises(ImageReadError) as caught:
        read_photo(path)

    assert str(path) in str(caught.value)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_not_an_image(tmp_path: Path):
    text = tmp_path / "notes.jpg"
    text.write_text("shopping list: milk, eggs\n")
    with pytest.raises(ImageReadError, match=r"notes\.jpg.*not a JPEG, PNG, WebP, TIFF or BMP"):
        read_photo(text)

    empty = tmp_path / "empty.png"
    empty.touch()
    with pytest.raises(ImageReadError, match=r"empty\.png.*empty"):
        read_photo(empty)

    with pytest.raises(ImageReadError, match=r"missing\.png.*does not exist"):
        read_photo(tmp_path / "missing.png")

    with pytest.raises(ImageReadError, match="folder"):
        read_photo(tmp_path)


def test_other_image_formats_are_refused_by_name(tmp_path: Path):
    path = tmp_path / "anim.gif"
    Image.fromarray(colour_image()).save(path)
    with pytest.raises(ImageReadError, match=r"anim\.gif"):
        read_photo(path)


def test_photo_above_the_pixel_limit(tmp_path: Path):
    path = tmp_path / "wide.png"
    Image.new("RGB", (100, 60)).save(path)
    with pytest.raises(ImageReadError, match=r"wide\.png.*100 x 60 pixels"):
        read_photo(path, max_pixels=5000)
    assert read_photo(path, max_pixels=6000).pixels.shape == (60, 100, 3)


@pytest.mark.large_photo
def test_12000_by_9000_photo_reads_without_float_copies(tmp_path: Path):
    path = tmp_path / "big.jpg"
    Image.new("RGB", (12000, 9000), (120, 130, 140)).save(path, quality=30)

    tracemalloc.start()
    try:
        photo = read_photo(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert photo.pixels.shape == (9000, 12000, 3)
    assert photo.pixels.dtype == np.uint8
    assert photo.pixels.flags.c_contiguous
    np.testing.assert_allclose(
        photo.pixels[::1000, ::1000].mean(axis=(0, 1)), (120, 130, 140), atol=2
    )
    # the decoded bytes and one copy; a float32 copy alone would be 4x the pixels
    assert peak < 3 * photo.pixels.nbytes


# ---------------------------------------------------------------------------------------------
# file names and folder scanning


def test_output_path():
    source = Path("/photos/2024/Oma.jpeg")
    assert output_path(source, "/out") == Path("/out/Oma_restored.png")
    assert output_path(source, None, "", "jpeg") == Path("/photos/2024/Oma.jpg")
    assert output_path(source, "/out", "-cf", "TIFF") == Path("/out/Oma-cf.tif")
    assert output_path(source, "/out", format="webp") == Path("/out/Oma_restored.webp")
    with pytest.raises(ImageWriteError, match="gif"):
        output_path(source, "/out", format="gif")


def test_next_free_path(tmp_path: Path):
    assert next_free_path(tmp_path / "a.png") == tmp_path / "a.png"
    (tmp_path / "a.png").touch()
    (tmp_path / "a (2).png").touch()
    assert next_free_path(tmp_path / "a.png") == tmp_path / "a (3).png"
    (tmp_path / "b (7).jpg").touch()
    assert next_free_path(tmp_path / "b (7).jpg") == tmp_path / "b (8).jpg"


def test_supported_extensions_and_is_image_path():
    extensions = supported_extensions()
    assert {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp"} <= set(extensions)
    assert list(extensions) == sorted(extensions)
    assert is_image_path("a/B.JPG") and is_image_path(Path("x.tiff"))
    assert not is_image_path("notes.txt") and not is_image_path("jpg")


def test_iter_photos_order_hidden_and_recursion(tmp_path: Path):
    for name in (
        "b.jpg",
        "a10.png",
        "a2.PNG",
        ".hidden.jpg",
        "notes.txt",
        "sub/c.tif",
        "sub/deeper/d.webp",
        "sub/.cache/e.jpg",
        ".trash/f.jpg",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).touch()

    flat = list(iter_photos(tmp_path))
    deep = list(iter_photos([tmp_path], recursive=True))

    assert flat == [tmp_path / n for n in ("a2.PNG", "a10.png", "b.jpg")]
    assert deep == [*flat, tmp_path / "sub" / "c.tif", tmp_path / "sub" / "deeper" / "d.webp"]
    # named files come first, in the order given, each once; named non-images are passed on
    mixed = list(iter_photos([tmp_path / "b.jpg", tmp_path / "notes.txt", tmp_path]))
    assert mixed == [
        tmp_path / "b.jpg",
        tmp_path / "notes.txt",
        tmp_path / "a2.PNG",
        tmp_path / "a10.png",
    ]
