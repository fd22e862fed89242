"""A non-modal message strip above the photo: what went wrong and the button that fixes it."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

from desktop.icons import icon
from desktop.problems import Fix, Problem

LEVEL_COLORS = {"error": "#ff6b6b", "warning": "#f5b94d", "info": "#4da3ff"}
INFO_TIMEOUT_MS = 8000


def level_of(problem: Problem) -> str:
    if problem.kind in ("notice",):
        return "info"
    if problem.kind in ("weights_missing",):
        return "warning"
    return "error"


class MessageBar(QFrame):
    """`fix_requested(problem)` when the user presses the action button."""

    fix_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBar")
        self._problem: Problem | None = None
        self.icon = QLabel()
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.action = QPushButton()
        self.action.setObjectName("messageAction")
        self.action.clicked.connect(self._on_action)
        self.close_button = QToolButton()
        self.close_button.setIcon(icon("close"))
        self.close_button.setToolTip("Dismiss")
        self.close_button.setAutoRaise(True)
        self.close_button.clicked.connect(self.dismiss)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 8, 8)
        layout.setSpacing(10)
        layout.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.action, 0, Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.dismiss)
        self.hide()

    @property
    def problem(self) -> Problem | None:
        return self._problem

    def show_problem(self, problem: Problem) -> None:
        self._problem = problem
        level = level_of(problem)
        self.setProperty("level", level)
        self.style().unpolish(self)
        self.style().polish(self)
        name = {"error": "error", "warning": "warning", "info": "info"}[level]
        self.icon.setPixmap(icon(name, LEVEL_COLORS[level]).pixmap(QSize(20, 20)))
        self.text.setText(problem.message)
        self.action.setVisible(problem.fix is not Fix.NONE)
        self.action.setText(problem.fix_label)
        self.show()
        if level == "info":
            self._timer.start(INFO_TIMEOUT_MS)
        else:
            self._timer.stop()

    def dismiss(self) -> None:
        self._problem = None
        self._timer.stop()
        self.hide()

    def _on_action(self) -> None:
        if self._problem is not None:
            problem = self._problem
            self.dismiss()
            self.fix_requested.emit(problem)
