"""On the CPU faces are encoded and decoded one at a time: a face never depends on the others."""

from __future__ import annotations

import numpy as np
import torch

from core.choices import FaceChoice, PipelineSettings
from core.faces.detection import GivenFaces
from core.faces.upsample import ResizeUpsampler
from core.model import load_model
from core.pipeline import analyze, batch_size
from core.rendering import render

from .pipeline_support import portrait, tile_photo

SQUARE = PipelineSettings(paste_mask="square")


def test_a_face_is_restored_the_same_whatever_the_other_faces(tiny_checkpoints, faces_json):
    model = load_model(tiny_checkpoints["restoration"], device="cpu", precision="fp32")
    assert batch_size(model) == 1
    photo, faces = portrait("astronaut.png", faces_json)
    tiled, tiled_faces = tile_photo(photo, faces, 3, 1)
    upsampler = ResizeUpsampler()
    many = analyze(tiled, model, SQUARE, detector=GivenFaces(tiled_faces), upsampler=upsampler)
    alone = analyze(
        tiled, model, SQUARE, detector=GivenFaces(tiled_faces[1:2]), upsampler=upsampler
    )
    mine, theirs = many.faces[1].encoded.features, alone.faces[0].encoded.features
    assert all(map(torch.equal, mine.tensors(), theirs.tensors()))

    everyone = render(many, model, 0.6)
    others_off = render(many, model, 0.6, choices={0: FaceChoice(enabled=False)})
    own_fidelity = render(many, model, 0.6, choices={2: FaceChoice(fidelity=0.1)})
    assert np.array_equal(everyone.faces[1], others_off.faces[1])
    assert np.array_equal(everyone.faces[1], own_fidelity.faces[1])
    assert np.array_equal(everyone.faces[1], render(alone, model, 0.6).faces[0])
