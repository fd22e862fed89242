"""Whole-photo restoration with injected landmarks and tiny synthetic checkpoints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.choices import FaceChoice, PipelineSettings
from core.engine import Engine
from core.errors import Cancelled, WeightsMissingError
from core.model import CodeFormer
from core.photo import Photo
from core.pipeline import analyze
from core.rendering import render
from core.synthetic import unverified_catalogue

from .pipeline_support import CountingDetector, portrait, tile_photo, write_tiny_weights

SQUARE = PipelineSettings(paste_mask="square")


@pytest.fixture
def weights(tmp_path: Path, tiny_checkpoints) -> Path:
    return write_tiny_weights(tmp_path / "weights", tiny_checkpoints)


def make_engine(weights: Path, faces) -> Engine:
    return Engine(
        weights_dir=weights,
        device="cpu",
        precision="fp32",
        detector=CountingDetector(faces),
        catalogue=unverified_catalogue(),
    )


def face_region(face, shape, margin: int = 0) -> tuple[slice, slice]:
    x1, y1, x2, y2 = (int(v) for v in face.box)
    h, w = shape[:2]
    return slice(max(y1 - margin, 0), min(y2 + margin, h)), slice(
        max(x1 - margin, 0), min(x2 + margin, w)
    )


def test_face_region_changes_and_far_pixels_do_not(weights, faces_json) -> None:
    photo, faces = portrait("grace_hopper.jpg", faces_json)
    engine = make_engine(weights, faces)
    analysis = engine.analyze(photo, SQUARE)
    assert len(analysis.faces) == 1
    out = engine.render(analysis, 0.5).image
    assert out.shape == photo.pixels.shape and out.dtype == np.uint8
    rows, cols = face_region(analysis.faces[0], out.shape)
    assert np.abs(out[rows, cols].astype(int) - photo.pixels[rows, cols]).mean() > 3
    # Far from the face (outside the box grown by half its size) nothing moves at upscale 1.
    far = np.ones(out.shape[:2], bool)
    rows, cols = face_region(analysis.faces[0], out.shape, margin=100)
    far[rows, cols] = False
    assert np.array_equal(out[far], photo.pixels[far])


def test_same_fidelity_twice_is_identical_and_changing_it_reruns_no_analysis(
    weights, faces_json, monkeypatch
) -> None:
    photo, faces = portrait("astronaut.png", faces_json)
    engine = make_engine(weights, faces)
    analysis = engine.analyze(photo, SQUARE)
    model = engine.model("restoration")
    encodes = []
    monkeypatch.setattr(CodeFormer, "encode", lambda *a, **k: encodes.append(1))
    detector = engine.detector(SQUARE)
    assert isinstance(detector, CountingDetector) and detector.calls == 1
    first = engine.render(analysis, 0.3)
    second = engine.render(analysis, 0.3)
    other = engine.render(analysis, 0.9)
    assert np.array_equal(first.image, second.image)
    assert not np.array_equal(first.image, other.image)
    assert first.fidelity == 0.3 and other.fidelity == 0.9
    assert detector.calls == 1 and not encodes
    assert model is engine.model("restoration")


def test_background_is_not_recomputed_by_render(weights, faces_json) -> None:
    photo, faces = portrait("astronaut.png", faces_json)
    engine = make_engine(weights, faces)
    analysis = engine.analyze(photo, SQUARE)
    before = analysis.background.copy()
    engine.render(analysis, 0.7)
    assert np.array_equal(analysis.background, before), "render must not paint on the cache"


def test_no_face_is_passed_through_with_a_notice(weights) -> None:
    pixels = np.full((300, 400, 3), 120, np.uint8)
    engine = make_engine(weights, [])
    analysis = engine.analyze(Photo(pixels=pixels), SQUARE)
    assert analysis.faces == ()
    assert any("No face" in n for n in analysis.notices)
    assert np.array_equal(engine.render(analysis, 0.5).image, pixels)


def test_many_faces_in_one_photo(weights, faces_json) -> None:
    photo, faces = portrait("astronaut.png", faces_json)
    photo, faces = tile_photo(photo, faces, 3, 2)
    engine = make_engine(weights, faces)
    analysis = engine.analyze(photo, SQUARE)
    assert len(analysis.faces) == 6
    out = engine.render(analysis, 0.5).image
    for face in analysis.faces:
        rows, cols = face_region(face, out.shape)
        assert np.abs(out[rows, cols].astype(int) - photo.pixels[rows, cols]).mean() > 3


def test_face_toggle_and_per_face_fidelity(weights, faces_json) -> None:
    photo, faces = portrait("astronaut.png", faces_json)
    photo, faces = tile_photo(photo, faces, 2, 1)
    engine = make_engine(weights, faces)
    analysis = engine.analyze(photo, SQUARE)
    base = engine.render(analysis, 0.5).image
    off = engine.render(analysis, 0.5, choices={1: FaceChoice(enabled=False)}).image
    rows, cols = face_region(analysis.faces[1], photo.pixels.shape)
    assert np.array_equal(off[rows, cols], photo.pixels[rows, cols])
    rows0, cols0 = face_region(analysis.faces[0], photo.pixels.shape)
    # Face 0 alone vs batched with face 1: fp32 summation order only (at most a rounding step).
    assert np.abs(off[rows0, cols0].astype(int) - base[rows0, cols0]).max() <= 1
    own = engine.render(analysis, 0.5, choices={1: FaceChoice(fidelity=1.0)}).image
    at_one = engine.render(analysis, 1.0).image
    assert np.abs(own[rows, cols].astype(int) - at_one[rows, cols]).max() <= 1
    assert np.abs(own[rows0, cols0].astype(int) - base[rows0, cols0]).max() <= 1
    assert np.abs(own[rows, cols].astype(int) - base[rows, cols]).mean() > 1


def test_upscale_and_alpha(weights, faces_json) -> None:
    photo, faces = portrait("astronaut.png", faces_json)
    alpha = np.full(photo.pixels.shape[:2], 255, np.uint8)
    alpha[:50] = 0
    photo = Photo(pixels=photo.pixels, alpha=alpha, format="PNG")
    engine = make_engine(weights, faces)
    analysis = engine.analyze(photo, PipelineSettings(paste_mask="square", upscale=2))
    out = engine.render(analysis, 0.5)
    assert out.image.shape == (1024, 1024, 3)
    assert out.alpha is not None and out.alpha.shape == (1024, 1024)
    assert out.alpha[:90].max() == 0 and out.alpha[110:].min() == 255


def test_sixteen_bit_photo_stays_sixteen_bit(weights, faces_json) -> None:
    photo, faces = portrait("astronaut.png", faces_json)
    deep = Photo(pixels=photo.pixels.astype(np.uint16) * 257 + 3, format="PNG")
    engine = make_engine(weights, faces)
    out = engine.render(engine.analyze(deep, SQUARE), 0.5).image
    assert out.dtype == np.uint16
    assert np.array_equal(out[:20, :20], deep.pixels[:20, :20]), "far pixels keep all 16 bits"
    rows, cols = face_region(faces[0], out.shape)
    assert np.abs(out[rows, cols].astype(int) - deep.pixels[rows, cols]).mean() > 3 * 257


def test_grey_photo_gets_grey_faces(weights, faces_json) -> None:
    photo, faces = portrait("grace_hopper.jpg", faces_json)
    grey = np.repeat(photo.pixels.mean(axis=2, keepdims=True).astype(np.uint8), 3, axis=2)
    engine = make_engine(weights, faces)
    out = engine.render(engine.analyze(Photo(pixels=grey, is_grey=True), SQUARE), 0.5).image
    assert np.array_equal(out[..., 0], out[..., 1]) and np.array_equal(out[..., 1], out[..., 2])
    rows, cols = face_region(faces[0], out.shape)
    assert out[rows, cols].mean() > 20, "no black output"


def test_colorize_gives_colour_faces_of_the_same_size(weights, faces_json) -> None:
    photo, faces = portrait("grace_hopper.jpg", faces_json)
    grey = np.repeat(photo.pixels.mean(axis=2, keepdims=True).astype(np.uint8), 3, axis=2)
    engine = make_engine(weights, faces)
    analysis = engine.analyze(Photo(pixels=grey, is_grey=True), SQUARE, variant="colorization")
    out = engine.render(analysis, None).image
    assert out.shape == grey.shape
    rows, cols = face_region(faces[0], out.shape)
    spread = out[rows, cols].astype(int)
    assert np.abs(spread[..., 0] - spread[..., 2]).mean() > 1, "faces come out in colour"


def test_inpaint_mask_lands_on_the_right_pixels(weights, faces_json) -> None:
    photo, faces = portrait("astronaut.png", faces_json)
    mask = np.zeros(photo.pixels.shape[:2], bool)
    mask[118:140, 205:240] = True  # over the nose and mouth
    engine = make_engine(weights, faces)
    analysis = engine.analyze(photo, SQUARE, variant="inpainting", mask=mask)
    face = analysis.faces[0]
    face_mask = face.encoded.mask
    assert face_mask is not None
    # The damage warped into the aligned face sits where the photo's mask maps to.
    ys, xs = np.nonzero(face_mask[0, 0].numpy() > 0.5)
    corners = np.array([[205, 118, 1], [240, 140, 1]], np.float64) @ np.asarray(face.matrix).T
    assert corners[0, 0] - 2 <= xs.min() and xs.max() <= corners[1, 0] + 2
    assert corners[0, 1] - 2 <= ys.min() and ys.max() <= corners[1, 1] + 2
    out = engine.render(analysis, None)
    restored = out.faces[0]
    keep = face_mask[0, 0].numpy() < 0.5
    assert np.abs(restored[keep].astype(int) - face.crop[keep]).max() <= 1
    assert np.abs(restored[~keep].astype(int) - face.crop[~keep]).mean() > 3
    with pytest.raises(ValueError, match="always runs at fidelity 1"):
        engine.render(analysis, 0.5)


def test_aligned_input_needs_no_detector(weights, tiny_checkpoints) -> None:
    crop = np.random.default_rng(0).integers(0, 255, (512, 512, 3), dtype=np.uint8)
    engine = Engine(
        weights_dir=weights, device="cpu", precision="fp32", catalogue=unverified_catalogue()
    )
    analysis = engine.analyze(
        Photo(pixels=crop), PipelineSettings(aligned=True, paste_mask="square")
    )
    assert len(analysis.faces) == 1
    out = engine.render(analysis, 0.5).image
    assert out.shape == crop.shape
    assert np.abs(out.astype(int) - crop).mean() > 3


def test_cancel_between_faces(weights, faces_json) -> None:
    photo, faces = portrait("astronaut.png", faces_json)
    photo, faces = tile_photo(photo, faces, 2, 1)
    engine = make_engine(weights, faces)
    with pytest.raises(Cancelled):
        engine.analyze(photo, SQUARE, cancel=lambda: True)
    analysis = engine.analyze(photo, SQUARE)
    calls = []

    def cancel_second() -> bool:
        calls.append(1)
        return len(calls) > 1

    with pytest.raises(Cancelled):
        engine.render(analysis, 0.5, cancel=cancel_second)


def test_missing_weights_are_named(tmp_path: Path, faces_json) -> None:
    _, faces = portrait("astronaut.png", faces_json)
    engine = make_engine(tmp_path / "empty", faces)
    assert [f.filename for f in engine.missing_weights("restoration", SQUARE)] == ["codeformer.pth"]
    with pytest.raises(WeightsMissingError, match=r"codeformer\.pth"):
        engine.analyze(Photo(pixels=np.zeros((64, 64, 3), np.uint8)), SQUARE)


def test_exact_render_uses_fp32(weights, faces_json) -> None:
    photo, faces = portrait("astronaut.png", faces_json)
    fast = Engine(
        weights_dir=weights,
        device="cpu",
        precision="bf16",
        detector=CountingDetector(faces),
        catalogue=unverified_catalogue(),
    )
    exact_engine = make_engine(weights, faces)
    analysis = fast.analyze(photo, SQUARE)
    exact = fast.render(analysis, 0.5, exact=True).image
    reference = exact_engine.render(exact_engine.analyze(photo, SQUARE), 0.5).image
    assert np.array_equal(exact, reference)


def test_functions_work_without_engine(tiny_checkpoints, faces_json) -> None:
    from core.faces.upsample import ResizeUpsampler
    from core.model import load_model

    model = load_model(tiny_checkpoints["restoration"], device="cpu", precision="fp32")
    photo, faces = portrait("astronaut.png", faces_json)
    analysis = analyze(
        photo, model, SQUARE, detector=CountingDetector(faces), upsampler=ResizeUpsampler()
    )
    assert render(analysis, model, 0.5).image.shape == photo.pixels.shape


def test_analysis_counts_the_memory_it_holds(weights, faces_json) -> None:
    photo, faces = portrait("astronaut.png", faces_json)
    alpha = np.full(photo.pixels.shape[:2], 255, np.uint8)
    photo = Photo(pixels=photo.pixels, alpha=alpha, format="PNG")
    engine = make_engine(weights, faces)
    same_size = engine.analyze(photo, SQUARE)
    face = same_size.faces[0]
    per_face = face.encoded.nbytes() + face.crop.nbytes + face.paste_mask.nbytes
    assert face.encoded.nbytes() > 0
    # At upscale 1 the background is a copy, the alpha the photo's own plane (not counted).
    assert not np.may_share_memory(same_size.background, photo.pixels)
    assert same_size.background_alpha is photo.alpha
    assert same_size.nbytes() == len(same_size.faces) * per_face + same_size.background.nbytes
    doubled = engine.analyze(photo, PipelineSettings(paste_mask="square", upscale=2))
    enlarged = doubled.background.nbytes + doubled.background_alpha.nbytes
    assert doubled.nbytes() == len(doubled.faces) * per_face + enlarged


def test_faces_given_decoded_are_only_pasted(weights, faces_json, monkeypatch) -> None:
    """A face decoded before at the same fidelity is pasted as given: the picture is the same
    and only the other faces are decoded."""
    photo, faces = portrait("astronaut.png", faces_json)
    photo, faces = tile_photo(photo, faces, 2, 1)
    engine = make_engine(weights, faces)
    analysis = engine.analyze(photo, SQUARE)
    first = engine.render(analysis, 0.3)
    model = engine.model("restoration")
    decodes: list[int] = []
    original = CodeFormer.decode

    def counting(self, encoded, fidelity, cancel=None):
        decodes.append(encoded.batch)
        return original(self, encoded, fidelity, cancel)

    monkeypatch.setattr(CodeFormer, "decode", counting)
    again = engine.render(analysis, 0.3, decoded={0: first.faces[0]})
    assert sum(decodes) == 1  # face 1 only
    assert np.array_equal(again.image, first.image)
    assert set(again.faces) == {0, 1} and again.faces[0] is first.faces[0]
    decodes.clear()
    both = engine.render(analysis, 0.3, decoded=dict(first.faces))
    assert decodes == [] and np.array_equal(both.image, first.image)
    assert model is engine.model("restoration")
    alone = engine.decode_faces(analysis, 0.3, [1])  # a step of the slider filled ahead
    assert list(alone) == [1] and np.array_equal(alone[1], first.faces[1])


def test_rendering_only_the_face_regions_gives_the_whole_render_there(weights, faces_json) -> None:
    photo, faces = portrait("astronaut.png", faces_json)
    photo, faces = tile_photo(photo, faces, 2, 1)
    engine = make_engine(weights, faces)
    analysis = engine.analyze(photo, PipelineSettings(paste_mask="square", upscale=2))
    choices = {1: FaceChoice(fidelity=0.9)}
    whole = engine.render(analysis, 0.3, choices=choices)
    decoded = {0: whole.faces[0]}  # one face given, the other decoded here
    parts = engine.render_regions(analysis, 0.3, choices=choices, decoded=decoded)
    assert parts.fidelity == whole.fidelity and set(parts.faces) == {0, 1}
    assert np.array_equal(parts.faces[1], whole.faces[1])
    assert len(parts.patches) == 2
    rebuilt = analysis.background.copy()
    for (x1, y1, x2, y2), pixels in parts.patches:
        rebuilt[y1:y2, x1:x2] = pixels
    assert np.array_equal(rebuilt, whole.image)  # elsewhere every render is the background
    off = engine.render_regions(analysis, 0.3, choices={1: FaceChoice(enabled=False)})
    (x1, y1, x2, y2), pixels = off.patches[1]
    assert np.array_equal(pixels, analysis.background[y1:y2, x1:x2])  # face 1 shows the photo


def test_a_stale_decode_stops_between_the_generator_stages(weights, faces_json) -> None:
    photo, faces = portrait("astronaut.png", faces_json)
    engine = make_engine(weights, faces)
    analysis = engine.analyze(photo, SQUARE)
    asked: list[int] = []

    def cancel_in_the_decoder() -> bool:
        asked.append(1)
        return len(asked) > 3  # before the batch, then two stages of the one face's decode

    with pytest.raises(Cancelled):
        engine.decode_faces(analysis, 0.5, [0], cancel=cancel_in_the_decoder)
    assert len(asked) == 4  # stopped inside the face, not after it
