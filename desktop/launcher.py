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
    from desktop.app import run

    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
