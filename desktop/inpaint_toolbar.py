"""The Inpaint task's tools: brush or eraser, brush size, undo, redo, clear, and a short hint.

`InpaintToolbar.bind(overlay)` connects it both ways to a `BrushOverlay`: the buttons act on the
overlay and follow it when keys change the brush or the history.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import qtawesome as qta
from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QToolButton,
    QWidget,
)

from desktop.brush_overlay import MIN_RADIUS, BrushOverlay

HINT = "Paint over scratches and missing parts of a face; only faces are repaired."
SLIDER_STEPS = 100

# The same colours as desktop.icons (to be moved into its NAMES on integration).
ICON_COLOR = "#d7dbe0"
ICON_COLOR_DISABLED = "#6b7079"
ICONS = {
    "brush": "mdi6.brush",
    "eraser": "mdi6.eraser",
    "undo": "mdi6.undo",
    "redo": "mdi6.redo",
    "clear": "mdi6.delete-sweep-outline",
}


def _icon(name: str) -> QIcon:
    return qta.icon(ICONS[name], color=ICON_COLOR, color_disabled=ICON_COLOR_DISABLED)


class InpaintToolbar(QWidget):
    """Brush / Eraser, size, Undo, Redo, Clear and a hint, for one `BrushOverlay` at a time."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._overlay: BrushOverlay | None = None
        self._updating = False

        self.brush_button = self._tool("brush", "Brush", "Paint the damage (B)", checkable=True)
        self.eraser_button = self._tool(
            "eraser", "Eraser", "Erase what was painted (E toggles)", checkable=True
        )
        self.brush_button.setChecked(True)
        self._mode = QButtonGroup(self)
        self._mode.setExclusive(True)
        self._mode.addButton(self.brush_button)
        self._mode.addButton(self.eraser_button)

        size_title = QLabel("Size")
        self.size_slider = QSlider(Qt.Orientation.Horizontal)
        self.size_slider.setRange(0, SLIDER_STEPS)
        self.size_slider.setFixedWidth(140)
        self.size_slider.setToolTip("Brush diameter in photo pixels ([ smaller, ] larger)")
        self.size_slider.setAccessibleName("Brush size")
        self.size_label = QLabel("")
        self.size_label.setMinimumWidth(52)
        self.size_label.setToolTip("Brush diameter in photo pixels")

        self.undo_button = self._tool("undo", "Undo", "Undo the last stroke (Ctrl+Z)")
        self.redo_button = self._tool("redo", "Redo", "Redo the stroke (Ctrl+Shift+Z)")
        self.clear_button = self._tool("clear", "Clear", "Remove everything painted (undoable)")

        self.hint = QLabel(HINT)
        self.hint.setObjectName("hint")
        self.hint.setWordWrap(True)
        self.hint.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.setSpacing(6)
        layout.addWidget(self.brush_button)
        layout.addWidget(self.eraser_button)
        layout.addWidget(_separator())
        layout.addWidget(size_title)
        layout.addWidget(self.size_slider)
        layout.addWidget(self.size_label)
        layout.addWidget(_separator())
        layout.addWidget(self.undo_button)
        layout.addWidget(self.redo_button)
        layout.addWidget(self.clear_button)
        layout.addSpacing(10)
        layout.addWidget(self.hint, 1)

        self.brush_button.clicked.connect(lambda: self._act(lambda o: o.set_erasing(False)))
        self.eraser_button.clicked.connect(lambda: self._act(lambda o: o.set_erasing(True)))
        self.undo_button.clicked.connect(lambda: self._act(BrushOverlay.undo))
        self.redo_button.clicked.connect(lambda: self._act(BrushOverlay.redo))
        self.clear_button.clicked.connect(lambda: self._act(BrushOverlay.clear))
        self.size_slider.valueChanged.connect(self._on_slider)
        self._sync_brush()
        self._sync_history()

    def _tool(self, icon: str, text: str, tip: str, checkable: bool = False) -> QToolButton:
        button = QToolButton()
        button.setIcon(_icon(icon))
        button.setText(text)
        button.setToolTip(tip)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        button.setCheckable(checkable)
        button.setAutoRaise(True)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the photo
        return button

    # -- the overlay ------------------------------------------------------------------------

    @property
    def overlay(self) -> BrushOverlay | None:
        return self._overlay

    def bind(self, overlay: BrushOverlay | None) -> None:
        """Act on `overlay` (None: nothing; the tools are disabled)."""
        if self._overlay is not None:
            self._overlay.brush_changed.disconnect(self._sync_brush)
            self._overlay.history_changed.disconnect(self._sync_history)
        self._overlay = overlay
        if overlay is not None:
            overlay.brush_changed.connect(self._sync_brush)
            overlay.history_changed.connect(self._sync_history)
        self._sync_brush()
        self._sync_history()

    def _act(self, action: Callable[[BrushOverlay], object]) -> None:
        if self._overlay is not None:
            action(self._overlay)
            self._overlay.setFocus()

    def _sync_brush(self, *_: object) -> None:
        overlay = self._overlay
        for widget in (self.brush_button, self.eraser_button, self.size_slider):
            widget.setEnabled(overlay is not None)
        if overlay is None:
            self.size_label.setText("")
            return
        self._updating = True
        try:
            (self.eraser_button if overlay.erasing else self.brush_button).setChecked(True)
            self.size_slider.setValue(self._position(overlay.brush_radius))
        finally:
            self._updating = False
        self.size_label.setText(f"{2 * overlay.brush_radius:.0f} px")

    def _sync_history(self) -> None:
        mask = self._overlay.mask() if self._overlay is not None else None
        self.undo_button.setEnabled(mask is not None and mask.can_undo)
        self.redo_button.setEnabled(mask is not None and mask.can_redo)
        self.clear_button.setEnabled(mask is not None and not mask.is_empty)

    # -- a logarithmic size slider ----------------------------------------------------------

    def _limits(self) -> tuple[float, float]:
        top = self._overlay.max_brush_radius if self._overlay is not None else 2 * MIN_RADIUS
        return MIN_RADIUS, max(top, 2 * MIN_RADIUS)

    def _position(self, radius: float) -> int:
        low, high = self._limits()
        fraction = math.log(max(radius, low) / low) / math.log(high / low)
        return round(min(max(fraction, 0.0), 1.0) * SLIDER_STEPS)

    def _radius(self, position: int) -> float:
        low, high = self._limits()
        return float(round(low * (high / low) ** (position / SLIDER_STEPS), 1))

    def _on_slider(self, position: int) -> None:
        if self._updating or self._overlay is None:
            return
        self._overlay.set_brush_radius(self._radius(position))


def _separator() -> QFrame:
    line = QFrame()
    line.setFrameShape(QFrame.Shape.VLine)
    line.setFrameShadow(QFrame.Shadow.Plain)
    line.setStyleSheet("color: #3a3d42;")
    return line
