"""The network built for each variant has exactly the official state dict (names, shapes, order)."""

from __future__ import annotations

import pytest
import torch

from core.net.codeformer import CodeFormerNet
from core.net.config import VARIANTS, Variant

from .conftest import SPEC_DIR


def official_keys(variant: Variant) -> list[tuple[str, tuple[int, ...]]]:
    lines = (SPEC_DIR / f"keys_{variant.name}.tsv").read_text().splitlines()
    rows = [line.split("\t") for line in lines if line and not line.startswith("#")]
    assert rows[0] == ["key", "shape"]
    return [(key, tuple(int(n) for n in shape.split("x"))) for key, shape in rows[1:]]


@pytest.mark.full_size
@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_state_dict_matches_official_keys(variant: Variant) -> None:
    with torch.device("meta"):
        net = CodeFormerNet(variant.network)
    got = [(k, tuple(t.shape)) for k, t in net.state_dict().items()]
    expected = official_keys(variant)
    assert len(got) == len(expected)
    assert got == expected
    assert not list(net.buffers()), "the official state dict holds parameters only"


def test_variant_table_matches_spec() -> None:
    by_name = {v.name: v for v in VARIANTS}
    assert by_name["restoration"].network.connect_sizes == (32, 64, 128, 256)
    assert by_name["colorization"].network.connect_sizes == (32, 64, 128)
    assert by_name["inpainting"].network.codebook_size == 512
    assert by_name["inpainting"].adain is False
    assert by_name["inpainting"].fixed_fidelity == 1.0
    assert by_name["colorization"].fixed_fidelity == 0.0
