"""What the window shows with no photo open: an invitation to drop photos."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop.icons import icon


class EmptyState(QWidget):
    open_requested = Signal()
    sample_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("emptyState")
        self._drag_over = False
        art = QLabel()
        art.setPixmap(icon("drop", "#6f7782").pixmap(QSize(72, 72)))
        art.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title = QLabel("Drop photos or folders here")
        title.setObjectName("emptyTitle")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        subtitle = QLabel(
            "Old, blurry or damaged portraits: CodeFormer restores the faces.\n"
            "JPEG, PNG, WebP, TIFF and BMP. You can also paste an image (Ctrl+V)."
        )
        subtitle.setObjectName("emptySubtitle")
        subtitle.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.open_button = QPushButton(icon("open", "white"), "  Open photos…")
        self.open_button.setObjectName("primaryButton")
        self.open_button.setToolTip("Choose photos to restore (Ctrl+O)")
        self.open_button.clicked.connect(self.open_requested)
        self.sample_button = QPushButton(icon("sample"), "  Try a sample photo")
        self.sample_button.setToolTip(
            "Open a worn, blurry copy of a public-domain portrait of Grace Hopper"
        )
        self.sample_button.clicked.connect(self.sample_requested)
        for button in (self.open_button, self.sample_button):
            button.setMinimumHeight(36)
            button.setCursor(Qt.CursorShape.PointingHandCursor)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        buttons.addSpacing(8)
        buttons.addWidget(self.sample_button)
        buttons.addStretch(1)
        column = QVBoxLayout(self)
        column.addStretch(3)
        column.addWidget(art)
        column.addSpacing(10)
        column.addWidget(title)
        column.addSpacing(4)
        column.addWidget(subtitle)
        column.addSpacing(22)
        column.addLayout(buttons)
        column.addStretch(4)

    def set_drag_over(self, active: bool) -> None:
        self._drag_over = active
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        margin = 28
        rect = QRectF(self.rect()).adjusted(margin, margin, -margin, -margin)
        color = QColor("#4da3ff") if self._drag_over else QColor("#4a4f57")
        pen = QPen(color, 2, Qt.PenStyle.DashLine)
        pen.setDashPattern([6, 5])
        painter.setPen(pen)
        painter.setBrush(QColor(77, 163, 255, 22) if self._drag_over else Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(rect, 18, 18)
