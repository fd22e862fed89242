"""The faces of the photo on screen: before/after thumbnails, restore on/off, own fidelity.

Selecting a face emits `face_selected(index)` (the window outlines it in the compare view); -1
means none.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.choices import FaceChoice

THUMB = 52


def _thumb(image: QImage | None, device_pixel_ratio: float) -> QPixmap:
    side = round(THUMB * device_pixel_ratio)
    if image is None or image.isNull():
        pixmap = QPixmap(side, side)
        pixmap.fill(Qt.GlobalColor.transparent)
    else:
        pixmap = QPixmap.fromImage(
            image.scaled(
                side,
                side,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        )
    pixmap.setDevicePixelRatio(device_pixel_ratio)
    return pixmap


class FaceRow(QWidget):
    """One face: [before][after]  Face n / Restore / Own fidelity [0.50]."""

    options_changed = Signal(int, object)  # index, FaceChoice

    def __init__(self, index: int, options: FaceChoice, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.index = index
        self.before = QLabel()
        self.after = QLabel()
        for label, tip in ((self.before, "Original face"), (self.after, "Restored face")):
            label.setFixedSize(THUMB, THUMB)
            label.setObjectName("faceThumb")
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setToolTip(tip)
        title = QLabel(f"Face {index + 1}")
        title.setObjectName("faceTitle")
        self.restore = QCheckBox("Restore")
        self.restore.setToolTip("Restore this face, or leave it as in the original")
        self.own = QCheckBox("Own fidelity")
        self.own.setObjectName("ownFidelity")
        self.own.setToolTip("Give this face its own fidelity instead of following the slider")
        self.fidelity = QDoubleSpinBox()
        self.fidelity.setRange(0.0, 1.0)
        self.fidelity.setDecimals(2)
        self.fidelity.setSingleStep(0.05)
        self.fidelity.setKeyboardTracking(False)
        self.fidelity.setToolTip("This face's fidelity: 0 quality … 1 identity")
        self.fidelity.setFixedWidth(62)

        text = QVBoxLayout()
        text.setSpacing(2)
        text.addWidget(title)
        text.addWidget(self.restore)
        own_row = QHBoxLayout()
        own_row.setSpacing(4)
        own_row.addWidget(self.own)
        own_row.addWidget(self.fidelity)
        own_row.addStretch(1)
        text.addLayout(own_row)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addWidget(self.before)
        layout.addWidget(self.after)
        layout.addLayout(text, 1)

        self._global = 0.5
        self.set_options(options)
        self.restore.toggled.connect(self._emit)
        self.own.toggled.connect(self._emit)
        self.fidelity.valueChanged.connect(self._emit)

    def set_options(self, options: FaceChoice) -> None:
        for widget in (self.restore, self.own, self.fidelity):
            widget.blockSignals(True)
        self.restore.setChecked(options.enabled)
        self.own.setChecked(options.fidelity is not None)
        self.fidelity.setValue(options.fidelity if options.fidelity is not None else self._global)
        self._sync_enabled()
        for widget in (self.restore, self.own, self.fidelity):
            widget.blockSignals(False)

    def options(self) -> FaceChoice:
        return FaceChoice(
            enabled=self.restore.isChecked(),
            fidelity=round(self.fidelity.value(), 2) if self.own.isChecked() else None,
        )

    def set_global_fidelity(self, value: float) -> None:
        self._global = value
        if not self.own.isChecked():
            self.fidelity.blockSignals(True)
            self.fidelity.setValue(value)
            self.fidelity.blockSignals(False)

    def set_task(self, verb: str, own_fidelity: bool) -> None:
        """Name the checkbox after the task ("Restore", "Colorize", "Inpaint"); `own_fidelity`:
        whether a face may have its own fidelity (not where the task's fidelity is fixed)."""
        self.restore.setText(verb)
        self.restore.setToolTip(f"{verb} this face, or leave it as in the original")
        self.own.setVisible(own_fidelity)
        self.fidelity.setVisible(own_fidelity)

    def set_images(self, before: QImage | None, after: QImage | None) -> None:
        dpr = self.devicePixelRatioF()
        self.before.setPixmap(_thumb(before, dpr))
        self.after.setPixmap(_thumb(after, dpr))

    def _sync_enabled(self) -> None:
        self.own.setEnabled(self.restore.isChecked())
        self.fidelity.setEnabled(self.restore.isChecked() and self.own.isChecked())

    def _emit(self) -> None:
        self._sync_enabled()
        self.options_changed.emit(self.index, self.options())


class FacesPanel(QWidget):
    options_changed = Signal(int, object)  # index, FaceChoice
    face_selected = Signal(int)  # -1: none

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("Faces")
        self.title.setObjectName("sectionTitle")
        self.hint = QLabel("")
        self.hint.setObjectName("hint")
        self.hint.setWordWrap(True)
        self.list = QListWidget()
        self.list.setObjectName("facesList")
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setToolTip("Select a face to outline it in the photo")
        self.list.currentRowChanged.connect(self._on_row)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.title)
        layout.addWidget(self.hint)
        layout.addWidget(self.list, 1)
        self._rows: dict[int, FaceRow] = {}
        self._indices: list[int] = []
        self._task = ("Restore", True)
        self.set_hint("Open a photo to see its faces.")

    def set_hint(self, text: str) -> None:
        self.hint.setText(text)
        self.hint.setVisible(bool(text))

    def rows(self) -> dict[int, FaceRow]:
        return dict(self._rows)

    def set_faces(
        self,
        faces: Mapping[int, QImage],
        options: Mapping[int, FaceChoice],
        global_fidelity: float,
    ) -> None:
        """One row per face index: `faces` maps index -> the original aligned crop."""
        self.list.blockSignals(True)
        self.list.clear()
        self._rows.clear()
        self._indices = sorted(faces)
        for index in self._indices:
            row = FaceRow(index, options.get(index, FaceChoice()))
            row.set_global_fidelity(global_fidelity)
            row.set_task(*self._task)
            row.set_images(faces[index], None)
            row.options_changed.connect(self.options_changed)
            item = QListWidgetItem()
            item.setSizeHint(QSize(0, max(THUMB, row.sizeHint().height()) + 4))
            self.list.addItem(item)
            self.list.setItemWidget(item, row)
            self._rows[index] = row
        self.list.setCurrentRow(-1)
        self.list.blockSignals(False)
        count = len(self._indices)
        self.title.setText(f"Faces ({count})" if count else "Faces")

    def set_task(self, verb: str, own_fidelity: bool) -> None:
        """See `FaceRow.set_task`; applies to the rows shown and to those to come."""
        self._task = (verb, own_fidelity)
        for row in self._rows.values():
            row.set_task(verb, own_fidelity)

    def set_results(self, before: Mapping[int, QImage], after: Mapping[int, QImage]) -> None:
        for index, row in self._rows.items():
            row.set_images(before.get(index), after.get(index))

    def set_global_fidelity(self, value: float) -> None:
        for row in self._rows.values():
            row.set_global_fidelity(value)

    def select(self, index: int) -> None:
        self.list.setCurrentRow(self._indices.index(index) if index in self._indices else -1)

    def selected(self) -> int:
        row = self.list.currentRow()
        return self._indices[row] if 0 <= row < len(self._indices) else -1

    def _on_row(self, row: int) -> None:
        self.face_selected.emit(self._indices[row] if 0 <= row < len(self._indices) else -1)
