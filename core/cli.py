"""The `codeformer-studio restore` and `codeformer-studio weights` command line."""

from __future__ import annotations

import argparse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="codeformer-studio",
        description="Restore faces in old, blurry and damaged photos with CodeFormer.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("restore", help="restore the faces of photos (batch)")
    sub.add_parser("weights", help="list, download, import and verify weights files")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    raise SystemExit(f"codeformer-studio {args.command}: not built yet")
