"""The CodeFormer Studio window: filmstrip, compare view, fidelity and faces, menus, status bar.

The window receives a Session (its model) and shows it; all work happens in the session's
threads.

Tasks: the toolbar's Restore / Colorize / Inpaint switch (Task menu, Alt+1..3) sets the task of the
photo on screen (each photo keeps its own). Colorize and Inpaint grey the fidelity out (their
fidelity is fixed) and say what they do under it. Inpaint shows the brush overlay over the photo
in the compare view and its toolbar above it; strokes go to the session, which sends them to the
worker throttled; Edit ▸ Undo Stroke / Redo Stroke act on the photo's strokes.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QRectF, Qt
from PySide6.QtGui import (
    QCloseEvent,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDropEvent,
    QGuiApplication,
    QImage,
    QKeyEvent,
)
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.about_dialog import AboutDialog
from desktop.actions import build_actions, build_menus
from desktop.brush_overlay import BrushOverlay
from desktop.compare_view import CompareView
from desktop.document import PhotoDocument, Status
from desktop.empty_state import EmptyState
from desktop.export_dialog import ExportOptions
from desktop.faces_panel import FacesPanel
from desktop.fidelity_panel import FidelityPanel
from desktop.filmstrip import Filmstrip, status_text
from desktop.icons import icon
from desktop.images import rgb_from_qimage
from desktop.inference.queue import EngineFactory
from desktop.inference.responses import ExportFinished, WeightsNeeded
from desktop.inpaint_toolbar import InpaintToolbar
from desktop.message_bar import MessageBar
from desktop.preferences_dialog import PreferencesDialog
from desktop.problems import Fix, Problem
from desktop.resources import sample_photo_path
from desktop.saving import Saver
from desktop.session import Session
from desktop.settings import SettingsStore, StudioSettings
from desktop.task_mode import TaskMode

log = logging.getLogger(__name__)

HOLD_KEYS = (Qt.Key.Key_Space, Qt.Key.Key_Backslash)
RESULT_LABELS = {
    TaskMode.RESTORE: "Restored",
    TaskMode.COLORIZE: "Colorized",
    TaskMode.INPAINT: "Inpainted",
}
WORKING = {
    TaskMode.RESTORE: "restoring…",
    TaskMode.COLORIZE: "colorizing…",
    TaskMode.INPAINT: "inpainting…",
}


def fixed_fidelity_reason(mode: TaskMode) -> str | None:
    """Why the fidelity slider is greyed out in `mode`, or None where it applies."""
    if mode.uses_fidelity:
        return None
    return (
        f"{mode.title} always uses fidelity {mode.fixed_fidelity:.0f}, as the official "
        f"{mode.variant} model does. The slider applies to Restore."
    )


class MainWindow(QMainWindow):
    def __init__(
        self,
        session: Session,
        store: SettingsStore,
        *,
        engine_factory_for: Callable[[StudioSettings], EngineFactory] | None = None,
        weights_folder_for: Callable[[StudioSettings], Path] | None = None,
        version: str = "",
    ) -> None:
        super().__init__()
        self.session = session
        self.store = store
        self._factory_for = engine_factory_for
        self._weights_folder_for = weights_folder_for
        self._version = version
        self._device = ""
        self._paste_count = 0
        self._weights_dialog: Any = None
        self._first_run_shown = False
        self._holding: set[int] = set()
        self._closing = False
        self._last_needed: WeightsNeeded | None = None
        self._brush_doc: PhotoDocument | None = None  # whose damage the brush shows
        self.setWindowTitle("CodeFormer Studio")
        self.setAcceptDrops(True)
        self.setMinimumSize(880, 560)

        self.saver = Saver(session, self)
        self.actions_ = build_actions(self)
        self.recent_menu = QMenu("Open &Recent", self)
        self.recent_menu.setIcon(icon("recent"))
        build_menus(self, self.actions_, self.recent_menu)
        self._build_toolbar()
        self._build_body()
        self._build_status_bar()
        self._connect()
        self._rebuild_recent()
        self._restore_window()
        self.compare.set_mode(session.settings.compare_mode)
        self._sync_compare_actions()
        self._show_task(session.default_mode, None)
        self._update_actions()
        QApplication.instance().installEventFilter(self)

    # -- construction -----------------------------------------------------------------------

    def _build_toolbar(self) -> None:
        a = self.actions_
        bar = QToolBar("Main", self)
        bar.setObjectName("mainToolbar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for action in (a.open, a.save, a.export_all):
            bar.addAction(action)
        bar.addSeparator()
        bar.addWidget(self._task_switch())
        bar.addSeparator()
        for action in (a.wipe, a.side_by_side):
            bar.addAction(action)
        bar.addSeparator()
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for action in (a.fit, a.zoom_100):
            bar.addAction(action)
        self.zoom_label = QLabel("")
        self.zoom_label.setObjectName("zoomLabel")
        self.zoom_label.setToolTip("Zoom: photo pixels per screen pixel")
        self.zoom_label.setMinimumWidth(56)
        bar.addWidget(self.zoom_label)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bar.addWidget(spacer)
        bar.addAction(a.preferences)
        self.addToolBar(bar)
        self.toolbar = bar

    def _task_switch(self) -> QWidget:
        """Restore | Colorize | Inpaint as one segmented control."""
        box = QFrame()
        box.setObjectName("taskSwitch")
        layout = QHBoxLayout(box)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        self.task_buttons: dict[TaskMode, QToolButton] = {}
        for mode, action in self.actions_.tasks.items():
            button = QToolButton()
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.setAutoRaise(True)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            layout.addWidget(button)
            self.task_buttons[mode] = button
        return box

    def _build_body(self) -> None:
        s = self.session
        self.filmstrip = Filmstrip(s)
        self.filmstrip.setMinimumWidth(180)
        left = QWidget()
        left.setObjectName("sidePanel")
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(8, 10, 4, 8)
        photos_title = QLabel("Photos")
        photos_title.setObjectName("sectionTitle")
        left_layout.addWidget(photos_title)
        left_layout.addWidget(self.filmstrip, 1)

        self.message_bar = MessageBar()
        self.empty = EmptyState()
        self.compare = CompareView()
        self.brush = BrushOverlay()
        self.inpaint_tools = InpaintToolbar()
        self.inpaint_bar = QFrame()
        self.inpaint_bar.setObjectName("inpaintBar")
        bar_layout = QHBoxLayout(self.inpaint_bar)
        bar_layout.setContentsMargins(0, 0, 0, 0)
        bar_layout.addWidget(self.inpaint_tools)
        # The panel's task note says what the hint says; the bar keeps it as its tooltip.
        self.inpaint_tools.hint.hide()
        tools_layout = self.inpaint_tools.layout()
        if tools_layout is not None:
            tools_layout.addStretch(1)  # the tools stay together on the left
        self.inpaint_tools.setToolTip(self.inpaint_tools.hint.text())
        self.inpaint_bar.hide()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.compare)
        center = QWidget()
        center_layout = QVBoxLayout(center)
        center_layout.setContentsMargins(0, 0, 0, 0)
        center_layout.setSpacing(0)
        center_layout.addWidget(self.message_bar)
        center_layout.addWidget(self.inpaint_bar)
        center_layout.addWidget(self.stack, 1)

        self.fidelity = FidelityPanel(s.fidelity)
        self.task_note = QLabel("")
        self.task_note.setObjectName("taskNote")
        self.task_note.setWordWrap(True)
        self.task_note.hide()
        self.faces = FacesPanel()
        right = QWidget()
        right.setObjectName("sidePanel")
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(10, 10, 10, 8)
        right_layout.setSpacing(12)
        right_layout.addWidget(self.fidelity)
        right_layout.addWidget(self.task_note)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setObjectName("separator")
        right_layout.addWidget(line)
        right_layout.addWidget(self.faces, 1)
        right.setMinimumWidth(310)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(center)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 0)
        self.splitter.setSizes([220, 900, 320])
        self.splitter.setChildrenCollapsible(False)
        self.setCentralWidget(self.splitter)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.photo_status = QLabel("")
        self.render_status = QLabel("")
        self.render_status.setToolTip("The last render: how long it took, and when")
        self.device_status = QLabel("Device: starting…")
        self.device_status.setToolTip("Where the network runs (Preferences to change)")
        self.model_status = QLabel("")
        self.model_status.setToolTip("The CodeFormer model in use (File ▸ Use a Model File…)")
        bar.addWidget(self.photo_status, 1)
        bar.addPermanentWidget(self.render_status)
        bar.addPermanentWidget(self.model_status)
        bar.addPermanentWidget(self.device_status)
        self._show_model()

    def _connect(self) -> None:
        a, s = self.actions_, self.session
        a.open.triggered.connect(self.choose_photos)
        a.open_folder.triggered.connect(self.choose_folder)
        a.sample.triggered.connect(self.open_sample)
        a.paste.triggered.connect(self.paste)
        a.save.triggered.connect(lambda: self.save_current())
        a.save_as.triggered.connect(lambda: self.save_current_as())
        a.export_all.triggered.connect(lambda: self.export_all())
        a.remove.triggered.connect(self.remove_current)
        a.use_model.triggered.connect(lambda: self.choose_model_file())
        a.fidelity_up.triggered.connect(lambda: self.fidelity.step(+1))
        a.fidelity_down.triggered.connect(lambda: self.fidelity.step(-1))
        a.quit.triggered.connect(self.close)
        a.wipe.triggered.connect(lambda: self.set_compare_mode("wipe"))
        a.side_by_side.triggered.connect(lambda: self.set_compare_mode("side_by_side"))
        a.show_original.toggled.connect(self.compare.set_show_original)
        a.fit.triggered.connect(self.compare.fit)
        a.zoom_100.triggered.connect(lambda: self.compare.zoom_to(100))
        a.zoom_in.triggered.connect(lambda: self.compare.zoom_by(1.25))
        a.zoom_out.triggered.connect(lambda: self.compare.zoom_by(0.8))
        a.next_photo.triggered.connect(lambda: self._step_photo(1))
        a.previous_photo.triggered.connect(lambda: self._step_photo(-1))
        a.preferences.triggered.connect(lambda: self.open_preferences())
        a.weights.triggered.connect(lambda: self.open_weights_dialog(None))
        a.about.triggered.connect(self.show_about)
        for mode, action in a.tasks.items():
            action.triggered.connect(lambda _=False, m=mode: self.set_task(m))
        a.undo_stroke.triggered.connect(self.brush.undo)
        a.redo_stroke.triggered.connect(self.brush.redo)
        a.clear_damage.triggered.connect(self.brush.clear)
        a.brush_tool.triggered.connect(lambda: self.brush.set_erasing(False))
        a.eraser_tool.triggered.connect(self.brush.toggle_eraser)
        a.smaller_brush.triggered.connect(self.brush.shrink_brush)
        a.larger_brush.triggered.connect(self.brush.grow_brush)
        self.brush.mask_changed.connect(self._on_brush_mask)
        self.brush.history_changed.connect(self._update_actions)
        self.empty.open_requested.connect(self.choose_photos)
        self.empty.sample_requested.connect(self.open_sample)
        self.filmstrip.document_activated.connect(s.set_current)
        self.filmstrip.remove_requested.connect(s.remove)
        self.filmstrip.retry_requested.connect(s.retry)
        self.fidelity.requested.connect(s.set_fidelity)
        self.fidelity.value_changed.connect(self.faces.set_global_fidelity)
        self.faces.options_changed.connect(self._on_face_options)
        self.faces.face_selected.connect(self._on_face_selected)
        self.compare.zoom_changed.connect(self._on_zoom)
        self.message_bar.fix_requested.connect(self._on_fix)
        s.current_changed.connect(self._show_document)
        s.document_changed.connect(self._on_document_changed)
        s.document_added.connect(lambda _doc: self._update_actions())
        s.document_removed.connect(lambda _doc: self._update_actions())
        s.analysis_changed.connect(self._on_analysis_changed)
        s.result_changed.connect(self._on_result)
        s.render_pending_changed.connect(self.fidelity.set_busy)
        s.render_pending_changed.connect(self.compare.set_busy)
        s.mode_changed.connect(self._on_mode_changed)
        s.problem.connect(self._on_problem)
        s.weights_needed.connect(self._on_weights_needed)
        s.engine_ready.connect(self._on_engine_ready)
        self.saver.problem.connect(self.message_bar.show_problem)
        self.saver.status.connect(self._on_saved)
        self.saver.settings_chosen.connect(self.apply_settings)

    def _restore_window(self) -> None:
        geometry = self.store.geometry()
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        state = self.store.window_state()
        if state is not None:
            self.splitter.restoreState(state)

    # -- opening photos ---------------------------------------------------------------------

    def open_paths(self, paths: list[str | Path]) -> list[PhotoDocument]:
        docs = self.session.open_paths(paths)
        for path in paths:
            if Path(path).exists() and Path(path).resolve() != sample_photo_path().resolve():
                self.store.add_recent(path)
        self._rebuild_recent()
        return docs

    def choose_photos(self) -> None:
        start = self.store.recent_files()[0] if self.store.recent_files() else ""
        files, _ = QFileDialog.getOpenFileNames(
            self,
            "Open photos",
            str(Path(start).parent) if start else "",
            "Photos (*.jpg *.jpeg *.png *.webp *.tif *.tiff *.bmp);;All files (*)",
        )
        if files:
            self.open_paths(list(files))

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open every photo in a folder")
        if folder:
            self.open_paths([folder])

    def open_sample(self) -> list[PhotoDocument]:
        return self.open_paths([sample_photo_path()])

    def paste(self) -> bool:
        """Open what the clipboard holds: files, or an image."""
        mime = QGuiApplication.clipboard().mimeData()
        if mime is None:
            return False
        files = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()] if mime.hasUrls() else []
        if not files and mime.hasText():
            text = mime.text().strip().strip('"')
            if text and "\n" not in text and Path(text).exists():
                files = [text]
        if files:
            self.open_paths(list(files))
            return True
        if mime.hasImage():
            image = QImage(mime.imageData())
            if not image.isNull():
                self.open_image(image)
                return True
        self.message_bar.show_problem(
            Problem(kind="notice", message="The clipboard holds no image and no photo files.")
        )
        return False

    def open_image(self, image: QImage) -> PhotoDocument:
        rgb, alpha = rgb_from_qimage(image)
        self._paste_count += 1
        return self.session.open_pixels(rgb, alpha, f"Pasted image {self._paste_count}")

    def remove_current(self) -> None:
        if self.session.current is not None:
            self.session.remove(self.session.current)

    def _step_photo(self, step: int) -> None:
        docs = self.session.documents
        if not docs:
            return
        current = self.session.current
        index = docs.index(current) if current in docs else -1
        self.session.set_current(docs[(index + step) % len(docs)])

    def _rebuild_recent(self) -> None:
        self.recent_menu.clear()
        files = self.store.recent_files()
        for path in files:
            action = self.recent_menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _=False, p=path: self.open_paths([p]))
        if files:
            self.recent_menu.addSeparator()
            clear = self.recent_menu.addAction("Clear Recent")
            clear.triggered.connect(self._clear_recent)
        self.recent_menu.setEnabled(bool(files))

    def _clear_recent(self) -> None:
        self.store.clear_recent()
        self._rebuild_recent()

    # -- drag and drop ----------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        mime = event.mimeData()
        if (mime.hasUrls() and any(u.isLocalFile() for u in mime.urls())) or mime.hasImage():
            event.acceptProposedAction()
            self.empty.set_drag_over(True)

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self.empty.set_drag_over(False)

    def dropEvent(self, event: QDropEvent) -> None:
        self.empty.set_drag_over(False)
        mime = event.mimeData()
        files = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
        if files:
            self.open_paths(list(files))
        elif mime.hasImage():
            self.open_image(QImage(mime.imageData()))
        event.acceptProposedAction()

    # -- showing the session ----------------------------------------------------------------

    def _show_document(self, doc: PhotoDocument | None) -> None:
        self._update_actions()
        self._show_task(doc.mode if doc is not None else self.session.default_mode, doc)
        if doc is None:
            self.stack.setCurrentWidget(self.empty)
            self.compare.clear()
            self.faces.set_faces({}, {}, self.fidelity.value())
            self.faces.set_hint("Open a photo to see its faces.")
            self.fidelity.set_shown(None)
            self.setWindowTitle("CodeFormer Studio")
            self.photo_status.setText("")
            self.zoom_label.setText("")
            return
        self.stack.setCurrentWidget(self.compare)
        self.setWindowTitle(f"{doc.name} — CodeFormer Studio")
        self._push_images(doc)
        self._on_analysis_changed(doc)
        self._on_document_changed(doc)
        self.fidelity.set_shown(doc.result_fidelity, doc.result_seconds if doc.result else None)
        self.fidelity.set_busy(doc.render_pending)
        self.compare.set_busy(doc.render_pending)

    def _push_images(self, doc: PhotoDocument) -> None:
        before, after = doc.original, doc.result
        scale = 1.0
        if before is not None and after is not None and before.width() > 0:
            scale = after.width() / before.width()
        self.compare.set_images(before, after, scale, doc.result_patches)
        fidelity = (
            f" · fidelity {doc.result_fidelity:.2f}"
            if doc.result_fidelity is not None and doc.mode.uses_fidelity
            else ""
        )
        self.compare.set_labels("Original", f"{RESULT_LABELS[doc.mode]}{fidelity}")

    def _on_document_changed(self, doc: PhotoDocument) -> None:
        if doc is not self.session.current:
            return
        text = f"{doc.name}: {status_text(doc)}"
        if doc.photo is not None:
            text += f" · {doc.photo.width} × {doc.photo.height}"
        if doc.status is Status.FAILED and doc.problem is not None:
            text = f"{doc.name}: {doc.problem.message}"
        self.photo_status.setText(text)
        if doc.damage is not None and self._brush_doc is not doc and doc.mode.needs_mask:
            self._show_brush(doc)  # the photo was read: its damage can be painted now
        if doc.status in (Status.LOADING, Status.QUEUED, Status.ANALYSING):
            self.faces.set_hint(f"{status_text(doc)} Faces appear when the analysis is done.")
        elif doc.status is Status.FAILED:
            self.faces.set_hint("This photo could not be analysed.")
        elif doc.status is Status.NEEDS_WEIGHTS:
            needs = doc.problem.message if doc.problem is not None else "Model files are missing."
            self.faces.set_hint(f"{doc.mode.title}: {needs} (Help ▸ Model Files…)")
        if doc.original is not None and self.compare.main.sceneRect().isEmpty():
            self._push_images(doc)
        waiting = {
            Status.LOADING: "opening…",
            Status.QUEUED: "queued for analysis",
            Status.ANALYSING: "analysing…",
            Status.READY: WORKING[doc.mode],
        }.get(doc.status, "")
        self.compare.set_waiting(waiting)
        self._update_actions()

    def _on_analysis_changed(self, doc: PhotoDocument) -> None:
        if doc is not self.session.current:
            return
        crops = doc.face_images
        self.faces.set_faces(crops, doc.face_options, self.fidelity.value())
        self.faces.set_results(crops, doc.result_faces)
        if doc.analysis is not None:
            count = len(doc.faces)
            hint = "Select a face to outline it in the photo."
            if doc.mode.needs_mask:
                hint = "Paint over the damage on a face; select a face to outline it."
            self.faces.set_hint(
                "No face was found in this photo; it is shown unchanged." if count == 0 else hint
            )
        self.compare.set_highlight(None)

    def _on_result(self, doc: PhotoDocument) -> None:
        if doc is not self.session.current:
            return
        self._push_images(doc)
        self.faces.set_results(doc.face_images, doc.result_faces)
        self.fidelity.set_shown(doc.result_fidelity, doc.result_seconds)
        if doc.result is None:
            return
        when = time.strftime("%H:%M:%S", time.localtime(doc.result_finished_at))
        self.render_status.setText(f"Last render {doc.result_seconds:.2f} s at {when}")
        self._update_actions()

    def _on_face_options(self, index: int, options: Any) -> None:
        doc = self.session.current
        if doc is not None:
            self.session.set_face_options(doc, index, options)

    def _on_face_selected(self, index: int) -> None:
        doc = self.session.current
        face = next((f for f in doc.faces if f.index == index), None) if doc else None
        if face is None or doc is None:
            self.compare.set_highlight(None)
            return
        scale = self.compare.main.sceneRect().width() / max(1, doc.photo.width)
        x1, y1, x2, y2 = (float(v) * scale for v in face.box[:4])
        self.compare.set_highlight(QRectF(x1, y1, x2 - x1, y2 - y1))

    def _on_zoom(self, percent: float) -> None:
        shown = self.session.current is not None and not self.compare.main.sceneRect().isEmpty()
        self.zoom_label.setText(f"{percent:.0f} %" if shown else "")

    def _on_engine_ready(self, description: str) -> None:
        self._device = description
        self.device_status.setText(f"Device: {description}" if description else "")

    # -- tasks ------------------------------------------------------------------------------

    def set_task(self, mode: TaskMode) -> None:
        """Work on the photo on screen with this task (and open new photos in it)."""
        doc = self.session.current
        if doc is None:
            self.session.set_default_mode(mode)
            self._show_task(mode, None)
        else:
            self.session.set_mode(doc, mode)
        self.actions_.tasks[mode].setChecked(True)

    @property
    def task(self) -> TaskMode:
        doc = self.session.current
        return doc.mode if doc is not None else self.session.default_mode

    def _on_mode_changed(self, doc: PhotoDocument) -> None:
        if doc is self.session.current:
            self._show_document(doc)

    def _show_task(self, mode: TaskMode, doc: PhotoDocument | None) -> None:
        """The controls of a task: the switch, the fidelity, the note, the brush."""
        self.actions_.tasks[mode].setChecked(True)
        reason = fixed_fidelity_reason(mode)
        self.fidelity.set_fixed(reason, mode.fixed_fidelity)
        if mode is TaskMode.RESTORE:
            self.task_note.hide()
        else:
            self.task_note.setText(f"{mode.note}\nModel: {mode.checkpoint().filename}")
            self.task_note.show()
        self.faces.set_task(mode.title, mode.uses_fidelity)
        inpaint = mode.needs_mask and doc is not None
        self.inpaint_bar.setVisible(inpaint)
        if inpaint and doc is not None and doc.damage is not None:
            self._show_brush(doc)
        else:
            self._hide_brush()
        self._update_actions()

    def _show_brush(self, doc: PhotoDocument) -> None:
        assert doc.damage is not None
        if self._brush_doc is not doc or self.brush.mask() is not doc.damage:
            self.brush.set_mask(doc.damage)
        self._brush_doc = doc
        self.compare.set_overlay(self.brush)
        self.inpaint_tools.bind(self.brush)
        self._update_actions()

    def _hide_brush(self) -> None:
        self._brush_doc = None
        self.compare.set_overlay(None)
        self.inpaint_tools.bind(None)

    def _on_brush_mask(self, mask: Any) -> None:
        doc = self._brush_doc
        if doc is not None and doc in self.session.documents:
            self.session.set_damage(doc, mask)

    def set_compare_mode(self, mode: str) -> None:
        self.compare.set_mode(mode)
        self._sync_compare_actions()

    def _sync_compare_actions(self) -> None:
        mode = self.compare.mode
        self.actions_.wipe.setChecked(mode == "wipe")
        self.actions_.side_by_side.setChecked(mode == "side_by_side")

    def _update_actions(self) -> None:
        a = self.actions_
        doc = self.session.current
        has_doc = doc is not None
        can_save = has_doc and doc.photo is not None and doc.status is not Status.FAILED
        a.save.setEnabled(can_save)
        a.save_as.setEnabled(can_save)
        a.export_all.setEnabled(any(d.status is not Status.FAILED for d in self.session.documents))
        a.remove.setEnabled(has_doc)
        for action in (a.fit, a.zoom_100, a.zoom_in, a.zoom_out, a.show_original):
            action.setEnabled(has_doc)
        many = len(self.session.documents) > 1
        a.next_photo.setEnabled(many)
        a.previous_photo.setEnabled(many)
        painting = self._brush_doc is not None and self.compare.overlay is self.brush
        mask = self.brush.mask()
        a.undo_stroke.setEnabled(painting and mask.can_undo)
        a.redo_stroke.setEnabled(painting and mask.can_redo)
        a.clear_damage.setEnabled(painting and not mask.is_empty)
        for action in (a.brush_tool, a.eraser_tool, a.smaller_brush, a.larger_brush):
            action.setEnabled(painting)

    # -- holding a key to see the original --------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease) and self.isActiveWindow():
            key_event: QKeyEvent = event  # type: ignore[assignment]
            if key_event.key() in HOLD_KEYS and not self._typing():
                if not key_event.isAutoRepeat():
                    pressed = kind == QEvent.Type.KeyPress
                    if pressed:
                        self._holding.add(key_event.key())
                    else:
                        self._holding.discard(key_event.key())
                    self.compare.set_show_original(
                        bool(self._holding) or self.actions_.show_original.isChecked()
                    )
                return True
        elif kind == QEvent.Type.WindowDeactivate and watched is self and self._holding:
            self._holding.clear()
            self.compare.set_show_original(self.actions_.show_original.isChecked())
        return False

    def _typing(self) -> bool:
        focus = QApplication.focusWidget()
        return isinstance(focus, (QLineEdit, QAbstractSpinBox))

    # -- problems and weights ---------------------------------------------------------------

    def _on_problem(self, problem: Problem, doc: PhotoDocument | None) -> None:
        if doc is not None and doc is not self.session.current and problem.kind == "notice":
            return
        self.message_bar.show_problem(problem)

    def _on_fix(self, problem: Problem) -> None:
        if problem.fix is Fix.GET_WEIGHTS:
            self.open_weights_dialog(None)
        elif problem.fix is Fix.PREFERENCES:
            self.open_preferences()
        elif problem.fix is Fix.REMOVE_PHOTO:
            failed = [d for d in self.session.documents if d.problem == problem]
            for doc in failed or ([self.session.current] if self.session.current else []):
                self.session.remove(doc)
        elif problem.fix is Fix.CHOOSE_FOLDER:
            self.open_preferences(tab=2)
        elif problem.fix is Fix.RETRY and self.session.current is not None:
            self.session.retry(self.session.current)

    def _on_weights_needed(self, needed: WeightsNeeded) -> None:
        doc = self.session.current
        asked = (
            needed.variant != TaskMode.RESTORE.variant
            and doc is not None
            and needed.doc_id == doc.doc_id
            and doc.mode.variant == needed.variant
        )
        if asked:
            # The user chose a task whose model is missing: offer it at once.
            self._last_needed = needed
            mode = TaskMode.from_variant(needed.variant)
            self.open_weights_dialog(
                needed, heading=f"{mode.title} needs {mode.checkpoint().filename}"
            )
            return
        if not self._first_run_shown:
            self._first_run_shown = True
            self.open_weights_dialog(needed, first_run=True)
        elif self._weights_dialog is None or not self._weights_dialog.isVisible():
            names = ", ".join(getattr(f, "filename", str(f)) for f in needed.files)
            self.message_bar.show_problem(
                Problem(
                    kind="weights_missing",
                    message=f"The model files {names} are not installed.",
                    fix=Fix.GET_WEIGHTS,
                    fix_label="Get weights…",
                )
            )
        self._last_needed = needed

    def open_weights_dialog(
        self, needed: WeightsNeeded | None, first_run: bool = False, heading: str | None = None
    ) -> Any:
        from desktop.weights_dialog import WeightsDialog

        needed = needed or self._last_needed
        files = list(needed.files) if needed is not None else self._catalogue_files()
        shown = self._weights_dialog
        if shown is not None and shown.isVisible():
            listed = {f.filename for f in shown.files}
            if shown.downloading or all(f.filename in listed for f in files):
                shown.raise_()
                return shown
            shown.close()  # another task's files: list those instead
        folder = self._weights_folder()
        dialog = WeightsDialog(files, folder, first_run=first_run, heading=heading, parent=self)
        dialog.installed.connect(self._on_weights_installed)
        dialog.show()
        self._weights_dialog = dialog
        return dialog

    def _catalogue_files(self) -> list[Any]:
        """The files the current settings use: CodeFormer, a downloaded detector if one is chosen
        (YuNet is built in), face parsing, the upsampler."""
        from core.faces.detectors import AUTO, detector_choice
        from core.weights import codeformer_file, weights_file

        settings = self.session.settings
        files = [codeformer_file("restoration")]
        if self.task is not TaskMode.RESTORE:
            files.append(self.task.checkpoint())
        chosen = None if settings.detector == AUTO else detector_choice(settings.detector)
        if chosen is not None and chosen.weights_key is not None:
            files.append(weights_file(chosen.weights_key))
        if settings.paste_mask == "parsing":
            files.append(weights_file("parsing-parsenet"))
        if settings.background == "realesrgan" or settings.face_upsample:
            files.append(weights_file("realesrgan-x4" if settings.upscale > 2 else "realesrgan-x2"))
        return files

    def _weights_folder(self) -> Path:
        if self._weights_folder_for is not None:
            return self._weights_folder_for(self.session.settings)
        from desktop.engine_factory import weights_folder

        return weights_folder(self.session.settings)

    def _on_weights_installed(self) -> None:
        self.message_bar.dismiss()
        self.session.weights_installed()

    # -- the model --------------------------------------------------------------------------

    def model_text(self) -> str:
        """Which CodeFormer model is in use, in words (status bar and About)."""
        own = self.session.settings.model_file
        if own:
            return f"{Path(own).name} (your own model file)"
        return "the official CodeFormer models (codeformer.pth, …)"

    def _show_model(self) -> None:
        own = self.session.settings.model_file
        self.model_status.setText(f"Model: {Path(own).name}" if own else "Model: official")
        self.model_status.setToolTip(f"Using {self.model_text()}: File ▸ Use a Model File…")

    def choose_model_file(self, path: str | Path | None = None) -> None:
        """Use a CodeFormer checkpoint of the user's own (checked by structure when the worker
        loads it; a bad file is reported naming it). An empty choice, or "Use the official
        model" in the question, goes back to the catalogued files."""
        if path is None:
            current = self.session.settings.model_file
            if current:
                box = QMessageBox(self)
                box.setWindowTitle("Model file")
                box.setText(f"Now using {Path(current).name}.")
                other = box.addButton("Choose another file…", QMessageBox.ButtonRole.AcceptRole)
                official = box.addButton("Use the official model", QMessageBox.ButtonRole.ResetRole)
                box.addButton(QMessageBox.StandardButton.Cancel)
                box.exec()
                if box.clickedButton() is official:
                    self.apply_settings(dataclasses.replace(self.session.settings, model_file=""))
                    return
                if box.clickedButton() is not other:
                    return
            chosen, _ = QFileDialog.getOpenFileName(
                self,
                "Use a CodeFormer model file",
                str(Path(current).parent) if current else "",
                "CodeFormer checkpoints (*.pth *.pt *.safetensors);;All files (*)",
            )
            if not chosen:
                return
            path = chosen
        self.apply_settings(dataclasses.replace(self.session.settings, model_file=str(Path(path))))

    # -- preferences and about --------------------------------------------------------------

    def open_preferences(self, tab: int = 0, *, run: bool = True) -> PreferencesDialog:
        dialog = PreferencesDialog(self.session.settings, self)
        dialog.tabs.setCurrentIndex(tab)
        if run and dialog.exec():
            self.apply_settings(dialog.settings())
        return dialog

    def apply_settings(self, settings: StudioSettings) -> None:
        settings = dataclasses.replace(
            settings, fidelity=self.fidelity.value(), compare_mode=self.compare.mode
        )
        self.store.save(settings)
        factory = self._factory_for(settings) if self._factory_for is not None else None
        self.session.apply_settings(settings, factory)
        self._show_model()

    def show_about(self) -> None:
        AboutDialog(self._version, self._device, self.model_text(), self).exec()

    # -- saving -----------------------------------------------------------------------------

    def save_current(self) -> int | None:
        return self.saver.save_current()

    def save_current_as(self, path: Path | str | None = None) -> int | None:
        return self.saver.save_current_as(path)

    def export_all(self, options: ExportOptions | None = None) -> int | None:
        return self.saver.export_all(options)

    @property
    def export_results(self) -> list[ExportFinished]:
        return self.saver.export_results

    def _on_saved(self, text: str) -> None:
        self.photo_status.setText(text)
        self.statusBar().showMessage(text, 8000)

    # -- closing ----------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._closing:
            event.accept()
            return
        self._closing = True
        QApplication.instance().removeEventFilter(self)
        settings = dataclasses.replace(
            self.session.settings, fidelity=self.fidelity.value(), compare_mode=self.compare.mode
        )
        self.store.save(settings)
        self.store.save_window(self.saveGeometry(), self.splitter.saveState())
        if self._weights_dialog is not None:
            self._weights_dialog.close()
        self.statusBar().showMessage("Finishing the current step…")
        self.session.shutdown()
        event.accept()
