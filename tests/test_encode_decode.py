"""The encode/decode split is exact, batching changes nothing, variants follow official rules."""

from __future__ import annotations

import itertools

import pytest
import torch

from core.checkpoint import load_network
from core.device import Placement
from core.model import CodeFormer, load_model
from core.net.codeformer import CodeFormerNet
from core.net.config import RESTORATION, VARIANTS, Variant, tiny_config

FIDELITIES = (0.0, 0.3, 0.7, 1.0)
ROUNDING = 1e-4
"""How far encode + decode may round away from the one-shot forward (the upsampling runs by
phases, with summed kernels): 0.013 of a grey level on [0, 255]."""
CPU_FP32 = Placement(device=torch.device("cpu"), precision="fp32", channels_last=False)


def random_faces(batch: int, size: int = 64, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(batch, 3, size, size, generator=g) * 2 - 1


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_decode_of_encode_equals_one_shot(variant: Variant, tiny_checkpoints) -> None:
    net, _ = load_network(tiny_checkpoints[variant.name])
    x = random_faces(2)
    with torch.inference_mode():
        encoded = net.encode(x, adain=variant.adain)
        for w in FIDELITIES:
            one_shot = net(x, w, adain=variant.adain)
            split = net.decode(encoded, w)
            torch.testing.assert_close(split, one_shot, atol=ROUNDING, rtol=0)


def test_fidelity_changes_the_output(tiny_checkpoints) -> None:
    net, _ = load_network(tiny_checkpoints["restoration"])
    x = random_faces(1)
    with torch.inference_mode():
        encoded = net.encode(x, adain=True)
        outs = [net.decode(encoded, w) for w in FIDELITIES]
    for a, b in itertools.pairwise(outs):
        assert (a - b).abs().max() > 1e-3


def test_decode_does_not_change_the_encoding(tiny_checkpoints) -> None:
    net, _ = load_network(tiny_checkpoints["restoration"])
    with torch.inference_mode():
        encoded = net.encode(random_faces(1), adain=True)
        first = net.decode(encoded, 0.5)
        net.decode(encoded, 1.0)
        again = net.decode(encoded, 0.5)
    assert torch.equal(first, again)


def test_batched_faces_equal_one_at_a_time(tiny_checkpoints) -> None:
    model = CodeFormer(*load_network(tiny_checkpoints["restoration"]), CPU_FP32)
    x = random_faces(3)
    batched = model.restore(x, 0.6)
    singles = torch.cat([model.restore(x[i : i + 1], 0.6) for i in range(3)])
    # Convolution kernels may sum in another order for another batch size: fp32 rounding only.
    torch.testing.assert_close(batched, singles, atol=1e-4, rtol=0)
    encoded = model.encode(x)
    torch.testing.assert_close(
        model.decode(encoded.select(1), 0.6), singles[1:2], atol=1e-4, rtol=0
    )


def test_restore_output_is_clamped_float32(tiny_checkpoints) -> None:
    model = CodeFormer(*load_network(tiny_checkpoints["restoration"]), CPU_FP32)
    out = model.restore(random_faces(1), 0.5)
    assert out.dtype == torch.float32
    assert out.shape == (1, 3, 64, 64)
    assert out.min() >= -1 and out.max() <= 1


def test_adain_gives_codes_the_input_statistics(tiny_checkpoints) -> None:
    net, _ = load_network(tiny_checkpoints["restoration"])
    x = random_faces(1)
    with torch.inference_mode():
        latent, _ = net.encoder(x, ())
        features, _ = net.lookup_codes(latent, adain=True)
        plain, _ = net.lookup_codes(latent, adain=False)
    torch.testing.assert_close(
        features.mean(dim=(2, 3)), latent.mean(dim=(2, 3)), atol=1e-4, rtol=0
    )
    torch.testing.assert_close(
        features.std(dim=(2, 3)), latent.std(dim=(2, 3)), atol=1e-3, rtol=1e-3
    )
    assert not torch.allclose(plain.mean(dim=(2, 3)), latent.mean(dim=(2, 3)), atol=1e-3)


def test_restoration_model_uses_adain_and_user_fidelity(tiny_checkpoints) -> None:
    model = CodeFormer(*load_network(tiny_checkpoints["restoration"]), CPU_FP32)
    x = random_faces(1)
    with torch.inference_mode():
        expected = model.net(x, 0.3, adain=True).clamp(-1, 1)
    torch.testing.assert_close(model.restore(x, 0.3), expected, atol=ROUNDING, rtol=0)
    with pytest.raises(ValueError, match="fidelity"):
        model.restore(x, 1.5)


def test_colorization_runs_at_fidelity_zero_with_adain(tiny_checkpoints) -> None:
    model = CodeFormer(*load_network(tiny_checkpoints["colorization"]), CPU_FP32)
    assert model.variant.name == "colorization"
    grey = random_faces(1).mean(dim=1, keepdim=True).expand(1, 3, 64, 64).contiguous()
    with torch.inference_mode():
        expected = model.net(grey, 0.0, adain=True).clamp(-1, 1)
    torch.testing.assert_close(model.restore(grey), expected, atol=ROUNDING, rtol=0)
    with pytest.raises(ValueError, match="always runs at fidelity 0"):
        model.restore(grey, 0.5)


def test_inpainting_keeps_unpainted_pixels_and_fills_white(tiny_checkpoints) -> None:
    model = CodeFormer(*load_network(tiny_checkpoints["inpainting"]), CPU_FP32)
    assert model.variant.name == "inpainting"
    x = random_faces(1) * 0.9
    x[:, :, 20:40, 10:30] = 1.0  # painted pure white: the region to fill
    out = model.restore(x)
    mask = torch.zeros(1, 1, 64, 64, dtype=torch.bool)
    mask[:, :, 20:40, 10:30] = True
    keep = ~mask.expand_as(x)
    assert torch.equal(out[keep], x[keep])
    with torch.inference_mode():
        raw = model.net(x, 1.0, adain=False).clamp(-1, 1)
    torch.testing.assert_close(out[~keep], raw[~keep], atol=ROUNDING, rtol=0)
    assert (out[~keep] - 1.0).abs().max() > 1e-2, "the white region must be filled"


def test_inpainting_with_explicit_mask(tiny_checkpoints) -> None:
    model = CodeFormer(*load_network(tiny_checkpoints["inpainting"]), CPU_FP32)
    x = random_faces(1) * 0.9
    mask = torch.zeros(1, 1, 64, 64)
    mask[:, :, 5:15, 5:15] = 1
    out = model.restore(x, mask=mask)
    outside = (mask == 0).expand_as(x)
    assert torch.equal(out[outside], x[outside])
    painted = x.clone()
    painted[:, :, 5:15, 5:15] = 1.0
    torch.testing.assert_close(out, model.restore(painted), atol=1e-6, rtol=0)


def test_mask_refused_outside_inpainting(tiny_checkpoints) -> None:
    model = CodeFormer(*load_network(tiny_checkpoints["restoration"]), CPU_FP32)
    with pytest.raises(ValueError, match="only used by inpainting"):
        model.encode(random_faces(1), mask=torch.ones(1, 1, 64, 64))


def test_wrong_input_gets_clear_errors(tiny_checkpoints) -> None:
    model = CodeFormer(*load_network(tiny_checkpoints["restoration"]), CPU_FP32)
    with pytest.raises(ValueError, match="B x 3 x 64 x 64"):
        model.encode(torch.zeros(1, 3, 32, 32))
    with pytest.raises(ValueError, match=r"in \[-1, 1\]"):
        model.encode(torch.full((1, 3, 64, 64), 255.0))


def test_encoded_from_other_variant_is_refused(tiny_checkpoints) -> None:
    restore = CodeFormer(*load_network(tiny_checkpoints["restoration"]), CPU_FP32)
    colorize = CodeFormer(*load_network(tiny_checkpoints["colorization"]), CPU_FP32)
    with pytest.raises(ValueError, match="encoded by a restoration model"):
        colorize.decode(restore.encode(random_faces(1)))


def test_bf16_channels_last_runs_and_rounds_only(tiny_checkpoints) -> None:
    path = tiny_checkpoints["restoration"]
    exact = load_model(path, device="cpu", precision="fp32")
    fast = load_model(path, device="cpu", precision="bf16")
    assert fast.placement.channels_last and fast.precision == "bf16"
    x = random_faces(1)
    out = fast.restore(x, 0.5)
    assert out.dtype == torch.float32 and torch.isfinite(out).all()
    # Random weights make code choices near-ties, so compare the encoder, which only rounds.
    with torch.inference_mode():
        reference, _ = exact.net.encoder(x, ())
        with torch.autocast("cpu", dtype=torch.bfloat16):
            rounded, _ = fast.net.encoder(x.contiguous(memory_format=torch.channels_last), ())
    relative = (rounded.float() - reference).norm() / reference.norm()
    assert relative < 0.05


@pytest.mark.full_size
def test_full_size_split_is_exact() -> None:
    torch.manual_seed(0)
    net = CodeFormerNet(RESTORATION.network).eval()
    x = random_faces(1, size=512)
    with torch.inference_mode():
        encoded = net.encode(x, adain=True)
        for w in (0.0, 0.7):
            torch.testing.assert_close(
                net.decode(encoded, w), net(x, w, adain=True), atol=ROUNDING, rtol=0
            )


def test_tiny_config_keeps_variant_identity() -> None:
    for variant in VARIANTS:
        config = tiny_config(variant)
        assert config.codebook_size == variant.network.codebook_size
