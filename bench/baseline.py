"""The reference approach, implemented faithfully: what users of the official code get.

This follows the official CodeFormer whole-photo inference (`inference_codeformer.py`) around
facexlib's `FaceRestoreHelper`, step by step, for every fidelity change:

1. a new `FaceRestoreHelper(upscale, face_size=512, crop_ratio=(1, 1),
   det_model="retinaface_resnet50", save_ext="png", use_parse=False)`;
2. `cv2.imread(path, cv2.IMREAD_COLOR)` and `helper.read_image(img)`;
3. the faces: there are no detector weights here, so the given landmarks are put into the
   helper's lists exactly as its `get_face_landmarks_5` would (`all_landmarks_5` gets each 5 x 2
   landmark array, `det_faces` each box and score);
4. `helper.align_warp_face()`;
5. per face, batch 1, fp32: `img2tensor(face / 255., bgr2rgb=True, float32=True)`,
   `normalize(..., 0.5, 0.5)`, `net(x, w, adain=True)` under `torch.no_grad()` (the one-shot
   full forward of our `CodeFormerNet`, the same weights as our side), then basicsr's
   `tensor2img(output, rgb2bgr=True, min_max=(-1, 1))` and `helper.add_restored_face(face)`;
6. `helper.get_inverse_affine(None)` and `helper.paste_faces_to_input_image()` with the helper's
   own square masks (`use_parse=False`: there are no parsing weights here).

The one difference from running the official script: `FaceRestoreHelper.__init__` always loads
RetinaFace and ParseNet, downloading them when absent. Here both loaders are replaced by a stub
that returns None while the helper is built (nothing is downloaded, nothing is loaded), which
makes the baseline a little faster than the real reference, never slower.

The benchmarks time the reference in its own Python process (`measure_reference`), as users run
it: a plain interpreter, no tuning of the memory allocator (our app tunes its own process at
start-up, see `core.memory.keep_freed_memory`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import cv2
import numpy as np
import torch

from bench.common import REPO, Scale, SyntheticPhoto, Timing, fidelity_for, measure


@contextlib.contextmanager
def _no_helper_models() -> Iterator[None]:
    """While a FaceRestoreHelper is built: its detector and parser loaders return None."""
    from facexlib.utils import face_restoration_helper as module

    with (
        mock.patch.object(module, "init_detection_model", return_value=None),
        mock.patch.object(module, "init_parsing_model", return_value=None),
    ):
        yield


def tensor2img(
    tensor: torch.Tensor, rgb2bgr: bool = True, min_max: tuple[int, int] = (-1, 1)
) -> np.ndarray:
    """basicsr's `tensor2img` for one 3 x H x W (or 1 x 3 x H x W) tensor, as the reference
    uses it: clamp, map to [0, 1], HWC, RGB -> BGR, `* 255.0` and round; float32 H x W x 3."""
    t = tensor.squeeze(0).float().detach().cpu().clamp_(*min_max)
    t = (t - min_max[0]) / (min_max[1] - min_max[0])
    img = t.numpy().transpose(1, 2, 0)
    if rgb2bgr:
        img = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    return (img * 255.0).round()


class ReferencePipeline:
    """The reference whole-photo restoration, rerun from the start for every fidelity.

    `net` is a `CodeFormerNet` in fp32 on `device` (contiguous NCHW, as the reference runs it).
    """

    def __init__(self, net: torch.nn.Module, device: torch.device | str = "cpu") -> None:
        self.net = net.to(device).eval()
        self.device = torch.device(device)
        self.face_size = int(net.config.img_size)

    def new_helper(self, upscale: int = 1) -> object:
        from facexlib.utils.face_restoration_helper import FaceRestoreHelper

        with _no_helper_models():
            return FaceRestoreHelper(
                upscale,
                face_size=self.face_size,
                crop_ratio=(1, 1),
                det_model="retinaface_resnet50",
                save_ext="png",
                use_parse=False,
                device=self.device,
            )

    def restore(
        self,
        path: Path,
        landmarks: Sequence[np.ndarray],
        boxes: Sequence[Sequence[float]],
        fidelity: float,
        *,
        upscale: int = 1,
        faces_out: list[np.ndarray] | None = None,
    ) -> np.ndarray:
        """Restore the photo at `path` (faces given by `landmarks`) at `fidelity`.

        Returns the whole photo, H*u x W*u x 3 uint8 BGR, as `paste_faces_to_input_image` does.
        `faces_out`, when given, receives the restored aligned faces (S x S x 3 uint8 BGR).
        """
        from facexlib.utils.misc import img2tensor
        from torchvision.transforms.functional import normalize

        helper = self.new_helper(upscale)
        img = cv2.imread(str(path), cv2.IMREAD_COLOR)
        helper.read_image(img)
        # what get_face_landmarks_5 does with each detection row (box, score, 10 coordinates)
        for points, box in zip(landmarks, boxes, strict=True):
            helper.all_landmarks_5.append(np.asarray(points, dtype=np.float32).reshape(5, 2))
            helper.det_faces.append(np.array([*box[:4], 1.0], dtype=np.float32))
        helper.align_warp_face()

        for cropped_face in helper.cropped_faces:
            face_t = img2tensor(cropped_face / 255.0, bgr2rgb=True, float32=True)
            normalize(face_t, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5), inplace=True)
            face_t = face_t.unsqueeze(0).to(self.device)
            with torch.no_grad():
                output = self.net(face_t, fidelity, adain=True)
                restored = tensor2img(output, rgb2bgr=True, min_max=(-1, 1))
            del output
            if self.device.type == "cuda":
                torch.cuda.empty_cache()
            restored = restored.astype("uint8")
            helper.add_restored_face(restored)
            if faces_out is not None:
                faces_out.append(restored)

        helper.get_inverse_affine(None)
        return helper.paste_faces_to_input_image(upsample_img=None)


# -- timing the reference in its own process ---------------------------------------------------


def reference_jobs(
    scale: Scale,
    photos: Sequence[SyntheticPhoto],
    *,
    fidelity: float | None = None,
    keep: bool = False,
) -> list[ReferenceJob]:
    """One job per photo: the scale's repeats (fewer for photos with several faces), and the
    warm-up before the first photo only (the reference runs batch 1 whatever the faces)."""
    return [
        ReferenceJob(
            photo=photo,
            repeats=scale.repeats if photo.faces == 1 else scale.repeats_many,
            warmup=scale.warmup if n == 0 else 0,
            fidelity=fidelity,
            keep=keep,
        )
        for n, photo in enumerate(photos)
    ]


@dataclass(frozen=True, kw_only=True)
class ReferenceJob:
    """One photo to time: `warmup` untimed runs, then `repeats` timed ones.

    `fidelity` None: a new fidelity for every run (`fidelity_for`), as a slider gives; else
    that fixed value. `keep`: bring back the last run's photo and restored faces.
    """

    photo: SyntheticPhoto
    repeats: int
    warmup: int
    fidelity: float | None = None
    keep: bool = False


@dataclass(frozen=True, kw_only=True)
class ReferenceResult:
    """A job's timing; with `keep`, the last photo (H x W x 3 uint8 BGR) and restored faces."""

    timing: Timing
    image: np.ndarray | None = None
    faces: tuple[np.ndarray, ...] = ()


