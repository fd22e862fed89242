"""Small helpers shared by the benchmarks: timing, synthetic photos, weights, tables, machine.

Photos are made by tiling the test portraits (`tests/data/testdata`) into a 4:3 canvas of the
wanted size, each cell holding one face; the faces' landmarks are scaled and shifted with them,
so both pipelines are given exactly the same faces. Checkpoints are random weights in the
official layout (`core.synthetic`): timing does not depend on the values of the weights.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import math
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
TESTDATA = REPO / "tests" / "data" / "testdata"
RESULTS = REPO / "bench" / "results"

PORTRAITS = ("astronaut.png", "grace_hopper.jpg")


# -- scale of a run ----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Scale:
    """How big a run is. `quick` uses a tiny network (64 px faces) and one repeat."""

    quick: bool
    repeats: int  # timed repeats of the one-face cases (median reported)
    repeats_many: int  # timed repeats of the cases with several faces
    warmup: int

    @property
    def label(self) -> str:
        return "quick: tiny network, 64 px faces" if self.quick else "full: official 512 network"

    def network(self) -> Any:
        """The NetworkConfig of the run: tiny for --quick, else the official full size."""
        from core.net.config import RESTORATION, tiny_config

        return tiny_config(RESTORATION) if self.quick else RESTORATION.network


def scale_from_args(args: argparse.Namespace) -> Scale:
    if args.quick:
        return Scale(quick=True, repeats=args.repeats or 2, repeats_many=1, warmup=1)
    return Scale(quick=False, repeats=args.repeats or 3, repeats_many=1, warmup=1)


def add_common_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--quick", action="store_true", help="tiny network and few repeats (to try the benchmark)"
    )
    parser.add_argument(
        "--repeats", type=int, default=0, help="timed repeats per one-face case (median)"
    )
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: all cores)")


def add_cases_arg(parser: argparse.ArgumentParser, default: tuple[tuple[float, int], ...]) -> None:
    """`--cases 1x1,12x4`: the photos to run, as megapixels x faces."""

    def parse(text: str) -> tuple[tuple[float, int], ...]:
        cases = []
        for item in text.split(","):
            mp, _, faces = item.strip().partition("x")
            cases.append((float(mp), int(faces)))
        return tuple(cases)

    parser.add_argument(
        "--cases",
        type=parse,
        default=default,
        help="photos as MEGAPIXELSxFACES, comma-separated (default: "
        + ",".join(f"{mp:g}x{k}" for mp, k in default)
        + ")",
    )


def setup_torch(threads: int = 0) -> int:
    """Set torch's thread count (0: all cores) and return it."""
    import torch

    torch.set_num_threads(threads or os.cpu_count() or 1)
    return torch.get_num_threads()


# -- timing ------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Timing:
    """Wall-clock seconds of the timed repeats (warm-up runs excluded)."""

    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def best(self) -> float:
        return min(self.samples)

    def text(self) -> str:
        return seconds_text(self.median)


def measure(fn: Callable[[int], object], *, repeats: int, warmup: int = 1) -> tuple[Timing, object]:
    """Run `fn(i)` `warmup` times untimed, then `repeats` times timed; return the timing and
    the last result. `i` counts all calls (warm-up included), so callers can vary the input
    (a new fidelity per call) and nothing can be served from a cache by accident."""
    result: object = None
    call = 0
    for _ in range(warmup):
        result = fn(call)
        call += 1
    samples = []
    for _ in range(max(1, repeats)):
        gc.collect()
        started = time.perf_counter()
        result = fn(call)
        samples.append(time.perf_counter() - started)
        call += 1
    return Timing(samples=tuple(samples)), result


def fidelity_for(call: int) -> float:
    """A different fidelity for each call, as a slider moving over its range would give."""
    return round(0.1 + (0.37 * call) % 0.8, 2)


