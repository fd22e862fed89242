"""The fidelity control: a slider from Quality (0) to Identity (1) with a numeric field.

`value_changed` fires on every change; `requested` is throttled (at most one per `interval_ms`
while dragging, always ending with the last value), which is what goes to the worker.

Tasks with a fixed fidelity (Colorize, Inpaint) grey the control out with `set_fixed(reason)`; the
slider keeps its value for when Restore comes back.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QWidget,
)

from desktop.busy_ring import BusyRing
from desktop.throttle import Throttler

STEPS = 100
THROTTLE_MS = 80
SLIDER_TIP = (
    "Fidelity w. Towards Quality: the network trusts its learned faces (sharper, cleaner, "
    "may look less like the person). Towards Identity: it keeps more of the original "
    "(truer to the person, keeps more of the damage)."
)
SPIN_TIP = "Fidelity, 0 (quality) to 1 (identity)"


class FidelityPanel(QWidget):
    value_changed = Signal(float)
    requested = Signal(float)

    def __init__(self, value: float = 0.5, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._throttle = Throttler(THROTTLE_MS, self)
        self._throttle.triggered.connect(lambda v: self.requested.emit(float(v)))

        self._fixed: str | None = None
        self._kept = value
        title = QLabel("Fidelity")
        title.setObjectName("sectionTitle")
        self._title = title
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, STEPS)
        self.slider.setPageStep(10)
        self.slider.setToolTip(SLIDER_TIP)
        self.slider.setAccessibleName("Fidelity")
        self.spin = QDoubleSpinBox()
        self.spin.setRange(0.0, 1.0)
        self.spin.setDecimals(2)
        self.spin.setSingleStep(0.05)
        self.spin.setToolTip(SPIN_TIP)
        self.spin.setAccessibleName("Fidelity value")
        self.spin.setKeyboardTracking(False)
        self.spin.setFixedWidth(72)
        low = QLabel("Quality")
        high = QLabel("Identity")
        for label in (low, high):
            label.setObjectName("endLabel")
        low.setToolTip("0: the cleanest face the network can make")
        high.setToolTip("1: as close to the original face as it can stay")
        self._ends = (low, high)
        self._end_tips = (low.toolTip(), high.toolTip())

        self.busy = BusyRing()
        self.busy.setToolTip("Rendering…")
        policy = self.busy.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.busy.setSizePolicy(policy)
        self.busy.hide()
        self.shown = QLabel("")
        self.shown.setObjectName("hint")
        self.shown.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.shown.setToolTip("The fidelity the picture on screen was computed for")

        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(4)
        header = QHBoxLayout()
        header.addWidget(title)
        header.addStretch(1)
        header.addWidget(self.spin)
        grid.addLayout(header, 0, 0, 1, 3)
        grid.addWidget(self.slider, 1, 0, 1, 3)
        grid.addWidget(low, 2, 0, Qt.AlignmentFlag.AlignLeft)
        grid.addWidget(high, 2, 2, Qt.AlignmentFlag.AlignRight)
        status = QHBoxLayout()
        status.setSpacing(6)
        status.addWidget(self.shown, 1)
        status.addWidget(self.busy)
        grid.addLayout(status, 3, 0, 1, 3)

        self._updating = False
        self.slider.valueChanged.connect(self._on_slider)
        self.slider.sliderReleased.connect(self._throttle.flush)
        self.spin.valueChanged.connect(self._on_spin)
        self.set_value(value)

    def value(self) -> float:
        """The user's fidelity (kept while a task's fixed value is shown)."""
        if self._fixed is not None:
            return self._kept
        return round(self.spin.value(), 2)

    def set_value(self, value: float) -> None:
        """Set without emitting anything (restoring state)."""
        self._updating = True
        try:
            self.spin.setValue(value)
            self.slider.setValue(round(value * STEPS))
        finally:
            self._updating = False

    def step(self, steps: int, size: float = 0.05) -> None:
        """Move the fidelity by `steps` x `size` (Ctrl+Up / Ctrl+Down), as the user would: the
        new value is rendered. Nothing happens while a task's fixed value is shown."""
        if self._fixed is not None:
            return
        value = min(max(round(self.value() + steps * size, 2), 0.0), 1.0)
        if value != self.value():
            self.spin.setValue(value)  # moves the slider and asks for the render
            self._throttle.flush()

    def _on_slider(self, position: int) -> None:
        if self._updating:
            return
        self._updating = True
        try:
            self.spin.setValue(position / STEPS)
        finally:
            self._updating = False
        self._changed(position / STEPS)

    def _on_spin(self, value: float) -> None:
        if self._updating:
            return
        self._updating = True
        try:
            self.slider.setValue(round(value * STEPS))
        finally:
            self._updating = False
        self._changed(value)

    def _changed(self, value: float) -> None:
        value = round(value, 2)
        self.value_changed.emit(value)
        self._throttle.call(value)

    def set_busy(self, busy: bool) -> None:
        if busy == self.busy.isVisible():
            return
        self.busy.setVisible(busy)
        if busy:
            self.busy.start()
        else:
            self.busy.stop()

    @property
    def spinning(self) -> bool:
        return self.busy.spinning

    def set_fixed(self, reason: str | None, value: float | None = None) -> None:
        """Grey the fidelity out showing the task's fixed `value`, `reason` saying why in the
        tooltips, or give it back with None. The user's value is kept (`value()`) and comes back;
        nothing is emitted."""
        if reason is None:
            if self._fixed is not None:
                self._fixed = None
                self.set_value(self._kept)
        else:
            if self._fixed is None:
                self._kept = self.value()
            self._fixed = reason
            if value is not None:
                self.set_value(value)
        for widget in (self.slider, self.spin, self._title, *self._ends):
            widget.setEnabled(reason is None)
        self.slider.setToolTip(reason or SLIDER_TIP)
        self.spin.setToolTip(reason or SPIN_TIP)
        self._title.setToolTip(reason or "")
        for end, tip in zip(self._ends, self._end_tips, strict=True):
            end.setToolTip(reason or tip)

    @property
    def fixed(self) -> bool:
        return self._fixed is not None

    def set_shown(self, fidelity: float | None, seconds: float | None = None) -> None:
        """Say which fidelity the picture on screen was computed for."""
        if fidelity is None:
            self.shown.setText("")
            return
        text = f"{'Fixed' if self._fixed else 'Showing'} fidelity {fidelity:.2f}"
        if seconds is not None:
            text += f" · rendered in {seconds:.2f} s"
        self.shown.setText(text)
