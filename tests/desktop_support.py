"""Helpers for the window's tests (pytest-qt, offscreen).

`ScriptedEngine` stands in for core.engine.Engine where a test is about the window's scheduling
(newest request wins, stale results dropped, cancel between faces, the GUI thread never
blocked): it has the Engine's methods, records every call, can be made slow per face and
honours `cancel()` between faces like the real one. It returns values with the fields the
window reads of core.pipeline's Analysis and Rendered (nothing else). Tests that exercise the
real pipeline use `real_engine_factory_for` (a synthetic checkpoint and injected landmarks).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.errors import Cancelled
from core.photo import Photo
from desktop.settings import SettingsStore, StudioSettings

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "resources" / "sample_old_photo.jpg"
SAMPLE_FACES = ROOT / "resources" / "sample_old_photo.json"


def sample_landmarks() -> list[np.ndarray]:
    faces = json.loads(SAMPLE_FACES.read_text())["sample_old_photo.jpg"]["faces"]
    return [np.array(f["landmarks5"], dtype=np.float32) for f in faces]


def synthetic_photo(width: int = 96, height: int = 80, seed: int = 0) -> Photo:
    """A small deterministic RGB photo (uint8)."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    return Photo(pixels=pixels, format="PNG")


@dataclass(frozen=True, kw_only=True)
class ScriptedFace:
    """What the window reads of a core AnalyzedFace."""

    index: int
    box: tuple[float, float, float, float]
    crop: np.ndarray  # S x S x 3 uint8 RGB


@dataclass(frozen=True, kw_only=True)
class ScriptedAnalysis:
    """What the window reads of a core Analysis."""

    photo: Photo
    settings: Any
    faces: tuple[ScriptedFace, ...]
    background: np.ndarray
    upscale: int = 1
    variant: str = "restoration"
    damage: np.ndarray | None = None
    notices: tuple[str, ...] = ()

    def nbytes(self) -> int:
        return self.background.nbytes + sum(face.crop.nbytes for face in self.faces)


@dataclass(frozen=True, kw_only=True)
class ScriptedRendered:
    """What the window reads of a core Rendered."""

    image: np.ndarray
    alpha: np.ndarray | None
    fidelity: float
    faces: dict[int, np.ndarray]
    seconds: float


@dataclass
class Call:
    method: str
    fidelity: float | None = None
    variant: str = ""
    mask: np.ndarray | None = None
    choices: dict[int, Any] | None = None
    cancelled: bool = False
    exact: bool = False
    thread: str = ""
    decoded: tuple[int, ...] = ()  # render: the faces given already decoded (only pasted)


@dataclass
class ScriptedEngine:
    """A recording, slow-able stand-in for the core Engine (see the module docstring)."""

    faces: int = 1
    face_seconds: float = 0.0  # analysis: per face
    render_face_seconds: float = 0.0  # render: per face
    missing: tuple[Any, ...] = ()
    fail_with: BaseException | None = None
    device_description: str = "Scripted test engine"
    calls: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _record(self, call: Call) -> Call:
        call.thread = threading.current_thread().name
        with self.lock:
            self.calls.append(call)
        return call

    def calls_of(self, method: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.method == method]

    def missing_weights(self, variant: str, settings: Any) -> list[Any]:
        return list(self.missing)

    def provenance(self, variant: str) -> str:
        return f"Scripted test engine ({variant})"

    def _sleep(self, seconds: float, cancel: Callable[[], bool] | None, call: Call) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            time.sleep(0.005)
        if cancel is not None and cancel():
            call.cancelled = True
            raise Cancelled("cancelled")

    def analyze(
        self,
        photo: Photo,
        settings: Any,
        *,
        variant: str = "restoration",
        mask: Any = None,
        progress: Callable[[str, float], None] | None = None,
        cancel: Callable[[], bool] | None = None,
    ) -> Any:
        call = self._record(Call("analyze", variant=variant, mask=mask))
        if self.fail_with is not None:
            raise self.fail_with
        h, w = photo.height, photo.width
        faces = []
        for index in range(self.faces):
            if progress is not None:
                progress("Encoding faces", index / max(1, self.faces))
            self._sleep(self.face_seconds, cancel, call)
            x1, y1 = (index * 7) % max(1, w - 16), (index * 5) % max(1, h - 16)
            crop = np.full((16, 16, 3), 40 * index % 256, np.uint8)
            box = (float(x1), float(y1), float(x1 + 16), float(y1 + 16))
            faces.append(ScriptedFace(index=index, box=box, crop=crop))
        return ScriptedAnalysis(
            photo=photo,
            settings=settings,
            faces=tuple(faces),
            background=photo.rgb8(),
            variant=variant,
            damage=None if mask is None else np.asarray(mask, bool),
        )

    def remask(
        self, analysis: Any, mask: np.ndarray, *, cancel: Callable[[], bool] | None = None
    ) -> Any:
        """The same faces with the new damage (re-encoding takes `face_seconds` per face)."""
        call = self._record(Call("remask", variant=analysis.variant, mask=mask))
        for _ in analysis.faces:
            self._sleep(self.face_seconds, cancel, call)
        return dataclasses.replace(analysis, damage=np.asarray(mask, bool))

    def render(
        self,
        analysis: Any,
        fidelity: float | None,
        *,
        choices: Any = None,
        cancel: Callable[[], bool] | None = None,
        exact: bool = False,
        decoded: Mapping[int, np.ndarray] | None = None,
    ) -> Any:
        decoded = decoded or {}
        call = self._record(
            Call(
                "render",
                fidelity=fidelity,
                choices=dict(choices or {}),
                exact=exact,
                variant=analysis.variant,
                mask=analysis.damage,
                decoded=tuple(sorted(decoded)),
            )
        )
        started = time.perf_counter()
        image = analysis.background.copy()
        faces = {}
        for face in analysis.faces:
            if face.index in decoded:  # only pasted, like the real engine
                faces[face.index] = decoded[face.index]
                continue
            self._sleep(self.render_face_seconds, cancel, call)
            faces[face.index] = np.full_like(face.crop, round(255 * (fidelity or 0)))
        # The computed fidelity is written into the top-left pixel so tests can read it back.
        image[0, 0] = round(255 * (fidelity or 0))
        return ScriptedRendered(
            image=image,
            alpha=None,
            fidelity=float(fidelity or 0),
            faces=faces,
            seconds=time.perf_counter() - started,
        )


