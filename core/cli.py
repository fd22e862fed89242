"""The command line: `codeformer-studio restore ...` and `codeformer-studio weights ...`.

The only module of the core that prints: to stdout for results, to stderr for progress.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from core.errors import StudioError

if TYPE_CHECKING:
    from core.engine import Engine
    from core.photo import Photo
    from core.pipeline import PipelineSettings
    from core.weights.catalogue import WeightsFile

log = logging.getLogger(__name__)

TASKS = {"restore": "restoration", "colorize": "colorization", "inpaint": "inpainting"}
DETECTORS = {"resnet50": "retinaface_resnet50", "mobile0.25": "retinaface_mobile0.25"}
FORMATS = ("same", "png", "jpg", "webp", "tiff")
EXISTING = ("skip", "overwrite", "rename")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="codeformer-studio",
        description=(
            "Restore faces in old, blurry and damaged photos with CodeFormer. Without a "
            "subcommand, or with photo paths, the window opens."
        ),
    )
    parser.add_argument("--version", action="version", version="CodeFormer Studio 0.1.0")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{restore,weights}")
    _add_restore(
        sub.add_parser(
            "restore",
            help="restore the faces of photos (batch)",
            description="Restore the faces of photos and folders of photos.",
        )
    )
    _add_weights(
        sub.add_parser(
            "weights",
            help="list, download, import and verify weights",
            description="Manage the weights files in the weights folder.",
        )
    )
    return parser


def _add_restore(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", nargs="+", type=Path, help="photos and folders of photos")
    p.add_argument("-r", "--recursive", action="store_true", help="also read sub-folders")
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        default=Path("restored"),
        help="output folder (default: ./restored); never the input file itself",
    )
    p.add_argument(
        "-t",
        "--task",
        choices=sorted(TASKS),
        default="restore",
        help="restore (default), colorize grey or faded faces, or inpaint painted damage",
    )
    p.add_argument(
        "-w",
        "--fidelity",
        type=float,
        default=None,
        help="0 = best quality ... 1 = closest to the input's identity (default 0.5; "
        "colorize and inpaint use their fixed official values)",
    )
    p.add_argument(
        "--mask",
        type=Path,
        default=None,
        help="inpaint: an image the size of the photo, white where the face is damaged "
        "(one input photo only). Without it, pure-white pixels are filled.",
    )
    p.add_argument(
        "--aligned",
        action="store_true",
        help="inputs are already aligned 512x512 face crops: no detection, no paste-back",
    )
    p.add_argument(
        "-s",
        "--upscale",
        type=int,
        default=1,
        choices=[1, 2, 3, 4],
        help="enlarge the whole photo by this factor (default 1)",
    )
    p.add_argument(
        "--background",
        choices=["resize", "realesrgan"],
        default="resize",
        help="how the background is enlarged: a high-quality resize (default) or "
        "Real-ESRGAN (needs its weights)",
    )
    p.add_argument(
        "--face-upsample",
        action="store_true",
        help="also enlarge restored faces with Real-ESRGAN (with --upscale > 1)",
    )
    p.add_argument(
        "--detector",
        choices=sorted(DETECTORS),
        default="resnet50",
        help="RetinaFace backbone: resnet50 (default, accurate) or mobile0.25 (light)",
    )
    p.add_argument(
        "--confidence",
        type=float,
        default=0.8,
        help="minimum face detection confidence (default 0.8)",
    )
    p.add_argument(
        "--min-face",
        type=float,
        default=5.0,
        metavar="PIXELS",
        help="skip faces whose eyes are closer than this many pixels (default 5)",
    )
    p.add_argument(
        "--landmarks",
        type=Path,
        default=None,
        metavar="JSON",
        help="five-point landmarks per file name, in the layout "
        '{"name.jpg": {"faces": [{"box": [x1, y1, x2, y2], "landmarks5": [[x, y], ...]}]}}; '
        "the photos it lists skip detection",
    )
    p.add_argument(
        "--only-center-face",
        action="store_true",
        help="restore only the face nearest the centre of each photo",
    )
    p.add_argument(
        "--paste-mask",
        choices=["parsing", "square"],
        default="parsing",
        help="blend faces with a face-parsing mask (default, falls back to square "
        "without its weights) or a soft square",
    )
    p.add_argument(
        "--device",
        choices=["auto", "cuda", "mps", "cpu"],
        default="auto",
        help="where to run (default auto: CUDA, then Apple MPS, then CPU)",
    )
    p.add_argument(
        "--precision",
        choices=["auto", "fp32", "bf16", "fp16"],
        default="fp32",
        help="numeric precision (default fp32, exact; auto picks bf16/fp16 where fast)",
    )
    p.add_argument(
        "-f",
        "--format",
        choices=FORMATS,
        default="same",
        help="output format (default: the input's own)",
    )
    p.add_argument(
        "-q", "--quality", type=int, default=95, help="JPEG/WebP quality 1-100 (default 95)"
    )
    p.add_argument(
        "--suffix", default="_restored", help="added to output file names (default _restored)"
    )
    p.add_argument(
        "--existing",
        choices=EXISTING,
        default="skip",
        help="when an output file exists: skip it (default), overwrite it, or rename the new one",
    )
    p.add_argument(
        "--weights-dir",
        type=Path,
        default=None,
        help="weights folder (default: $CODEFORMER_STUDIO_WEIGHTS or the user folder)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _add_weights(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--weights-dir",
        type=Path,
        default=None,
        help="weights folder (default: $CODEFORMER_STUDIO_WEIGHTS or the user folder)",
    )
    sub = p.add_subparsers(
        dest="action", required=True, metavar="{list,download,import,verify,path}"
    )
    sub.add_parser("list", help="the files the app can use, and which are present")
    dl = sub.add_parser("download", help="download files (resumes; verifies size and SHA-256)")
    dl.add_argument("keys", nargs="*", help="file keys from 'weights list'")
    dl.add_argument(
        "--task",
        choices=sorted(TASKS),
        action="append",
        default=[],
        help="download what a task needs (the CodeFormer file and the detector)",
    )
    dl.add_argument("--all", action="store_true", help="every file in the list")
    imp = sub.add_parser("import", help="use a file you already have (verified, then copied)")
    imp.add_argument("key", help="file key from 'weights list'")
    imp.add_argument("file", type=Path, help="the file you have")
    imp.add_argument("--link", action="store_true", help="link instead of copying")
    ver = sub.add_parser("verify", help="check present files (size and SHA-256)")
    ver.add_argument("keys", nargs="*", help="file keys (default: every present file)")
    sub.add_parser("path", help="print the weights folder")


# -- restore ----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Outcome:
    source: Path
    status: str  # "done", "skipped", "failed"
    detail: str
    output: Path | None = None


class ProgressBar:
    """A one-line progress bar on stderr (only when stderr is a terminal, unless forced)."""

    def __init__(self, total: int, *, enabled: bool) -> None:
        self.total = max(total, 1)
        self.enabled = enabled
        self.started = time.monotonic()

    def show(self, done: int, label: str) -> None:
        if not self.enabled:
            return
        width = 28
        filled = int(width * done / self.total)
        elapsed = time.monotonic() - self.started
        bar = "#" * filled + "-" * (width - filled)
        sys.stderr.write(f"\r[{bar}] {done}/{self.total} {elapsed:5.0f}s {label[:40]:<40}")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def run_restore(args: argparse.Namespace) -> int:
    from core.engine import Engine
    from core.photo_io import iter_photos
    from core.pipeline import PipelineSettings

    variant = TASKS[args.task]
    if args.fidelity is not None and not 0.0 <= args.fidelity <= 1.0:
        raise StudioError(f"--fidelity must be between 0 and 1, got {args.fidelity}")
    if not 1 <= args.quality <= 100:
        raise StudioError(f"--quality must be between 1 and 100, got {args.quality}")
    if args.mask is not None and variant != "inpainting":
        raise StudioError("--mask is only used with --task inpaint")
    missing_inputs = [p for p in args.inputs if not p.exists()]
    if missing_inputs:
        raise StudioError("no such file or folder: " + ", ".join(map(str, missing_inputs)))
    photos = list(iter_photos(args.inputs, recursive=args.recursive))
    if not photos:
        raise StudioError("no photos found in " + ", ".join(map(str, args.inputs)))
    if args.mask is not None and len(photos) != 1:
        raise StudioError("--mask goes with exactly one input photo")

    settings = PipelineSettings(
        detector=DETECTORS[args.detector],
        confidence=args.confidence,
        min_eye_distance=args.min_face,
        only_center_face=args.only_center_face,
        upscale=args.upscale,
        background=args.background,
        face_upsample=args.face_upsample,
        paste_mask=args.paste_mask,
        aligned=args.aligned,
    )
    from core.memory import keep_freed_memory

    keep_freed_memory()  # this process runs the network many times: reuse its memory
    engine = Engine(weights_dir=_weights_folder(args), device=args.device, precision=args.precision)
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
        )
    print(
        f"CodeFormer Studio: {len(photos)} photo(s), task {args.task}, "
        f"on {engine.device_description}",
        file=sys.stderr,
    )
    args.output.mkdir(parents=True, exist_ok=True)
    bar = ProgressBar(len(photos), enabled=not args.quiet and sys.stderr.isatty())
    outcomes = []
    for i, source in enumerate(photos):
        bar.show(i, source.name)
        outcomes.append(_restore_one(source, args, engine, settings, variant, landmarks))
        if outcomes[-1].status == "failed":
            log.debug("failed: %s", outcomes[-1].detail)
    bar.show(len(photos), "done")
    bar.close()
    return _summarise(outcomes)


def _restore_one(
    source: Path,
    args: argparse.Namespace,
    engine: Engine,
    settings: PipelineSettings,
    variant: str,
    landmarks: dict[str, object],
) -> Outcome:
    from core.errors import ImageWriteError
    from core.faces.detection import GivenFaces, faces_from_json
    from core.photo_io import next_free_path, output_path, read_photo, write_photo

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
        analysis = engine.analyze(photo, settings, variant=variant, mask=mask, detector=given)
        rendered = engine.render(analysis, args.fidelity)
        written = write_photo(
            target,
            rendered.image,
            alpha=rendered.alpha,
            like=photo,
            quality=args.quality,
            overwrite=args.existing == "overwrite",
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


def _weights_folder(args: argparse.Namespace) -> Path:
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


# -- weights ----------------------------------------------------------------------------------


def run_weights(args: argparse.Namespace) -> int:
    from core.weights.catalogue import CATALOGUE, weights_file

    folder = _weights_folder(args)
    if args.action == "path":
        print(folder)
        return 0
    if args.action == "list":
        from core.weights.store import status

        print(f"weights folder: {folder}")
        for st in status(folder):
            e = st.entry
            mark = "present" if st.present else "missing"
            print(f"{e.key:26} {e.filename:34} {e.size_text:>18}  {mark:8} {e.licence}")
        return 0
    if args.action == "download":
        keys = list(args.keys)
        if args.all:
            keys = [e.key for e in CATALOGUE]
        for task in args.task:
            from core.engine import DETECTOR_FILES
            from core.weights.catalogue import codeformer_file

            keys += [codeformer_file(TASKS[task]).key, DETECTOR_FILES["retinaface_resnet50"]]
        if not keys:
            raise StudioError("name the files to download (see 'weights list'), --task or --all")
        entries = [weights_file(k) for k in dict.fromkeys(keys)]
        return _download(entries, folder)
    if args.action == "import":
        from core.weights.store import import_file

        path = import_file(args.file, weights_file(args.key), folder, link=args.link)
        print(f"imported {args.file} as {path}")
        return 0
    if args.action == "verify":
        from core.weights.store import find, verify

        entries = [weights_file(k) for k in args.keys] or list(CATALOGUE)
        failed = 0
        for e in entries:
            found = find(e, folder)
            if found is None:
                if args.keys:
                    print(f"missing  {e.filename}")
                    failed += 1
                continue
            try:
                verify(found, e, folder=folder)
                print(f"ok       {found}")
            except StudioError as exc:
                print(f"FAILED   {found}: {exc}")
                failed += 1
        return 1 if failed else 0
    raise StudioError(f"unknown weights action {args.action}")


def _download(entries: Sequence[WeightsFile], folder: Path) -> int:
    from core.weights.download import download

    failed = 0
    for e in entries:
        if e.non_commercial:
            print(
                f"note: {e.filename} is under the {e.licence}: non-commercial use only.",
                file=sys.stderr,
            )
        bar = ProgressBar(100, enabled=sys.stderr.isatty())

        def progress(
            done: int, total: int | None, bar: ProgressBar = bar, name: str = e.filename
        ) -> None:
            bar.show(int(100 * done / total) if total else 0, name)

        try:
            path = download(e, folder, progress=progress)
            bar.close()
            print(f"ok       {path}")
        except StudioError as exc:
            bar.close()
            print(f"FAILED   {e.filename}: {exc}")
            failed += 1
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        if args.command == "restore":
            return run_restore(args)
        return run_weights(args)
    except StudioError as exc:
        print(f"codeformer-studio: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("codeformer-studio: interrupted", file=sys.stderr)
        return 130
