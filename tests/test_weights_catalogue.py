"""The catalogue against SPEC.md: addresses, sizes, hashes and licences."""

from __future__ import annotations

import re

import pytest

from core.net.config import VARIANTS
from core.weights import CATALOGUE, codeformer_file, files_of_kind, weights_file
from tests.conftest import SPEC_DIR

SPEC = (SPEC_DIR / "SPEC.md").read_text(encoding="utf-8")


def spec_row(filename: str) -> list[str]:
    """The cells of SPEC's table row that starts with `filename`."""
    for line in SPEC.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0].split(" ")[0] == filename:
            return cells
    raise AssertionError(f"{filename} not in SPEC.md")


def spec_bytes(cell: str) -> int:
    return int(cell.replace(",", ""))


def spec_sha(cell: str) -> str:
    match = re.match(r"[0-9a-f]{64}", cell)
    assert match, cell
    return match.group(0)


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_codeformer_files_match_spec(variant) -> None:
    entry = codeformer_file(variant.name)
    row = spec_row(variant.checkpoint_file)
    assert entry.filename == variant.checkpoint_file
    assert entry.size == spec_bytes(row[1])
    assert entry.sha256 == spec_sha(row[2])
    assert entry.url == (
        f"https://github.com/sczhou/CodeFormer/releases/download/v0.1.0/{variant.checkpoint_file}"
    )
    assert entry.non_commercial
    assert "S-Lab License 1.0" in entry.licence
    assert "non-commercial" in entry.licence


@pytest.mark.parametrize(
    ("key", "tag"),
    [("detection-resnet50", "v0.1.0"), ("parsing-parsenet", "v0.2.2")],
)
def test_helper_files_with_published_hashes_match_spec(key: str, tag: str) -> None:
    entry = weights_file(key)
    row = spec_row(entry.filename)
    assert entry.size == spec_bytes(row[1])
    assert entry.sha256 == spec_sha(row[2])
    assert (
        entry.url == f"https://github.com/xinntao/facexlib/releases/download/{tag}/{entry.filename}"
    )


def test_files_without_published_hashes() -> None:
    mobile = weights_file("detection-mobilenet")
    assert "not published" in spec_row(mobile.filename)[2]
    assert (mobile.size, mobile.sha256) == (None, None)
    assert mobile.url.endswith(
        "/facexlib/releases/download/v0.1.0/detection_mobilenet0.25_Final.pth"
    )

    x2 = weights_file("realesrgan-x2")
    row = spec_row(x2.filename)
    assert x2.size == spec_bytes(row[1])
    assert x2.sha256 is None
    assert x2.sha256_partial == tuple(re.findall(r"starts (\w+), ends (\w+)", row[2])[0])
    assert (
        x2.url
        == "https://github.com/xinntao/Real-ESRGAN/releases/download/v0.2.1/RealESRGAN_x2plus.pth"
    )

    x4 = weights_file("realesrgan-x4")
    assert (x4.size, x4.sha256) == (None, None)
    assert (
        x4.url
        == "https://github.com/xinntao/Real-ESRGAN/releases/download/v0.1.0/RealESRGAN_x4plus.pth"
    )


def test_hash_note_exactly_where_no_hash_is_published() -> None:
    for entry in CATALOGUE:
        note = entry.hash_note
        assert (note is None) == (entry.sha256 is not None), entry.key
        if note:
            assert f"{entry.filename}.sha256" in note


def test_only_codeformer_is_non_commercial_and_keys_are_unique() -> None:
    assert {e.key for e in CATALOGUE if e.non_commercial} == {
        "codeformer",
        "codeformer-colorization",
        "codeformer-inpainting",
    }
    assert len({e.key for e in CATALOGUE}) == len(CATALOGUE)
    assert len({e.filename for e in CATALOGUE}) == len(CATALOGUE)
    assert all(e.url.startswith("https://github.com/") for e in CATALOGUE)
    assert [e.key for e in files_of_kind("upsampler")] == ["realesrgan-x2", "realesrgan-x4"]


def test_sizes_for_people() -> None:
    assert codeformer_file("restoration").size_text == "376.6 MB"
    assert weights_file("detection-mobilenet").size_text == "about 1.7 MB"


def test_unknown_names_list_the_known_ones() -> None:
    with pytest.raises(ValueError, match="known: codeformer, codeformer-colorization"):
        weights_file("codeformer-x")
    with pytest.raises(ValueError, match="restoration, colorization, inpainting"):
        codeformer_file("sketch")
