"""The `codeformer-studio` command: the window, or the command line when a subcommand is given.

Nothing heavy is imported here: the window must paint before torch loads.
"""

from __future__ import annotations

import sys

SUBCOMMANDS = ("restore", "weights")


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and (args[0] in SUBCOMMANDS or args[0] in ("-h", "--help", "--version")):
        from core.cli import main as cli_main

        return cli_main(args)
    model, paths = window_arguments(args)
    from desktop.app import run

    return run(paths, model=model)


def window_arguments(args: list[str]) -> tuple[str | None, list[str]]:
    """The window's own arguments: `[--model FILE] [photos or folders ...]`."""
    model = None
    paths: list[str] = []
    rest = iter(args)
    for arg in rest:
        if arg == "--model":
            model = next(rest, None)
            if model is None:
                raise SystemExit("codeformer-studio: --model needs a CodeFormer checkpoint file")
        elif arg.startswith("--model="):
            model = arg.split("=", 1)[1]
        else:
            paths.append(arg)
    return model, paths


if __name__ == "__main__":
    raise SystemExit(main())
