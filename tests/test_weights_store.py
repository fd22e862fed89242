"""The weights folder: find, status, verify, require and import (copy or link), with no network."""

from __future__ import annotations

import hashlib
import os
import random
from dataclasses import replace
from pathlib import Path

import pytest

from core.errors import CheckpointError, WeightsMissingError
from core.weights import (
    WeightsFile,
    codeformer_file,
    find,
    import_file,
    recorded_sha256,
    require,
    status,
    verify,
)
from core.weights.hashing import Fingerprint
from core.weights.verification import mismatch

PAYLOAD = random.Random(11).randbytes(200_000)


def make_entry(payload: bytes | None = PAYLOAD, **changes: object) -> WeightsFile:
    entry = WeightsFile(
        key="test-file",
        filename="test_weights.bin",
        url="http://127.0.0.1:9/not-used",
        size=None if payload is None else len(payload),
        sha256=None if payload is None else hashlib.sha256(payload).hexdigest(),
        licence="test",
        licence_url="http://127.0.0.1:9/licence",
        non_commercial=False,
        purpose="synthetic test file",
        kind="detection",
    )
    return replace(entry, **changes)  # type: ignore[arg-type]


ENTRY = make_entry()


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_find_needs_the_file_with_the_right_size(tmp_path: Path) -> None:
    assert find(ENTRY, tmp_path) is None
    write(tmp_path / ENTRY.filename, PAYLOAD[:-1])
    assert find(ENTRY, tmp_path) is None
    write(tmp_path / ENTRY.filename, PAYLOAD)
    assert find(ENTRY, tmp_path) == tmp_path / ENTRY.filename


def test_require_says_what_is_missing_and_how_to_fetch_it(tmp_path: Path) -> None:
    entry = codeformer_file("restoration")
    with pytest.raises(WeightsMissingError) as error:
        require(entry, tmp_path)
    message = str(error.value)
    for part in (
        "codeformer.pth",
        "376.6 MB",
        str(tmp_path),
        "codeformer-studio weights download codeformer",
        "non-commercial",
        entry.url,
    ):
        assert part in message


def test_require_refuses_a_truncated_file(tmp_path: Path) -> None:
    write(tmp_path / ENTRY.filename, PAYLOAD[:1000])
    with pytest.raises(WeightsMissingError, match="1,000 bytes, expected 200,000"):
        require(ENTRY, tmp_path)
    write(tmp_path / ENTRY.filename, PAYLOAD)
    assert require(ENTRY, tmp_path) == tmp_path / ENTRY.filename


def test_status_reports_each_entry(tmp_path: Path) -> None:
    short = make_entry(key="short", filename="short.bin")
    bad = make_entry(key="bad", filename="bad.bin")
    absent = make_entry(key="absent", filename="absent.bin")
    write(tmp_path / ENTRY.filename, PAYLOAD)
    write(tmp_path / "short.bin", PAYLOAD[:10])
    write(tmp_path / "bad.bin", PAYLOAD[:-1] + b"!")
    entries = [ENTRY, short, bad, absent]

    cheap = status(tmp_path, entries)
    assert [s.entry.key for s in cheap] == ["test-file", "short", "bad", "absent"]
    assert [(s.present, s.size_ok, s.verified) for s in cheap] == [
        (True, True, None),
        (True, False, False),
        (True, True, None),
        (False, False, None),
    ]
    assert cheap[3].path is None
    deep = status(tmp_path, entries, check_hashes=True)
    assert [s.verified for s in deep] == [True, False, False, None]
    assert "SHA-256" in (deep[2].problem or "")


def test_status_of_the_real_catalogue_in_an_empty_folder(tmp_path: Path) -> None:
    result = status(tmp_path)
    assert result
    assert not any(s.present for s in result)


def test_verify_returns_the_fingerprint_or_names_the_file(tmp_path: Path) -> None:
    good = write(tmp_path / "good.bin", PAYLOAD)
    assert verify(good, ENTRY) == Fingerprint(
        size=len(PAYLOAD), sha256=hashlib.sha256(PAYLOAD).hexdigest()
    )
    bad = write(tmp_path / "bad.bin", PAYLOAD[:-1] + b"!")
    with pytest.raises(CheckpointError, match=r"bad\.bin does not verify as test_weights\.bin"):
        verify(bad, ENTRY)