def measure_reference(
    checkpoint: Path, jobs: Sequence[ReferenceJob], workdir: Path, *, threads: int = 0
) -> list[ReferenceResult]:
    """Time the reference on each job, in one fresh Python process (model loaded once)."""
    workdir.mkdir(parents=True, exist_ok=True)
    request = workdir / "reference_jobs.json"
    request.write_text(
        json.dumps(
            {
                "checkpoint": str(checkpoint),
                "threads": threads,
                "jobs": [
                    {
                        "path": str(job.photo.path),
                        "landmarks": [p.tolist() for p in job.photo.landmarks],
                        "boxes": [list(b) for b in job.photo.boxes],
                        "repeats": job.repeats,
                        "warmup": job.warmup,
                        "fidelity": job.fidelity,
                        "keep": str(workdir / f"reference_{n}.npz") if job.keep else None,
                    }
                    for n, job in enumerate(jobs)
                ],
            }
        )
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.getcwd(), str(REPO)]))
    done = subprocess.run(
        [sys.executable, "-m", "bench.baseline", "--child", str(request)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the reference's process failed:\n{done.stderr[-3000:]}")
    answers = json.loads(done.stdout.strip().splitlines()[-1])
    results = []
    for answer in answers:
        image, faces = None, ()
        if answer["keep"]:
            with np.load(answer["keep"]) as kept:
                image = kept["image"]
                faces = tuple(kept[f"face{i}"] for i in range(int(kept["count"])))
        results.append(
            ReferenceResult(
                timing=Timing(samples=tuple(answer["samples"])), image=image, faces=faces
            )
        )
    return results


def _child(request_path: Path) -> list[dict[str, object]]:
    """In the reference's own process: load the network, run the jobs, report the timings."""
    from core.checkpoint import load_network

    request = json.loads(request_path.read_text())
    torch.set_num_threads(request["threads"] or os.cpu_count() or 1)
    reference = ReferencePipeline(load_network(Path(request["checkpoint"]))[0])
    answers = []
    for job in request["jobs"]:
        landmarks = [np.asarray(p, dtype=np.float32) for p in job["landmarks"]]
        faces: list[np.ndarray] = []

        def run(
            i: int, job: dict = job, landmarks: list = landmarks, faces: list = faces
        ) -> object:
            faces.clear()
            w = fidelity_for(i) if job["fidelity"] is None else job["fidelity"]
            return reference.restore(Path(job["path"]), landmarks, job["boxes"], w, faces_out=faces)

        timing, image = measure(run, repeats=job["repeats"], warmup=job["warmup"])
        if job["keep"]:
            arrays = {f"face{i}": face for i, face in enumerate(faces)}
            np.savez(job["keep"], image=np.asarray(image), count=len(faces), **arrays)
        answers.append({"samples": list(timing.samples), "keep": job["keep"]})
    return answers


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="time the reference pipeline (internal)")
    parser.add_argument("--child", type=Path, required=True)
    print(json.dumps(_child(parser.parse_args().child)))
