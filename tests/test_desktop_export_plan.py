"""Export names and formats (plain functions, no Qt)."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.export_plan import (
    ExportSource,
    check_pattern,
    file_name,
    output_format,
    plan_exports,
)


def source(
    doc_id: int, stem: str, path: Path | None, fmt: str | None, fidelity: float = 0.5
) -> ExportSource:
    return ExportSource(doc_id=doc_id, stem=stem, source=path, source_format=fmt, fidelity=fidelity)


def test_output_format_keeps_writable_formats_and_turns_others_into_png():
    assert output_format("same", "JPEG") == "JPEG"
    assert output_format("same", "TIFF") == "TIFF"
    assert output_format("same", "BMP") == "PNG"
    assert output_format("same", None) == "PNG"
    assert output_format("webp", "JPEG") == "WEBP"


def test_patterns():
    assert check_pattern("{name}{suffix}") is None
    assert "unknown field" in check_pattern("{nam}")
    assert "brace" in check_pattern("{name")
    assert "every photo gets the same name" in check_pattern("restored")
    name = file_name(
        "{index}-{name}_w{fidelity}", name="a/b:c", suffix="", fidelity=0.7, index=3, fmt="PNG"
    )
    assert name == "3-a_b_c_w0.70.png"
    with pytest.raises(ValueError):
        file_name("{oops}", name="a", suffix="", fidelity=0.5, index=1, fmt="PNG")


def test_plan_finds_existing_files_and_clashes(tmp_path: Path):
    (tmp_path / "a_restored.png").write_bytes(b"x")
    docs = [
        source(1, "a", tmp_path / "a.png", "PNG"),
        source(2, "b", tmp_path / "b.jpg", "JPEG"),
        source(3, "b", tmp_path / "sub" / "b.png", "PNG"),
    ]
    planned = plan_exports(
        docs,
        folder=tmp_path,
        pattern="{name}{suffix}",
        suffix="_restored",
        format_setting="png",
    )
    assert [p.path.name for p in planned] == ["a_restored.png", "b_restored.png", "b_restored.png"]
    assert [p.exists for p in planned] == [True, False, False]
    assert [p.clashes for p in planned] == [False, True, True]
    next_to = plan_exports(
        docs[1:2],
        folder=None,
        pattern="{name}{suffix}",
        suffix="_r",
        format_setting="same",
    )
    assert next_to[0].path == tmp_path / "b_r.jpg"
    with pytest.raises(ValueError, match="pasted image"):
        plan_exports(
            [source(4, "Pasted image 1", None, None)],
            folder=None,
            pattern="{name}",
            suffix="",
            format_setting="same",
        )


def test_each_photo_is_named_with_the_fidelity_of_its_own_result(tmp_path: Path):
    docs = [
        source(1, "a", tmp_path / "a.png", "PNG", fidelity=0.7),  # Restore at the slider's
        source(2, "b", tmp_path / "b.png", "PNG", fidelity=0.0),  # Colorize
        source(3, "c", tmp_path / "c.png", "PNG", fidelity=1.0),  # Inpaint
    ]
    planned = plan_exports(
        docs, folder=tmp_path, pattern="{name}_w{fidelity}", suffix="", format_setting="same"
    )
    assert [p.path.name for p in planned] == ["a_w0.70.png", "b_w0.00.png", "c_w1.00.png"]
