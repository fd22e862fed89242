"""Inpainting while painting: re-encode only the faces whose damage changed; keep the rest."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.choices import PipelineSettings
from core.damage_mask import DamageMask, Stroke, rasterize
from core.engine import Engine
from core.inpaint import face_damage, remask
from core.model import CodeFormer
from core.rendering import render
from core.synthetic import unverified_catalogue

from .pipeline_support import CountingDetector, portrait, tile_photo, write_tiny_weights

SQUARE = PipelineSettings(paste_mask="square")


@pytest.fixture
def weights(tmp_path: Path, tiny_checkpoints) -> Path:
    return write_tiny_weights(tmp_path / "weights", tiny_checkpoints)


@pytest.fixture
def two_faces(weights: Path, faces_json):
    photo, faces = portrait("astronaut.png", faces_json)
    photo, faces = tile_photo(photo, faces, 2, 1)  # 1024 x 512, a face in each half
    engine = Engine(
        weights_dir=weights,
        device="cpu",
        precision="fp32",
        detector=CountingDetector(faces),
        catalogue=unverified_catalogue(),
    )
    return photo, engine


def scratch(damage: DamageMask, x: float) -> DamageMask:
    """A scratch across the nose of the face whose nose tip is near (x + 223, 128)."""
    return damage.with_stroke(Stroke(points=((x + 200.0, 120.0), (x + 245.0, 130.0)), radius=5))


def test_remask_reencodes_only_changed_faces_and_equals_a_fresh_analysis(
    two_faces, monkeypatch
) -> None:
    photo, engine = two_faces
    empty = DamageMask(size=(photo.width, photo.height))
    analysis = engine.analyze(photo, SQUARE, variant="inpainting", mask=rasterize(empty))
    assert all(not face_damage(f).any() for f in analysis.faces)

    batches: list[int] = []
    encode = CodeFormer.encode

    def counting(self, faces, mask=None):
        batches.append(faces.shape[0])
        return encode(self, faces, mask)

    monkeypatch.setattr(CodeFormer, "encode", counting)
    model = engine.model("inpainting")
    damage = scratch(empty, 512.0)  # the right-hand face only
    painted = rasterize(damage)
    updated = remask(analysis, model, painted)
    assert batches == [1], "only the damaged face is encoded again"
    assert updated.faces[0] is analysis.faces[0], "the other face is kept as it was"
    assert face_damage(updated.faces[1]).any() and not face_damage(updated.faces[0]).any()
    assert np.array_equal(updated.damage, painted)
    assert updated.background is analysis.background
    detector = engine.detector(SQUARE)
    assert isinstance(detector, CountingDetector) and detector.calls == 1

    assert remask(updated, model, painted).faces[1].encoded is updated.faces[1].encoded
    assert batches == [1], "the same damage again encodes nothing"

    fresh = engine.analyze(photo, SQUARE, variant="inpainting", mask=painted)
    ours = engine.render(updated, None)
    theirs = engine.render(fresh, None)
    assert np.array_equal(ours.image, theirs.image)


def test_render_keeps_everything_away_from_the_damage(two_faces, monkeypatch) -> None:
    photo, engine = two_faces
    damage = scratch(DamageMask(size=(photo.width, photo.height)), 0.0)
    painted = rasterize(damage)
    analysis = engine.analyze(photo, SQUARE, variant="inpainting", mask=painted)
    out = engine.render(analysis, None)
    diff = np.abs(out.image.astype(int) - photo.pixels).max(axis=2)
    distance = cv2.distanceTransform(np.where(painted, 0, 255).astype(np.uint8), cv2.DIST_L2, 5)
    assert diff[distance > 3].max() == 0, "unpainted pixels are the photo's, exactly"
    assert diff[painted].mean() > 10, "the damage is filled"
    assert set(out.faces) == {0}, "the undamaged face is not decoded at all"
    # Without the damage, pasting the face back resamples it: unpainted face pixels move too.
    raw = render(replace(analysis, damage=None), engine.model("inpainting"), None).image
    assert np.abs(raw.astype(int) - photo.pixels).max(axis=2)[distance > 3].max() > 0
    with pytest.raises(ValueError, match="must be the same size"):
        engine.analyze(photo, SQUARE, variant="inpainting", mask=np.zeros((10, 10), bool))


def test_inpaint_at_upscale_two(weights, faces_json) -> None:
    photo, faces = portrait("astronaut.png", faces_json)
    engine = Engine(
        weights_dir=weights,
        device="cpu",
        precision="fp32",
        detector=CountingDetector(faces),
        catalogue=unverified_catalogue(),
    )
    damage = scratch(DamageMask(size=(photo.width, photo.height)), 0.0)
    settings = PipelineSettings(paste_mask="square", upscale=2)
    analysis = engine.analyze(photo, settings, variant="inpainting", mask=rasterize(damage))
    out = engine.render(analysis, None).image
    assert out.shape == (1024, 1024, 3)
    big = rasterize(damage, scale=2)
    far = cv2.distanceTransform(np.where(big, 0, 255).astype(np.uint8), cv2.DIST_L2, 5) > 6
    assert np.array_equal(out[far], analysis.background[far])
    assert np.abs(out[big].astype(int) - analysis.background[big]).mean() > 10


def test_remask_refuses_other_variants_and_sizes(two_faces) -> None:
    photo, engine = two_faces
    analysis = engine.analyze(photo, SQUARE)
    with pytest.raises(ValueError, match="inpainting analysis"):
        remask(analysis, engine.model("restoration"), np.zeros((512, 1024), bool))
    inpainting = engine.analyze(
        photo, SQUARE, variant="inpainting", mask=np.zeros((512, 1024), bool)
    )
    with pytest.raises(ValueError, match="mask must be 512 x 1024"):
        remask(inpainting, engine.model("inpainting"), np.zeros((10, 10), bool))
