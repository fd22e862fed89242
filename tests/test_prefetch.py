"""Prefetch plan and the render cache: exact results for exactly the values they were made for."""

from __future__ import annotations

import gc

import numpy as np
import pytest

from core.choices import FaceChoice, PipelineSettings
from core.faces.upsample import ResizeUpsampler
from core.model import load_model
from core.pipeline import Analysis, Rendered, analyze
from core.prefetch import RenderCache, choices_key, prefetch_fidelities, rendered_nbytes, snap
from core.rendering import render

from .pipeline_support import CountingDetector, portrait


def test_plan_goes_outwards_then_to_the_ends() -> None:
    assert prefetch_fidelities(0.5) == (0.55, 0.45, 0.6, 0.4, 0.0, 1.0)
    assert prefetch_fidelities(0.5, step=0.1, around=1, ends=False) == (0.6, 0.4)


def test_plan_is_clamped_snapped_and_without_repeats() -> None:
    assert prefetch_fidelities(0.02) == (0.07, 0.0, 0.12, 1.0)
    assert prefetch_fidelities(1.0) == (0.95, 0.9, 0.0)
    assert prefetch_fidelities(0.0) == (0.05, 0.1, 1.0)
    plan = prefetch_fidelities(0.333, step=0.05)
    assert plan[:2] == (0.38, 0.28)
    assert all(v == snap(v) for v in plan) and len(set(plan)) == len(plan)
    with pytest.raises(ValueError):
        prefetch_fidelities(0.5, step=0)


def test_choices_key_ignores_order_and_treats_none_as_empty() -> None:
    a = {2: FaceChoice(enabled=False), 0: FaceChoice(fidelity=0.3)}
    b = {0: FaceChoice(fidelity=0.3), 2: FaceChoice(enabled=False)}
    assert choices_key(a) == choices_key(b) != choices_key({})
    assert choices_key(None) == choices_key({}) == ()


@pytest.fixture(scope="module")
def analysed(tiny_checkpoints, faces_json):
    model = load_model(tiny_checkpoints["restoration"], device="cpu", precision="fp32")
    photo, faces = portrait("astronaut.png", faces_json)

    def make() -> Analysis:
        return analyze(
            photo,
            model,
            PipelineSettings(paste_mask="square"),
            detector=CountingDetector(faces),
            upsampler=ResizeUpsampler(),
        )

    return model, make


def test_cache_returns_the_exact_render_for_its_values_only(analysed) -> None:
    model, make = analysed
    analysis = make()
    cache = RenderCache()
    plan = prefetch_fidelities(0.5)
    assert cache.missing(analysis, plan) == list(plan)
    for value in plan[:3]:
        cache.put(analysis, value, None, render(analysis, model, value))
    assert cache.missing(analysis, plan) == list(plan[3:])

    hit = cache.get(analysis, 0.55)
    assert hit is not None and hit.fidelity == 0.55
    assert np.array_equal(hit.image, render(analysis, model, 0.55).image)
    assert cache.get(analysis, 0.5) is None  # never a neighbour instead
    assert cache.get(analysis, 0.55, {0: FaceChoice(enabled=False)}) is None
    assert cache.get(make(), 0.55) is None  # another analysis of the same photo


def test_cache_refuses_a_result_of_another_fidelity(analysed) -> None:
    model, make = analysed
    analysis = make()
    with pytest.raises(ValueError, match="fidelity"):
        RenderCache().put(analysis, 0.6, None, render(analysis, model, 0.5))


def fake_render(fidelity: float, nbytes: int = 1000) -> Rendered:
    return Rendered(
        image=np.zeros((1, nbytes // 3, 3), np.uint8),
        alpha=None,
        fidelity=fidelity,
        faces={},
        seconds=0.0,
    )


def test_cache_evicts_least_recently_used_by_count_and_bytes(analysed) -> None:
    _, make = analysed
    analysis = make()
    cache = RenderCache(max_entries=3, max_bytes=10_000)
    for value in (0.1, 0.2, 0.3):
        cache.put(analysis, value, None, fake_render(value))
    assert cache.get(analysis, 0.1) is not None  # 0.1 is now the most recent
    cache.put(analysis, 0.4, None, fake_render(0.4))
    assert cache.get(analysis, 0.2) is None and len(cache) == 3
    big = fake_render(0.9, nbytes=9_600)
    cache.put(analysis, 0.9, None, big)
    assert cache.get(analysis, 0.9) is big
    assert cache.nbytes <= 10_000 and len(cache) == 1
    cache.put(analysis, 0.8, None, fake_render(0.8, nbytes=20_000))  # larger than the cache
    assert cache.get(analysis, 0.8) is None
    assert cache.nbytes == rendered_nbytes(big)


def test_drop_and_dead_analyses(analysed) -> None:
    _, make = analysed
    first, second = make(), make()
    cache = RenderCache()
    cache.put(first, 0.5, None, fake_render(0.5))
    cache.put(second, 0.5, None, fake_render(0.5))
    cache.drop(first)
    assert cache.get(first, 0.5) is None and cache.get(second, 0.5) is not None
    cache.put(first, 0.5, None, fake_render(0.5))
    del first
    gc.collect()
    newcomer = make()  # may reuse the dead analysis's id: must not see its renders
    assert cache.get(newcomer, 0.5) is None
    assert (newcomer, 0.5, None) not in cache


def test_face_crop_cache_is_bounded_and_forgets_closed_analyses() -> None:
    import gc

    import numpy as np

    from core.prefetch import FaceCropCache

    class Analysis:  # stands in for core.pipeline.Analysis (held weakly)
        pass

    crop = np.zeros((8, 8, 3), np.uint8)  # 192 bytes
    cache = FaceCropCache(max_bytes=3 * crop.nbytes)
    a, b = Analysis(), Analysis()
    cache.put(a, 0, 0.5, crop)
    cache.put(a, 1, 0.5, crop + 1)
    assert cache.get(a, 1, 0.5004) is not None and cache.get(a, 1, 0.51) is None
    assert cache.get(b, 0, 0.5) is None
    cache.put(b, 0, 0.5, crop)
    cache.put(b, 1, 0.5, crop)  # over the bound: the least recently used (a, 0) goes
    assert cache.get(a, 0, 0.5) is None and cache.get(a, 1, 0.5) is not None
    assert len(cache) == 3 and cache.nbytes == 3 * crop.nbytes
    cache.drop(b)
    assert len(cache) == 1
    del a
    gc.collect()
    reused = Analysis()  # may take the freed id: never sees the old faces
    assert cache.get(reused, 1, 0.5) is None