def test_published_hash_fragments_are_checked() -> None:
    digest = hashlib.sha256(PAYLOAD).hexdigest()
    found = Fingerprint(size=len(PAYLOAD), sha256=digest)
    fitting = make_entry(None, sha256_partial=(digest[:8], digest[-4:]))
    other = make_entry(None, sha256_partial=("00000000", "0000"))
    assert mismatch(fitting, Path("/nonexistent"), found) is None
    assert "starts with 00000000" in (mismatch(other, Path("/nonexistent"), found) or "")


def test_import_copies_a_good_file(tmp_path: Path) -> None:
    source = write(tmp_path / "downloads" / "mine.bin", PAYLOAD)
    folder = tmp_path / "weights"
    path = import_file(source, ENTRY, folder)
    assert path == folder / ENTRY.filename
    assert path.read_bytes() == PAYLOAD
    assert not path.is_symlink()
    assert not os.path.samefile(source, path)
    assert sorted(p.name for p in folder.iterdir()) == [ENTRY.filename]
    assert source.read_bytes() == PAYLOAD


def test_import_can_link(tmp_path: Path) -> None:
    source = write(tmp_path / "downloads" / "mine.bin", PAYLOAD)
    path = import_file(source, ENTRY, tmp_path / "weights", link=True)
    assert os.path.samefile(source, path)
    assert sorted(p.name for p in path.parent.iterdir()) == [ENTRY.filename]


def test_import_refuses_a_file_that_does_not_verify(tmp_path: Path) -> None:
    source = write(tmp_path / "downloads" / "mine.bin", PAYLOAD[:-1] + b"!")
    folder = tmp_path / "weights"
    with pytest.raises(CheckpointError) as error:
        import_file(source, ENTRY, folder)
    assert str(source) in str(error.value)
    assert "not imported" in str(error.value)
    assert not (folder / ENTRY.filename).exists()


def test_import_refuses_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="no such file"):
        import_file(tmp_path / "nothing.bin", ENTRY, tmp_path / "weights")


def test_import_replaces_a_damaged_copy_atomically(tmp_path: Path) -> None:
    folder = tmp_path / "weights"
    write(folder / ENTRY.filename, b"damaged")
    source = write(tmp_path / "mine.bin", PAYLOAD)
    assert import_file(source, ENTRY, folder).read_bytes() == PAYLOAD
    assert sorted(p.name for p in folder.iterdir()) == [ENTRY.filename]


def test_import_without_a_published_hash_records_one(tmp_path: Path) -> None:
    entry = make_entry(None)
    folder = tmp_path / "weights"
    first = write(tmp_path / "first.bin", PAYLOAD)
    import_file(first, entry, folder)
    assert recorded_sha256(folder, entry.filename) == hashlib.sha256(PAYLOAD).hexdigest()
    other = write(tmp_path / "other.bin", PAYLOAD + b"more")
    with pytest.raises(CheckpointError, match="was recorded for the first copy"):
        import_file(other, entry, folder)
    assert (folder / entry.filename).read_bytes() == PAYLOAD


def test_import_checks_the_codeformer_variant(
    tmp_path: Path, tiny_checkpoints: dict[str, Path]
) -> None:
    restoration = tiny_checkpoints["restoration"]
    data = restoration.read_bytes()
    entry = replace(
        codeformer_file("restoration"),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    folder = tmp_path / "weights"
    assert import_file(restoration, entry, folder).read_bytes() == data

    unknown_hash = replace(codeformer_file("restoration"), size=None, sha256=None)
    colorization = tiny_checkpoints["colorization"]
    with pytest.raises(CheckpointError, match="colorization checkpoint, not the restoration"):
        import_file(colorization, unknown_hash, tmp_path / "other")
    assert not (tmp_path / "other" / "codeformer.pth").exists()
    assert recorded_sha256(tmp_path / "other", "codeformer.pth") is None


def test_import_refuses_a_file_that_is_not_a_checkpoint(tmp_path: Path) -> None:
    source = write(tmp_path / "junk.pth", PAYLOAD)
    entry = replace(codeformer_file("inpainting"), size=None, sha256=None)
    with pytest.raises(CheckpointError, match=r"junk\.pth"):
        import_file(source, entry, tmp_path / "weights")
    assert not (tmp_path / "weights" / entry.filename).exists()
