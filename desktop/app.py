"""Entry point of the window: `codeformer-studio [photos or folders ...]`.

Imports here are Qt and the light parts of core only: torch loads in the inference thread once
the window is on screen (the engine factory imports core.engine there).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QApplication

from desktop.inference.queue import EngineFactory
from desktop.none_refcount import protect_none
from desktop.resources import STYLE_SHEET, resource_path
from desktop.settings import APPLICATION, ORGANIZATION, SettingsStore, StudioSettings

log = logging.getLogger(__name__)


def version() -> str:
    try:
        from importlib.metadata import version as package_version

        return package_version("codeformer-studio")
    except Exception:
        return "0.1.0"


def dark_palette() -> QPalette:
    p = QPalette()
    colors = {
        QPalette.ColorRole.Window: "#232427",
        QPalette.ColorRole.WindowText: "#e8eaed",
        QPalette.ColorRole.Base: "#1b1c1e",
        QPalette.ColorRole.AlternateBase: "#26282b",
        QPalette.ColorRole.ToolTipBase: "#2f3236",
        QPalette.ColorRole.ToolTipText: "#e8eaed",
        QPalette.ColorRole.Text: "#e8eaed",
        QPalette.ColorRole.Button: "#2d2f33",
        QPalette.ColorRole.ButtonText: "#e8eaed",
        QPalette.ColorRole.BrightText: "#ffffff",
        QPalette.ColorRole.Highlight: "#3b78c4",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: "#6cb4ff",
        QPalette.ColorRole.PlaceholderText: "#7d828a",
    }
    for role, color in colors.items():
        p.setColor(role, QColor(color))
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
        QPalette.ColorRole.WindowText,
    ):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6b7079"))
    return p


def make_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication, set up for CodeFormer Studio (name, high DPI, style)."""
    existing = QApplication.instance()
    if existing is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
        )
    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APPLICATION)
    QCoreApplication.setApplicationVersion(version())
    app = existing if isinstance(existing, QApplication) else QApplication(argv or [sys.argv[0]])
    protect_none()
    apply_style(app)
    return app


def apply_style(app: QApplication) -> None:
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    sheet = resource_path(STYLE_SHEET)
    if sheet.is_file():
        app.setStyleSheet(sheet.read_text(encoding="utf-8"))
    icon_file = resource_path("icon.png")
    if icon_file.is_file():
        app.setWindowIcon(QIcon(str(icon_file)))


class AfterFirstPaint(QObject):
    """Runs `action` once, on the event-loop turn after `window` (or a child) first paints.

    Work that imports torch starts only then: a worker thread importing it sooner holds the GIL
    for seconds and delays the first paint. `fallback_ms` starts the action anyway if no paint
    comes (a hidden or minimised window).
    """

    def __init__(self, window: Any, action: Callable[[], None], fallback_ms: int = 2000) -> None:
        super().__init__(window)
        self._action: Callable[[], None] | None = action
        app = QApplication.instance()
        assert app is not None
        app.installEventFilter(self)
        QTimer.singleShot(fallback_ms, self._run)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            self._action is not None
            and event.type() == QEvent.Type.Paint
            and watched.isWidgetType()
            and watched.window() is self.parent()  # type: ignore[attr-defined]
        ):
            QTimer.singleShot(0, self._run)
        return False

    def _run(self) -> None:
        action, self._action = self._action, None
        if action is not None:
            app = QApplication.instance()
            if app is not None:
                app.removeEventFilter(self)
            action()


def create_window(
    paths: list[str],
    *,
    store: SettingsStore | None = None,
    engine_factory_for: Callable[[StudioSettings], EngineFactory] | None = None,
    weights_folder_for: Callable[[StudioSettings], Path] | None = None,
    check_weights: bool = True,
    model: str | None = None,
):
    """Build the session and the window (a MainWindow), show it, then, once it has painted,
    start the worker and open `paths`. torch is not imported by anything here: it loads in the
    worker thread."""
    from desktop.engine_factory import engine_factory_for as default_factory_for
    from desktop.main_window import MainWindow
    from desktop.session import Session

    store = store or SettingsStore()
    settings = store.load()
    if model is not None:
        # `--model FILE`: this run and the next use it (File ▸ Use a Model File… changes it)
        settings = store.update(model_file=str(Path(model).resolve()))
    factory_for = engine_factory_for or default_factory_for
    session = Session(settings, factory_for(settings))
    window = MainWindow(
        session,
        store,
        engine_factory_for=factory_for,
        weights_folder_for=weights_folder_for,
        version=version(),
    )
    session.setParent(window)
    window.show()

    def after_shown() -> None:
        session.worker.start()
        if check_weights:
            session.check_weights()
        if paths:
            window.open_paths(list(paths))

    AfterFirstPaint(window, after_shown)
    return window


SMOKE_TEST_ENV = "CODEFORMER_STUDIO_SMOKE_TEST"


def smoke_test(window: Any, app: QApplication, timeout_ms: int = 120_000) -> None:
    """Quit once the engine is up in the worker thread (exit 0) or failed (exit 1).

    Used by scripts/build-bundle to prove a bundle can start, import torch and build the engine.
    """

    def done(code: int, text: str) -> None:
        sys.stderr.write(f"smoke test: {text}\n")
        window.close()
        app.exit(code)

    window.session.engine_ready.connect(lambda device: done(0, f"engine ready on {device}"))
    window.session.problem.connect(
        lambda problem, _doc: done(1, problem.message) if problem.kind != "notice" else None
    )
    QTimer.singleShot(timeout_ms, lambda: done(1, "timed out"))


def run(paths: list[str], *, model: str | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from core.memory import keep_freed_memory

    keep_freed_memory()  # the worker runs the network again and again: reuse its memory
    app = make_application()
    window = create_window(paths, model=model)
    if os.environ.get(SMOKE_TEST_ENV):
        smoke_test(window, app)
    app.aboutToQuit.connect(window.session.shutdown)
    code = app.exec()
    del window
    return int(code)