def seconds_text(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def ratio(baseline: float, ours: float) -> float:
    return baseline / ours if ours > 0 else math.inf


def ratio_text(value: float) -> str:
    return f"{value:.1f}x" if value < 100 else f"{value:.0f}x"


# -- synthetic photos --------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SyntheticPhoto:
    """A photo file made of tiled portraits, and its faces.

    `landmarks`: one 5 x 2 float32 array (x, y in pixels of the file) per face;
    `boxes`: x1, y1, x2, y2 per face.
    """

    path: Path
    width: int
    height: int
    landmarks: tuple[np.ndarray, ...]
    boxes: tuple[tuple[float, float, float, float], ...]

    @property
    def megapixels(self) -> float:
        return self.width * self.height / 1e6

    @property
    def faces(self) -> int:
        return len(self.landmarks)


def photo_size(megapixels: float) -> tuple[int, int]:
    """Width and height of a 4:3 photo of about `megapixels` million pixels."""
    width = round(math.sqrt(megapixels * 1e6 * 4 / 3))
    return width, round(width * 3 / 4)


def _grid(faces: int) -> tuple[int, int]:
    cols = max(1, math.ceil(math.sqrt(faces * 4 / 3)))
    rows = max(1, math.ceil(faces / cols))
    return cols, rows


def synthesize_photo(
    folder: Path, megapixels: float, faces: int, *, suffix: str = ".jpg", quality: int = 92
) -> SyntheticPhoto:
    """Write a 4:3 photo of `megapixels` MP holding `faces` faces (tiled test portraits).

    Each face gets its own cell of a grid; a portrait is scaled to cover the cell and centred;
    its landmarks follow. Unused cells are a smooth grey gradient (no face in them). The file is
    a JPEG (quality 92) unless `suffix` says otherwise.
    """
    if faces < 1:
        raise ValueError("a benchmark photo needs at least one face")
    known = json.loads((TESTDATA / "faces.json").read_text())
    width, height = photo_size(megapixels)
    cols, rows = _grid(faces)
    gradient = np.linspace(90, 160, width, dtype=np.float32)[None, :, None]
    canvas = np.broadcast_to(gradient, (height, width, 3)).astype(np.uint8).copy()
    landmarks: list[np.ndarray] = []
    boxes: list[tuple[float, float, float, float]] = []
    for index in range(faces):
        name = PORTRAITS[index % len(PORTRAITS)]
        portrait = cv2.imread(str(TESTDATA / name), cv2.IMREAD_COLOR)
        if portrait is None:
            raise FileNotFoundError(TESTDATA / name)
        face = known[name]["faces"][0]
        col, row = index % cols, index // cols
        x0, x1 = col * width // cols, (col + 1) * width // cols
        y0, y1 = row * height // rows, (row + 1) * height // rows
        cw, ch = x1 - x0, y1 - y0
        ph, pw = portrait.shape[:2]
        s = max(cw / pw, ch / ph)
        rw, rh = max(cw, round(pw * s)), max(ch, round(ph * s))
        resized = cv2.resize(
            portrait, (rw, rh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC
        )
        ox, oy = (rw - cw) // 2, (rh - ch) // 2
        canvas[y0:y1, x0:x1] = resized[oy : oy + ch, ox : ox + cw]
        sx, sy = rw / pw, rh / ph
        points = np.asarray(face["landmarks5"], dtype=np.float64)
        points = points * (sx, sy) - (ox, oy) + (x0, y0)
        landmarks.append(points.astype(np.float32))
        bx1, by1, bx2, by2 = face["box"][:4]
        boxes.append(
            (bx1 * sx - ox + x0, by1 * sy - oy + y0, bx2 * sx - ox + x0, by2 * sy - oy + y0)
        )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"photo_{megapixels:g}mp_{faces}faces{suffix}"
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if suffix in (".jpg", ".jpeg") else []
    # the same arguments give the same pixels: a file already written by this run is reused
    if not path.exists() and not cv2.imwrite(str(path), canvas, params):
        raise OSError(f"could not write {path}")
    return SyntheticPhoto(
        path=path, width=width, height=height, landmarks=tuple(landmarks), boxes=tuple(boxes)
    )


def given_faces(photo: SyntheticPhoto) -> Any:
    """The photo's faces as our pipeline's injected detector (`core.faces.detection.GivenFaces`)."""
    from core.faces.detection import DetectedFace, GivenFaces

    return GivenFaces(
        [
            DetectedFace(box=box, score=1.0, landmarks=points)
            for box, points in zip(photo.boxes, photo.landmarks, strict=True)
        ]
    )


def synthetic_weights(folder: Path, network: Any, seed: int = 0) -> Path:
    """A random checkpoint in the official layout: `folder/codeformer.pth`."""
    from core.synthetic import write_checkpoint

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "codeformer.pth"
    if not path.exists():
        write_checkpoint(path, network, seed=seed)
    return path


# -- results -----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    notes: tuple[str, ...] = ()

    def markdown(self) -> str:
        lines = [f"### {self.title}", ""]
        lines.append("| " + " | ".join(self.columns) + " |")
        lines.append("| " + " | ".join("---" for _ in self.columns) + " |")
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        if self.notes:
            lines.append("")
            lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines) + "\n"


@dataclass(frozen=True, kw_only=True)
class Target:
    """A target of the issue and whether this run met it."""

    name: str
    goal: str
    measured: str
    met: bool


@dataclass(frozen=True, kw_only=True)
class Bar:
    """One pair of bars for the plot: the baseline and ours, in seconds."""

    label: str
    baseline: float
    ours: float


@dataclass(frozen=True, kw_only=True)
class BenchResult:
    name: str
    tables: tuple[Table, ...] = ()
    targets: tuple[Target, ...] = ()
    bars: tuple[Bar, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def markdown(self) -> str:
        return "\n".join(t.markdown() for t in self.tables)


def show(result: BenchResult) -> None:
    """Print a benchmark's tables and targets (markdown) to stdout."""
    print(result.markdown())
    for target in result.targets:
        mark = "MET" if target.met else "NOT MET"
        print(f"target {target.name}: {target.goal}; measured {target.measured}: {mark}")
    print(flush=True)


# -- the machine -------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict[str, str]:
    import torch

    from core.device import cpu_has_fast_bf16

    info = {
        "CPU": cpu_model(),
        "cores (os.cpu_count)": str(os.cpu_count()),
        "torch": torch.__version__,
        "torch threads": str(torch.get_num_threads()),
        "CPU bf16 (AVX512-BF16/AMX)": "yes" if cpu_has_fast_bf16() else "no",
        "CUDA": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none",
        "Python": platform.python_version(),
        "OS": platform.platform(),
    }
    with contextlib.suppress(OSError):
        info["load average at start"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return info


def table_rows(rows: Sequence[Sequence[object]]) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(str(cell) for cell in row) for row in rows)
