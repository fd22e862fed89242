"""A throttle for fast streams of values (a dragged slider): first value at once, then at most one
value per interval, and always the last one (superqt's throttler, trimmed to what we need)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

_NOTHING = object()


class Throttler(QObject):
    """`call(value)` as often as you like; `triggered(value)` fires at most every `interval_ms`."""

    triggered = Signal(object)

    def __init__(self, interval_ms: int = 80, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pending: Any = _NOTHING
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._on_timeout)

    @property
    def interval_ms(self) -> int:
        return self._timer.interval()

    def call(self, value: object) -> None:
        if self._timer.isActive():
            self._pending = value
            return
        self.triggered.emit(value)
        self._timer.start()

    @property
    def pending(self) -> object | None:
        """The value waiting for the interval to end, or None."""
        return None if self._pending is _NOTHING else self._pending

    def cancel(self) -> None:
        """Forget the pending value and stop the timer."""
        self._pending = _NOTHING
        self._timer.stop()

    def flush(self) -> None:
        """Emit the pending value now, if any."""
        if self._pending is not _NOTHING:
            self._timer.stop()
            self._on_timeout()

    def _on_timeout(self) -> None:
        if self._pending is _NOTHING:
            return
        value, self._pending = self._pending, _NOTHING
        self.triggered.emit(value)
        self._timer.start()