def make_session(engine: Any, settings: StudioSettings | None = None, **options: Any) -> Any:
    from desktop.session import Session

    session = Session(settings or StudioSettings(upscale=1), lambda: engine, **options)
    session.worker.start()
    return session


@pytest.fixture
def window_factory(qtbot: Any) -> Iterator[Callable[..., Any]]:
    """Build MainWindows the way the app does (shown, worker started); closed after the test."""
    from desktop.app import apply_style
    from desktop.main_window import MainWindow
    from desktop.session import Session

    windows: list[Any] = []

    def make(
        engine_factory_for: Callable[[StudioSettings], Any],
        *,
        settings: StudioSettings | None = None,
        weights_folder: Path | None = None,
        check_weights: bool = False,
    ) -> Any:
        from PySide6.QtWidgets import QApplication

        apply_style(QApplication.instance())
        store = SettingsStore()
        if settings is not None:
            store.save(settings)
        loaded = store.load()
        session = Session(loaded, engine_factory_for(loaded))
        window = MainWindow(
            session,
            store,
            engine_factory_for=engine_factory_for,
            weights_folder_for=(lambda _s: weights_folder) if weights_folder else None,
        )
        session.setParent(window)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        session.worker.start()
        if check_weights:
            session.check_weights()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()


def synthetic_catalogue(weights_dir: Path) -> tuple[Any, ...]:
    """The official catalogue, with the CodeFormer entries of the synthetic checkpoints found in
    `weights_dir` (their own sizes and hashes), so the Engine accepts them."""
    from core.weights import CATALOGUE

    entries = []
    for entry in CATALOGUE:
        path = Path(weights_dir) / entry.filename
        if entry.kind == "codeformer" and path.is_file():
            data = path.read_bytes()
            entry = dataclasses.replace(
                entry, size=len(data), sha256=hashlib.sha256(data).hexdigest()
            )
        entries.append(entry)
    return tuple(entries)


def real_engine_factory_for(weights_dir: Path, faces: list[Any] | None = None) -> Callable:
    """Factories of the real core Engine on the CPU in fp32, with injected faces (no detector
    weights here) and the synthetic checkpoints of `weights_dir`. Imports core.engine lazily,
    in the worker thread, like the app."""

    def factory_for(settings: StudioSettings) -> Callable[[], Any]:
        def build() -> Any:
            from core.engine import Engine
            from core.faces.detection import GivenFaces

            return Engine(
                weights_dir=weights_dir,
                device="cpu",
                precision="fp32",
                detector=GivenFaces(faces) if faces is not None else None,
                catalogue=synthetic_catalogue(weights_dir),
            )

        return build

    return factory_for


def sample_faces() -> list[Any]:
    from core.faces.detection import faces_from_json

    return faces_from_json(json.loads(SAMPLE_FACES.read_text()), "sample_old_photo.jpg")


def run_app_script(script: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run `python -c script` from the repo root in a fresh process: offscreen Qt, and a config,
    weights folder and HOME of its own under `tmp_path` (nothing torch-related preloaded)."""
    env = {
        "QT_QPA_PLATFORM": "offscreen",
        "CODEFORMER_STUDIO_CONFIG": str(tmp_path / "config"),
        "CODEFORMER_STUDIO_WEIGHTS": str(tmp_path / "weights"),
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
    }
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def shown_rgb(doc: Any) -> np.ndarray:
    """The restored photo the window shows for `doc`: its result with the patches laid over."""
    from desktop.images import rgb_from_qimage

    rgb, _ = rgb_from_qimage(doc.result)
    for patch in doc.result_patches:
        pixels, _ = rgb_from_qimage(patch.image)
        h, w = pixels.shape[:2]
        rgb[patch.y : patch.y + h, patch.x : patch.x + w] = pixels
    return rgb
