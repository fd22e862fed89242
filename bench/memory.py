"""Peak memory for a big photo with many faces (24 MP, 10 faces) through analyze + render.

Runs in a fresh subprocess, so the peak belongs to this work alone: the process's RSS high-water
mark (Linux `VmHWM`; `resource.getrusage` elsewhere; see `_rss_high_water`) after importing
torch and loading the model,
and after read + analyze + render; plus tracemalloc's peak of Python-side allocations (numpy
arrays included) during read + analyze + render.

    python -m bench.memory [--quick] [--megapixels 24] [--faces 10] [--precision auto]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import (
    REPO,
    BenchResult,
    Scale,
    Table,
    Target,
    add_common_args,
    scale_from_args,
    show,
    synthesize_photo,
    synthetic_weights,
)

LIMIT_GB = 6.0
GB = 1024**3


def _rss_high_water() -> int:
    """Bytes of this process's RSS high-water mark.

    Linux: `VmHWM` of /proc/self/status, the peak of this process's own memory map.
    `getrusage(RUSAGE_SELF).ru_maxrss` is not used there: Linux carries the RSS the process had
    before `exec` into it, so a child forked from a big parent would report the parent's size.
    Elsewhere: `ru_maxrss` (macOS reports bytes).
    """
    import resource

    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def child(photo_json: str, checkpoint: str, precision: str, threads: int) -> dict[str, object]:
    """The measured work, in this (fresh) process: load, then read + analyze + render."""
    import time
    import tracemalloc

    import torch

    from bench.common import SyntheticPhoto
    from bench.ours import OurPipeline
    from core.memory import keep_freed_memory

    torch.set_num_threads(threads or os.cpu_count() or 1)
    keep_freed_memory()  # as the app does at start-up
    data = json.loads(photo_json)
    import numpy as np

    photo = SyntheticPhoto(
        path=Path(data["path"]),
        width=data["width"],
        height=data["height"],
        landmarks=tuple(np.asarray(p, dtype=np.float32) for p in data["landmarks"]),
        boxes=tuple(tuple(b) for b in data["boxes"]),
    )
    ours = OurPipeline.load(Path(checkpoint), precision)
    after_load = _rss_high_water()
    tracemalloc.start()
    started = time.perf_counter()
    analysis = ours.analyze(photo)
    analyzed = time.perf_counter()
    rendered = ours.render(analysis, 0.5)
    finished = time.perf_counter()
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    encoded = sum(face.encoded.nbytes() for face in analysis.faces)
    return {
        "rss_after_load": after_load,
        "rss_peak": _rss_high_water(),
        "traced_peak": traced_peak,
        "encoded_bytes": encoded,
        "background_bytes": int(analysis.background.nbytes),
        "image_shape": list(rendered.image.shape),
        "faces": len(analysis.faces),
        "analyze_s": analyzed - started,
        "render_s": finished - analyzed,
        "precision": ours.precision,
    }


def child_baseline(photo_json: str, checkpoint: str, threads: int) -> dict[str, object]:
    """The reference's run of the same photo, in this (fresh) process."""
    import time

    import numpy as np
    import torch

    from bench.baseline import ReferencePipeline
    from core.checkpoint import load_network

    torch.set_num_threads(threads or os.cpu_count() or 1)
    data = json.loads(photo_json)
    reference = ReferencePipeline(load_network(Path(checkpoint))[0])
    after_load = _rss_high_water()
    started = time.perf_counter()
    reference.restore(
        Path(data["path"]),
        [np.asarray(p, dtype=np.float32) for p in data["landmarks"]],
        data["boxes"],
        0.5,
    )
    return {
        "rss_after_load": after_load,
        "rss_peak": _rss_high_water(),
        "seconds": time.perf_counter() - started,
    }


def _in_child(code: str, *args: str) -> dict[str, object]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.getcwd(), str(REPO)]))
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"the memory benchmark's child failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def run(
    scale: Scale,
    workdir: Path,
    *,
    megapixels: float = 24.0,
    faces: int = 10,
    precision: str = "auto",
    threads: int = 0,
    baseline: bool = False,
) -> BenchResult:
    checkpoint = synthetic_weights(workdir / "weights", scale.network())
    photo = synthesize_photo(workdir / "photos", megapixels, faces)
    photo_json = json.dumps(
        {
            "path": str(photo.path),
            "width": photo.width,
            "height": photo.height,
            "landmarks": [p.tolist() for p in photo.landmarks],
            "boxes": [list(b) for b in photo.boxes],
        }
    )
    code = (
        "import json, sys; from bench.memory import child; "
        "print(json.dumps(child(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))))"
    )
    figures = _in_child(code, photo_json, str(checkpoint), precision, str(threads))
    peak_gb = figures["rss_peak"] / GB
    rows: tuple[tuple[str, str], ...] = (
        ("RSS after import + model load", f"{figures['rss_after_load'] / GB:.2f} GB"),
        ("RSS peak (load + read + analyze + render)", f"{peak_gb:.2f} GB"),
        (
            "Python/numpy peak during the work (tracemalloc)",
            f"{figures['traced_peak'] / GB:.2f} GB",
        ),
        ("encoded faces kept in the analysis", f"{figures['encoded_bytes'] / 2**20:.0f} MB"),
        ("background kept in the analysis", f"{figures['background_bytes'] / 2**20:.0f} MB"),
        ("analyze / render time", f"{figures['analyze_s']:.1f} s / {figures['render_s']:.1f} s"),
    )
    notes = [
        "A fresh subprocess per run; RSS high-water: VmHWM of /proc/self/status (Linux). Ours "
        "sets its allocator up as the app does (core.memory.keep_freed_memory)."
    ]
    if baseline:
        code = (
            "import json, sys; from bench.memory import child_baseline; "
            "print(json.dumps(child_baseline(sys.argv[1], sys.argv[2], int(sys.argv[3]))))"
        )
        theirs = _in_child(code, photo_json, str(checkpoint), str(threads))
        rows += (
            ("baseline: RSS after import + model load", f"{theirs['rss_after_load'] / GB:.2f} GB"),
            (
                "baseline: RSS peak (one fp32 run at fidelity 0.5)",
                f"{theirs['rss_peak'] / GB:.2f} GB",
            ),
        )
    else:
        notes.append("The baseline's peak is not measured in this run (--baseline measures it).")
    table = Table(
        title=(
            f"Peak memory: {photo.megapixels:.0f} MP photo ({photo.width} x {photo.height}), "
            f"{figures['faces']} faces, {figures['precision']} ({scale.label})"
        ),
        columns=("what", "measured"),
        rows=rows,
        notes=tuple(notes),
    )
    target = Target(
        name=f"peak memory, {photo.megapixels:.0f} MP + {figures['faces']} faces",
        goal=f"< {LIMIT_GB:g} GB",
        measured=f"{peak_gb:.2f} GB",
        met=peak_gb < LIMIT_GB,
    )
    return BenchResult(name="memory", tables=(table,), targets=(target,), extra=figures)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(parser)
    parser.add_argument("--megapixels", type=float, default=24.0)
    parser.add_argument("--faces", type=int, default=10)
    parser.add_argument("--precision", default="auto", help="auto (the app's default), fp32, bf16")
    parser.add_argument("--baseline", action="store_true", help="also measure the reference")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as folder:
        result = run(
            scale_from_args(args),
            Path(folder),
            megapixels=args.megapixels,
            faces=args.faces,
            precision=args.precision,
            threads=args.threads,
            baseline=args.baseline or args.quick,
        )
        show(result)


if __name__ == "__main__":
    main()
