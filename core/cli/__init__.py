"""The command line: `codeformer-studio restore ...` and `codeformer-studio weights ...`.

The only part of the core that prints: to stdout for results, to stderr for progress.
Modules: `parser` (the arguments), `restore` (the batch), `weights` (the weights folder).
"""

from __future__ import annotations

import logging
import sys

from core.cli.parser import build_parser
from core.errors import StudioError

__all__ = ["build_parser", "main"]


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        if args.command == "restore":
            from core.cli.restore import run_restore

            return run_restore(args)
        from core.cli.weights import run_weights

        return run_weights(args)
    except StudioError as exc:
        print(f"codeformer-studio: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("codeformer-studio: interrupted", file=sys.stderr)
        return 130
