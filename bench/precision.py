"""Precision and memory layout: time per face and the difference each makes against fp32.

Configurations: fp32 (contiguous NCHW, as the reference runs), fp32 + channels_last, bf16 and
bf16 + channels_last (where the CPU or GPU computes bf16), fp16 + channels_last (CUDA only).
For each: a full pass per face (encode + decode) and a slider update per face (decode only),
batch 1, and the output's mean and max absolute difference against plain fp32 on the [0, 255]
scale. Input: a real aligned face (the astronaut portrait). Also prints what
`core.device.measure_fastest_precision` (the start-up decision) picks on this machine.

    python -m bench.precision [--quick] [--repeats N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
import torch

from bench.common import (
    REPO,
    TESTDATA,
    BenchResult,
    Scale,
    Table,
    add_common_args,
    measure,
    ratio_text,
    scale_from_args,
    seconds_text,
    setup_torch,
    show,
    synthetic_weights,
)
from core.memory import keep_freed_memory

FIDELITY = 0.5


def configurations(device: torch.device) -> list[tuple[str, str, bool]]:
    """(label, precision, channels_last) worth measuring on `device`."""
    from core.device import bf16_supported

    found = [("fp32", "fp32", False), ("fp32 + channels_last", "fp32", True)]
    if bf16_supported(device):
        found += [("bf16", "bf16", False), ("bf16 + channels_last", "bf16", True)]
    if device.type == "cuda":
        found.append(("fp16 + channels_last", "fp16", True))
    return found


def aligned_face(size: int) -> torch.Tensor:
    """The astronaut's face aligned to the template: 1 x 3 x S x S float RGB in [-1, 1]."""
    import json

    from core.faces.alignment import alignment_matrix, warp_face

    rgb = cv2.cvtColor(cv2.imread(str(TESTDATA / "astronaut.png")), cv2.COLOR_BGR2RGB)
    landmarks = json.loads((TESTDATA / "faces.json").read_text())["astronaut.png"]["faces"][0]
    crop = warp_face(rgb, alignment_matrix(np.asarray(landmarks["landmarks5"]), size), size)
    return torch.from_numpy(crop).permute(2, 0, 1)[None].float().div(127.5).sub(1.0)


def _synced(device: torch.device, value: object) -> object:
    """`value`, once the device has finished computing it (CUDA runs asynchronously)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return value


def measure_configuration(
    checkpoint: Path, device: torch.device, precision: str, channels_last: bool, repeats: int
) -> tuple[float, float, torch.Tensor]:
    """(full pass, decode) median seconds per face and the output (1 x 3 x S x S on [0, 255])."""
    from core.checkpoint import load_network
    from core.device import Placement
    from core.model import CodeFormer

    net, variant = load_network(checkpoint)  # a fresh copy: layouts are set in place
    placement = Placement(device=device, precision=precision, channels_last=channels_last)
    model = CodeFormer(net, variant, placement)
    x = aligned_face(model.face_size)
    model.decode(model.encode(x), FIDELITY)  # warm-up
    encode_t, encoded = measure(
        lambda i: _synced(device, model.encode(x)), repeats=repeats, warmup=0
    )
    decode_t, out = measure(
        lambda i: _synced(device, model.decode(encoded, FIDELITY)),  # type: ignore[arg-type]
        repeats=repeats,
        warmup=0,
    )
    image = (out.float().cpu().clamp(-1, 1) + 1) * 127.5  # type: ignore[attr-defined]
    return encode_t.median + decode_t.median, decode_t.median, image


def _child(checkpoint: str, repeats: int, threads: int) -> dict[str, float]:
    """fp32 + channels_last in a plain process (the system's default allocator)."""
    torch.set_num_threads(threads or os.cpu_count() or 1)
    full, decode, _ = measure_configuration(
        Path(checkpoint), torch.device("cpu"), "fp32", True, repeats
    )
    return {"full": full, "decode": decode}


def run(scale: Scale, workdir: Path, device: str = "cpu", *, threads: int = 0) -> BenchResult:
    from core.device import measure_fastest_precision

    dev = torch.device(device)
    checkpoint = synthetic_weights(workdir / "weights", scale.network())
    repeats = scale.repeats
    rows = []
    reference: torch.Tensor | None = None
    base_full = base_decode = 0.0
    for label, precision, channels_last in configurations(dev):
        full, decode, image = measure_configuration(
            checkpoint, dev, precision, channels_last, repeats
        )
        if reference is None:
            reference, base_full, base_decode = image, full, decode
            diff = "reference"
        else:
            delta = (image - reference).abs()
            diff = f"{float(delta.mean()):.3f} / {float(delta.max()):.1f}"
        rows.append(
            (
                label,
                seconds_text(full),
                ratio_text(base_full / full),
                seconds_text(decode),
                ratio_text(base_decode / decode),
                diff,
            )
        )
    if dev.type == "cpu":
        code = (
            "import json, sys; from bench.precision import _child; "
            "print(json.dumps(_child(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))))"
        )
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.getcwd(), str(REPO)]))
        done = subprocess.run(
            [sys.executable, "-c", code, str(checkpoint), str(repeats), str(threads)],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        plain = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append(
            (
                "fp32 + channels_last, default allocator (own process)",
                seconds_text(plain["full"]),
                ratio_text(base_full / plain["full"]),
                seconds_text(plain["decode"]),
                ratio_text(base_decode / plain["decode"]),
                "same as fp32 + channels_last",
            )
        )
    choice = measure_fastest_precision(dev)
    measured = ", ".join(f"{k} {seconds_text(v)}" for k, v in choice.seconds.items())
    table = Table(
        title=f"Precision and layout, per face, batch 1, {dev.type.upper()} ({scale.label})",
        columns=(
            "configuration",
            "full pass (encode + decode)",
            "vs fp32",
            "slider update (decode)",
            "vs fp32",
            "difference vs fp32, mean / max on [0, 255]",
        ),
        rows=tuple(rows),
        notes=(
            f"Median of {repeats}. `encode` (encoder, transformer, code lookup) runs in fp32 at "
            "every precision, so reduced precisions change only the decode: same codes, "
            "rounded pixels.",
            "Rows above the last run in this process, with the allocator set up as the app "
            "does (core.memory.keep_freed_memory); the last row is a fresh plain process.",
            f"Start-up decision (core.device.measure_fastest_precision): {choice.precision} "
            f"({measured} for the probe workload).",
        ),
    )
    return BenchResult(name="precision", tables=(table,), extra={"choice": choice.precision})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(parser)
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    args = parser.parse_args(argv)
    setup_torch(args.threads)
    keep_freed_memory()
    with tempfile.TemporaryDirectory(prefix="bench-precision-") as folder:
        show(run(scale_from_args(args), Path(folder), args.device, threads=args.threads))


if __name__ == "__main__":
    main()
