"""The window paints before the worker starts importing torch, and the worker does start."""

from __future__ import annotations

import textwrap

from tests.desktop_support import run_app_script

SCRIPT = textwrap.dedent(
    """
    import sys, time
    from PySide6.QtCore import QEvent, QObject, QTimer
    from desktop.app import create_window, make_application

    seen = {}

    class FirstPaint(QObject):
        def eventFilter(self, obj, event):
            if "paint" not in seen and event.type() == QEvent.Type.Paint:
                seen["paint"] = "torch" in sys.modules
            return False

    def wait_for_torch(deadline=time.time() + 60):
        if "torch" in sys.modules or time.time() > deadline:
            seen["worker"] = "torch" in sys.modules
            app.quit()
        else:
            QTimer.singleShot(20, wait_for_torch)

    app = make_application()
    watcher = FirstPaint()
    app.installEventFilter(watcher)
    window = create_window([], check_weights=True)
    app.aboutToQuit.connect(window.session.shutdown)
    QTimer.singleShot(0, wait_for_torch)
    app.exec()
    print("PAINT-WITHOUT-TORCH" if seen.get("paint") is False else f"PAINT {seen}")
    print("WORKER-STARTED" if seen.get("worker") else f"WORKER {seen}")
    """
)


def test_first_paint_comes_before_torch_and_the_worker_then_starts(tmp_path) -> None:
    done = run_app_script(SCRIPT, tmp_path)
    lines = done.stdout.split()
    assert "PAINT-WITHOUT-TORCH" in lines, done.stdout + done.stderr
    assert "WORKER-STARTED" in lines, done.stdout + done.stderr
