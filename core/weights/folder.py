"""Where the weights live: one folder per user, overridable by an environment variable or a setting.

Nothing here creates the folder; the functions that write into it (download, import) do.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

ENV_VAR = "CODEFORMER_STUDIO_WEIGHTS"
APP_NAME = "CodeFormer Studio"


def default_weights_dir() -> Path:
    """The per-user folder, e.g. `~/.local/share/CodeFormer Studio/weights` on Linux."""
    return platformdirs.user_data_path(APP_NAME, appauthor=False) / "weights"


def weights_dir(setting: str | Path | None = None) -> Path:
    """The weights folder: `$CODEFORMER_STUDIO_WEIGHTS` if set, else `setting`, else the default.

    `setting` is the app's "weights folder" setting (empty or None when the user has not chosen
    one). `~` is expanded. The folder is not created.
    """
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return Path(env).expanduser()
    if setting is not None and str(setting).strip():
        return Path(setting).expanduser()
    return default_weights_dir()


__all__ = ["APP_NAME", "ENV_VAR", "default_weights_dir", "weights_dir"]
