"""`codeformer-studio restore`: a batch of photos, on past a broken file, with a summary."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from tqdm import tqdm

from core.cli.parser import TASKS
from core.errors import StudioError

if TYPE_CHECKING:
    from core.choices import PipelineSettings
    from core.engine import Engine
    from core.photo import Photo

log = logging.getLogger(__name__)

TASK_OF_VARIANT = {variant: task for task, variant in TASKS.items()}


@dataclass(frozen=True, kw_only=True)
class Outcome:
    source: Path
    status: str  # "done", "skipped", "failed"
    detail: str
    output: Path | None = None


def run_restore(args: argparse.Namespace) -> int:
    from core.engine import Engine
    from core.photo_io import iter_photos

    if args.fidelity is not None and not 0.0 <= args.fidelity <= 1.0:
        raise StudioError(f"--fidelity must be between 0 and 1, got {args.fidelity}")
    if not 1 <= args.quality <= 100:
        raise StudioError(f"--quality must be between 1 and 100, got {args.quality}")
    missing_inputs = [p for p in args.inputs if not p.exists()]
    if missing_inputs:
        raise StudioError("no such file or folder: " + ", ".join(map(str, missing_inputs)))
    photos = list(iter_photos(args.inputs, recursive=args.recursive))
    if not photos:
        raise StudioError("no photos found in " + ", ".join(map(str, args.inputs)))
    if args.mask is not None and len(photos) != 1:
        raise StudioError("--mask goes with exactly one input photo")

    settings = _pipeline_settings(args)
    from core.memory import keep_freed_memory

    keep_freed_memory()  # this process runs the network many times: reuse its memory
    engine = Engine(weights_dir=weights_folder(args), device=args.device, precision=args.precision)
    variant = _variant(args, engine)
    if args.mask is not None and variant != "inpainting":
        raise StudioError("--mask is only used with --task inpaint")
    landmarks = _read_landmarks(args.landmarks) if args.landmarks is not None else {}
    all_given = all(p.name in landmarks for p in photos)
    missing = engine.missing_weights(variant, settings, given_faces=all_given)
    if missing:
        lines = [f"  {f.key}: {f.filename} ({f.size_text}, {f.licence})" for f in missing]
        raise StudioError(
            f"weights missing from {engine.weights_dir}:\n"
            + "\n".join(lines)
            + "\nFetch them with: codeformer-studio weights download "
            + " ".join(f.key for f in missing)
            + "\nor use files you have: codeformer-studio weights import KEY FILE"
            + ("" if any(f.kind != "codeformer" for f in missing) else " (or --model FILE)")
        )
    print(
        f"CodeFormer Studio: {len(photos)} photo(s), task {TASK_OF_VARIANT[variant]}, "
        f"model {engine.model_name(variant)}, on {engine.device_description}",
        file=sys.stderr,
    )
    parsing = engine.parsing_missing(settings)
    if parsing is not None:
        print(
            f"note: {parsing.filename} is not downloaded: faces are blended with a soft square "
            f"(codeformer-studio weights download {parsing.key})",
            file=sys.stderr,
        )
    args.output.mkdir(parents=True, exist_ok=True)
    software = engine.provenance(variant)
    outcomes = []
    with tqdm(
        total=len(photos),
        unit="photo",
        file=sys.stderr,
        disable=args.quiet or not sys.stderr.isatty(),
        dynamic_ncols=True,
    ) as bar:
        for source in photos:
            bar.set_postfix_str(source.name[:40], refresh=False)
            job = _Job(args=args, engine=engine, settings=settings, variant=variant)
            outcomes.append(_restore_one(source, job, landmarks, software))
            if outcomes[-1].status == "failed":
                log.debug("failed: %s", outcomes[-1].detail)
            bar.update(1)
    return _summarise(outcomes)


def _pipeline_settings(args: argparse.Namespace) -> PipelineSettings:
    from core.pipeline import PipelineSettings

    return PipelineSettings(
        detector=args.detector,
        confidence=args.confidence,
        min_eye_distance=args.min_face,
        only_center_face=args.only_center_face,
        upscale=args.upscale,
        background=args.background,
        face_upsample=args.face_upsample,
        paste_mask=args.paste_mask,
        aligned=args.aligned,
    )


def _variant(args: argparse.Namespace, engine: Engine) -> str:
    """The variant to run: --task's, or with --model the model's own (which --task must match)."""
    if args.model is None:
        return TASKS[args.task or "restore"]
    variant = engine.use_model_file(args.model).name
    if args.task is not None and TASKS[args.task] != variant:
        raise StudioError(
            f"{args.model} is a CodeFormer {variant} model: it cannot {args.task}. Use "
            f"--task {TASK_OF_VARIANT[variant]}, or a {TASKS[args.task]} model."
        )
    return variant


@dataclass(frozen=True, kw_only=True)
class _Job:
    """What every photo of one batch shares."""

    args: argparse.Namespace
    engine: Engine
    settings: PipelineSettings
    variant: str


def _restore_one(source: Path, job: _Job, landmarks: dict[str, object], software: str) -> Outcome:
    from core.errors import ImageWriteError
    from core.faces.detection import GivenFaces, faces_from_json
    from core.photo_io import next_free_path, output_path, read_photo, write_photo

    args, engine = job.args, job.engine
    fmt = None if args.format == "same" else args.format
    try:
        photo = read_photo(source)
        target = output_path(
            source, args.output, suffix=args.suffix, format=fmt or _format_of(photo)
        )
        if target.exists():
            if args.existing == "skip":
                return Outcome(
                    source=source,
                    status="skipped",
                    detail=f"{target} exists (use --existing overwrite or rename)",
                )
            if args.existing == "rename":
                target = next_free_path(target)
        mask = _read_mask(args.mask, photo) if args.mask is not None else None
        given = (
            GivenFaces(faces_from_json(landmarks, source.name))
            if source.name in landmarks
            else None
        )
        analysis = engine.analyze(
            photo, job.settings, variant=job.variant, mask=mask, detector=given
        )
        rendered = engine.render(analysis, args.fidelity)
        written = write_photo(
            target,
            rendered.image,
            alpha=rendered.alpha,
            like=photo,
            quality=args.quality,
            overwrite=args.existing == "overwrite",
            software=software,
        )
        notes = "; ".join(analysis.notices)
        faces = len(analysis.faces)
        detail = f"{faces} face(s)" + (f"; {notes}" if notes else "")
        return Outcome(source=source, status="done", detail=detail, output=written)
    except ImageWriteError as exc:
        return Outcome(source=source, status="failed", detail=str(exc))
    except StudioError as exc:
        return Outcome(source=source, status="failed", detail=str(exc))
    except (ValueError, OSError, MemoryError) as exc:
        return Outcome(source=source, status="failed", detail=f"{type(exc).__name__}: {exc}")


def _format_of(photo: Photo) -> str:
    fmt = (photo.format or "PNG").upper()
    return {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "TIFF": "tiff"}.get(fmt, "png")


def _read_mask(path: Path, photo: Photo) -> np.ndarray:
    """H x W bool, true where the mask image is light (the damage to fill)."""
    from core.photo_io import read_photo

    mask_photo = read_photo(path)
    if (mask_photo.width, mask_photo.height) != (photo.width, photo.height):
        raise StudioError(
            f"{path}: the mask is {mask_photo.width}x{mask_photo.height}, the photo "
            f"{photo.width}x{photo.height}: they must be the same size"
        )
    return np.asarray(mask_photo.rgb8()).max(axis=2) >= 128


def weights_folder(args: argparse.Namespace) -> Path:
    """--weights-dir when given, else $CODEFORMER_STUDIO_WEIGHTS, else the user folder."""
    from core.weights.folder import weights_dir

    return Path(args.weights_dir) if args.weights_dir is not None else weights_dir()


def _read_landmarks(path: Path) -> dict[str, object]:
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StudioError(f"{path}: cannot read landmarks: {exc}") from exc
    if not isinstance(data, dict):
        raise StudioError(f"{path}: landmarks must be a JSON object keyed by file name")
    return {k: v for k, v in data.items() if not k.startswith("_")}


def _summarise(outcomes: Sequence[Outcome]) -> int:
    for o in outcomes:
        arrow = f" -> {o.output}" if o.output else ""
        print(f"{o.status:8} {o.source}{arrow}: {o.detail}")
    counts = {s: sum(1 for o in outcomes if o.status == s) for s in ("done", "skipped", "failed")}
    print(f"{counts['done']} restored, {counts['skipped']} skipped, {counts['failed']} failed")
    return 1 if counts["failed"] else 0
