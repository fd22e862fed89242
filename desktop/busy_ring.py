"""A small spinning ring that says "working", painted with QPainter arcs.

It replaces qtawesome's animated icon: that one draws each frame through a QRawFont cached per
`str(QThread.currentThread())`, a key PySide renders differently from call to call, so every
frame loaded the icon font again and the cache grew without end (hundreds of MB per render of a
full-size photo). This ring draws two arcs and keeps nothing; its timer runs only while it spins.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

FRAME_MS = 40  # 25 frames a second, only while spinning
STEP_DEGREES = 12


class BusyRing(QWidget):
    """A ring with a turning arc. `start()` / `stop()`; `spinning` says which."""

    def __init__(
        self, diameter: int = 16, color: str = "#4da3ff", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._diameter = diameter
        self._color = QColor(color)
        self._angle = 0
        self._timer = QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self._turn)
        self.setFixedSize(QSize(diameter, diameter))

    @property
    def spinning(self) -> bool:
        return self._timer.isActive()

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _turn(self) -> None:
        self._angle = (self._angle + STEP_DEGREES) % 360
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        width = max(2.0, self._diameter / 8)
        rect = QRectF(self.rect()).adjusted(width, width, -width, -width)
        track = QColor(self._color)
        track.setAlpha(60)
        painter.setPen(QPen(track, width))
        painter.drawEllipse(rect)
        pen = QPen(self._color, width)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        painter.drawArc(rect, -self._angle * 16, 100 * 16)  # Qt angles are 1/16 degree
        painter.end()
