"""Faces per second by batch size, per precision, on one device (the card named in the title).

For each precision the device offers (fp32, bf16 where it computes it, fp16 on CUDA) and each
batch size: faces per second of a full pass (encode + decode, a photo's first result) and of a
slider update (decode only), and the seconds per face of a slider update. The faces are copies
of a real aligned face (the astronaut portrait) with a little noise each, so no two are alike.
On the CPU the app decodes one face at a time (`core.pipeline.batch_size`): this shows why.

    python -m bench.throughput [--device cuda] [--batches 1,2,4,8] [--quick] [--repeats N]
                               [--out bench/results/throughput-cuda.md]

Not part of `bench.run_all` (the issue's CPU figures); run it on a GPU machine to record that
card's figures.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

import torch

from bench.common import (
    BenchResult,
    Scale,
    Table,
    add_common_args,
    cpu_model,
    measure,
    scale_from_args,
    seconds_text,
    setup_torch,
    show,
    synthetic_weights,
)
from bench.precision import FIDELITY, aligned_face
from core.memory import keep_freed_memory

CPU_BATCHES = (1, 2)
GPU_BATCHES = (1, 2, 4, 8)


def device_name(device: torch.device) -> str:
    """The card (CUDA), or the processor, that the figures belong to."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return "Apple GPU (MPS)"
    return cpu_model()


def precisions(device: torch.device) -> tuple[str, ...]:
    from core.device import candidate_precisions

    return candidate_precisions(device)


def faces(batch: int, size: int) -> torch.Tensor:
    """`batch` slightly different copies of the aligned test face: B x 3 x S x S in [-1, 1]."""
    face = aligned_face(size)
    noise = torch.randn(batch, 3, size, size, generator=torch.Generator().manual_seed(batch))
    return (face + 0.02 * noise).clamp(-1, 1)


def _synced(device: torch.device, value: object) -> object:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()
    return value


def measure_batch(model: Any, x: torch.Tensor, repeats: int) -> tuple[float, float]:
    """Median seconds to encode the batch `x`, and to decode it, after one warm-up pass."""
    device = model.device
    model.decode(model.encode(x), FIDELITY)  # warm-up (kernels, allocator)
    encode, encoded = measure(lambda i: _synced(device, model.encode(x)), repeats=repeats, warmup=0)
    decode, _ = measure(
        lambda i: _synced(device, model.decode(encoded, FIDELITY)), repeats=repeats, warmup=0
    )
    return encode.median, decode.median


def run(
    scale: Scale, workdir: Path, device: str = "cpu", batches: tuple[int, ...] = ()
) -> BenchResult:
    from core.checkpoint import load_network
    from core.device import resolve_placement
    from core.model import CodeFormer

    dev = torch.device(device)
    batches = batches or (GPU_BATCHES if dev.type == "cuda" else CPU_BATCHES)
    checkpoint = synthetic_weights(workdir / "weights", scale.network())
    rows = []
    for precision in precisions(dev):
        net, variant = load_network(checkpoint)
        model = CodeFormer(net, variant, resolve_placement(device, precision))
        for batch in batches:
            encode_seconds, decode_seconds = measure_batch(
                model, faces(batch, model.face_size), scale.repeats
            )
            rows.append(
                (
                    precision,
                    str(batch),
                    f"{batch / (encode_seconds + decode_seconds):.2f}",
                    f"{batch / decode_seconds:.2f}",
                    seconds_text(decode_seconds / batch),
                )
            )
    table = Table(
        title=f"Throughput by batch size, {device_name(dev)} ({scale.label})",
        columns=(
            "precision",
            "batch",
            "faces/s, full pass (encode + decode)",
            "faces/s, slider update (decode)",
            "slider update per face",
        ),
        rows=tuple(rows),
        notes=(
            f"Median of {scale.repeats}; each batch warmed up once first. Encoding runs in fp32 "
            "at every precision (same codes); the precision applies to the decode.",
            f"Device: {dev.type}, {device_name(dev)}; torch {torch.__version__}.",
        ),
    )
    return BenchResult(name="throughput", tables=(table,))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(parser)
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda or mps")
    parser.add_argument(
        "--batches",
        type=lambda text: tuple(int(b) for b in text.split(",")),
        default=(),
        help="batch sizes, comma-separated (default: 1,2 on the CPU, 1,2,4,8 on a GPU)",
    )
    parser.add_argument("--out", type=Path, help="also write the table (markdown) to this file")
    args = parser.parse_args(argv)
    setup_torch(args.threads)
    keep_freed_memory()
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as folder:
        result = run(scale_from_args(args), Path(folder), args.device, args.batches)
    show(result)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(result.markdown(), encoding="utf-8")


if __name__ == "__main__":
    main()
