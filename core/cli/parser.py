"""The command line's arguments: `codeformer-studio restore ...` and `... weights ...`."""

from __future__ import annotations

import argparse
from pathlib import Path

from core import VERSION
from core.faces.detectors import AUTO, DETECTOR_NAMES

TASKS = {"restore": "restoration", "colorize": "colorization", "inpaint": "inpainting"}
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
    parser.add_argument("--version", action="version", version=f"CodeFormer Studio {VERSION}")
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
        default=None,
        help="restore (default), colorize grey or faded faces, or inpaint painted damage "
        "(with --model: the task of that model)",
    )
    p.add_argument(
        "--model",
        type=Path,
        default=None,
        metavar="FILE",
        help="a CodeFormer checkpoint of your own (a fine-tune, a copy): .pth or "
        ".safetensors in any official layout, checked by its structure",
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
        choices=DETECTOR_NAMES,
        default=AUTO,
        help="face detector: yunet (built in), retinaface_resnet50 (download, best on tiny "
        "faces and crowds) or retinaface_mobile0.25 (download, light); default auto: "
        "RetinaFace ResNet-50 when downloaded, else YuNet",
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
        help="download what a task needs (its CodeFormer file; the face detector is built in)",
    )
    dl.add_argument("--all", action="store_true", help="every file in the list")
    imp = sub.add_parser("import", help="use a file you already have (verified, then copied)")
    imp.add_argument("key", help="file key from 'weights list'")
    imp.add_argument("file", type=Path, help="the file you have")
    imp.add_argument("--link", action="store_true", help="link instead of copying")
    ver = sub.add_parser("verify", help="check present files (size and SHA-256)")
    ver.add_argument("keys", nargs="*", help="file keys (default: every present file)")
    sub.add_parser("path", help="print the weights folder")
