"""Weights management: the catalogue, the per-user folder, verified downloads and imports.

No Qt, no torch and no network access at import. Only `download` touches the network, and only
when called.

    from core.weights import codeformer_file, download, require, weights_dir

    folder = weights_dir(settings_value)          # env var, then setting, then per-user default
    entry = codeformer_file("restoration")
    path = download(entry, folder, progress=on_progress, cancel=is_cancelled)
    path = require(entry, folder)                  # WeightsMissingError says how to fetch it
"""

from __future__ import annotations

from core.weights.catalogue import (
    CATALOGUE,
    Kind,
    WeightsFile,
    codeformer_file,
    files_of_kind,
    format_size,
    weights_file,
)
from core.weights.download import download, part_path
from core.weights.folder import ENV_VAR, default_weights_dir, weights_dir
from core.weights.hashing import Cancel, Fingerprint, Progress, fingerprint
from core.weights.records import record_path, recorded_sha256
from core.weights.store import WeightsStatus, find, import_file, require, status, verify

__all__ = [
    "CATALOGUE",
    "ENV_VAR",
    "Cancel",
    "Fingerprint",
    "Kind",
    "Progress",
    "WeightsFile",
    "WeightsStatus",
    "codeformer_file",
    "default_weights_dir",
    "download",
    "files_of_kind",
    "find",
    "fingerprint",
    "format_size",
    "import_file",
    "part_path",
    "record_path",
    "recorded_sha256",
    "require",
    "status",
    "verify",
    "weights_dir",
    "weights_file",
]
