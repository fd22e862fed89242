"""The window's settings, remembered between runs (QSettings).

`StudioSettings` is a frozen value; `SettingsStore` reads and writes it. The store is passed to
whoever needs it (no global state). The environment variable CODEFORMER_STUDIO_CONFIG names a folder
that replaces the platform's settings location (tests isolate themselves with it).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from core.choices import PipelineSettings
from core.faces.detectors import AUTO, DETECTOR_NAMES

log = logging.getLogger(__name__)

CONFIG_ENV = "CODEFORMER_STUDIO_CONFIG"
ORGANIZATION = "CodeFormer Studio"
APPLICATION = "CodeFormer Studio"
MAX_RECENT = 10

DEVICES = ("auto", "cuda", "mps", "cpu")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
BACKGROUNDS = ("resize", "realesrgan")
DETECTORS = DETECTOR_NAMES
PASTE_MASKS = ("parsing", "square")
EXPORT_FORMATS = ("same", "jpeg", "png", "webp", "tiff")
COMPARE_MODES = ("wipe", "side_by_side")


@dataclass(frozen=True, kw_only=True)
class StudioSettings:
    """Everything the user can choose in Preferences (and a few things the window remembers)."""

    # Processing
    device: str = "auto"
    precision: str = "auto"
    weights_folder: str = ""  # empty: the per-user default (or CODEFORMER_STUDIO_WEIGHTS)
    model_file: str = ""  # a CodeFormer checkpoint of the user's own; empty: the catalogued one
    # Pipeline (fidelity-independent; changing one re-analyses the open photos)
    upscale: int = 2
    background: str = "resize"
    face_upsample: bool = False
    detector: str = AUTO  # RetinaFace ResNet-50 when downloaded, else the built-in YuNet
    confidence: float = 0.8
    min_face: float = 5.0  # eye distance in photo pixels below which a face is left alone
    only_center_face: bool = False
    paste_mask: str = "parsing"
    prefetch: bool = True  # render nearby fidelities when idle (Restore)
    # Export defaults
    export_format: str = "same"
    export_quality: int = 95
    export_folder: str = ""  # empty: next to the original
    export_pattern: str = "{name}{suffix}"
    export_suffix: str = "_restored"
    keep_metadata: bool = True
    export_full_precision: bool = True  # exports in fp32; off: at the preview's precision
    # Remembered view state
    fidelity: float = 0.5
    compare_mode: str = "wipe"

    def pipeline(self) -> PipelineSettings:
        """How photos are analysed and composited with these preferences."""
        return PipelineSettings(
            detector=self.detector,
            confidence=self.confidence,
            min_eye_distance=self.min_face,
            only_center_face=self.only_center_face,
            upscale=self.upscale,
            background=self.background,
            face_upsample=self.face_upsample,
            paste_mask=self.paste_mask,
        )

    def engine(self) -> tuple[str, str, str, str]:
        """What the engine is built from: changing one rebuilds it."""
        return (self.device, self.precision, self.weights_folder, self.model_file)


_CHOICES: dict[str, tuple[str, ...]] = {
    "device": DEVICES,
    "precision": PRECISIONS,
    "background": BACKGROUNDS,
    "detector": DETECTORS,
    "paste_mask": PASTE_MASKS,
    "export_format": EXPORT_FORMATS,
    "compare_mode": COMPARE_MODES,
}
_RANGES: dict[str, tuple[float, float]] = {
    "upscale": (1, 4),
    "confidence": (0.05, 1.0),
    "min_face": (0.0, 200.0),
    "export_quality": (1, 100),
    "fidelity": (0.0, 1.0),
}


def validated(settings: StudioSettings) -> StudioSettings:
    """Clamp numbers into range and replace unknown choices by the defaults."""
    defaults = StudioSettings()
    changes: dict[str, Any] = {}
    for name, choices in _CHOICES.items():
        if getattr(settings, name) not in choices:
            changes[name] = getattr(defaults, name)
    for name, (low, high) in _RANGES.items():
        value = getattr(settings, name)
        clamped = type(value)(min(max(value, low), high))
        if clamped != value:
            changes[name] = clamped
    return dataclasses.replace(settings, **changes) if changes else settings


def _coerce(raw: object, default: object) -> object:
    """A value read from QSettings (often a string in INI files) -> the type of `default`."""
    if isinstance(default, bool):
        if isinstance(raw, str):
            return raw.strip().lower() in ("1", "true", "yes", "on")
        return bool(raw)
    if isinstance(default, int):
        return int(float(str(raw)))
    if isinstance(default, float):
        return float(str(raw))
    return str(raw)


def open_qsettings() -> QSettings:
    """The QSettings to use: a file in $CODEFORMER_STUDIO_CONFIG, else the platform's location."""
    folder = os.environ.get(CONFIG_ENV)
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return QSettings(str(Path(folder) / "desktop.ini"), QSettings.Format.IniFormat)
    return QSettings(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION
    )


class SettingsStore:
    """Reads and writes StudioSettings, the window geometry and the recent files."""

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self._q = qsettings if qsettings is not None else open_qsettings()

    @property
    def location(self) -> str:
        return self._q.fileName()

    def load(self) -> StudioSettings:
        defaults = StudioSettings()
        values: dict[str, Any] = {}
        for field in dataclasses.fields(StudioSettings):
            key = f"settings/{field.name}"
            if not self._q.contains(key):
                continue
            default = getattr(defaults, field.name)
            try:
                values[field.name] = _coerce(self._q.value(key), default)
            except (TypeError, ValueError):
                log.warning("ignoring the unreadable setting %s=%r", key, self._q.value(key))
        return validated(StudioSettings(**values))

    def save(self, settings: StudioSettings) -> None:
        for field in dataclasses.fields(StudioSettings):
            self._q.setValue(f"settings/{field.name}", getattr(settings, field.name))
        self._q.sync()

    def update(self, **changes: Any) -> StudioSettings:
        settings = validated(dataclasses.replace(self.load(), **changes))
        self.save(settings)
        return settings

    # -- window state -----------------------------------------------------------------------

    def geometry(self) -> QByteArray | None:
        value = self._q.value("window/geometry")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def window_state(self) -> QByteArray | None:
        value = self._q.value("window/state")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def save_window(self, geometry: QByteArray, state: QByteArray) -> None:
        self._q.setValue("window/geometry", geometry)
        self._q.setValue("window/state", state)
        self._q.sync()

    # -- recent files -----------------------------------------------------------------------

    def recent_files(self) -> list[str]:
        value = self._q.value("recent/files", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or []) if v][:MAX_RECENT]

    def add_recent(self, path: str | Path) -> list[str]:
        path = str(Path(path))
        files = [path] + [p for p in self.recent_files() if p != path]
        self._q.setValue("recent/files", files[:MAX_RECENT])
        self._q.sync()
        return files[:MAX_RECENT]

    def clear_recent(self) -> None:
        self._q.setValue("recent/files", [])
        self._q.sync()
