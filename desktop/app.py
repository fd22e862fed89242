"""Entry point of the window (being built; see the desktop issue)."""

from __future__ import annotations

import sys


def run(paths: list[str]) -> int:
    sys.stderr.write(
        "The CodeFormer Studio window is not built yet.\n"
        "Use the command line: codeformer-studio restore --help, codeformer-studio weights --help\n"
    )
    return 2
