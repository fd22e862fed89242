"""Start-up: time to the first painted window of our app, against a bare PySide6 window.

Each start is a fresh subprocess under `QT_QPA_PLATFORM=offscreen` with its own empty settings
and weights folders. The child installs an application-wide event filter, builds the window the
way `desktop.app.run` does (`make_application`, `create_window`), and records the first Paint
event of a visible widget: seconds since the parent launched it, and whether `torch` is in
`sys.modules` at that moment. The bare window is a `QMainWindow` of the same size, alone.
When the window is not built yet (no `desktop.app.create_window`), `import desktop.app` is timed
instead and the table says so.

    python -m bench.startup [--quick] [--repeats N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import (
    REPO,
    BenchResult,
    Scale,
    Table,
    Target,
    add_common_args,
    ratio_text,
    scale_from_args,
    seconds_text,
    show,
)

CHILD = r"""
import json, sys, time
START = float(sys.argv[2])
mode = sys.argv[1]
state = {}

def report():
    print("STARTUP " + json.dumps(state), flush=True)

if mode == "import":
    import desktop.app
    state["seconds"] = time.time() - START
    state["torch_loaded"] = "torch" in sys.modules
    report()
    raise SystemExit(0)

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if (
            "seconds" not in state
            and event.type() == QEvent.Type.Paint
            and obj.isWidgetType()
            and obj.window().isVisible()
        ):
            state["seconds"] = time.time() - START
            state["torch_loaded"] = "torch" in sys.modules
            state["painted"] = type(obj.window()).__name__
            if mode == "bare":
                QTimer.singleShot(0, QApplication.instance().quit)
            else:
                watch_torch()
        return False

def watch_torch():  # quit once the worker has started importing torch (or after 30 s)
    if "torch" in sys.modules or time.time() - START > 30:
        if "torch" in sys.modules:
            state["torch_seen"] = time.time() - START
        QApplication.instance().quit()
    else:
        QTimer.singleShot(20, watch_torch)

watcher = FirstPaint()
if mode == "bare":
    from PySide6.QtWidgets import QMainWindow
    app = QApplication([sys.argv[0]])
    app.installEventFilter(watcher)
    window = QMainWindow()
    window.resize(1280, 800)
    window.show()
    app.exec()
else:
    from desktop.app import create_window, make_application
    app = make_application()
    app.installEventFilter(watcher)
    window = create_window([])
    app.aboutToQuit.connect(window.session.shutdown)
    app.exec()
report()
"""


def window_available() -> bool:
    """True when the desktop app has its real window (`desktop.app.create_window`)."""
    code = "import desktop.app as a, sys; sys.exit(0 if hasattr(a, 'create_window') else 1)"
    return (
        subprocess.run(
            [sys.executable, "-c", code], env=_env(Path(tempfile.gettempdir())), check=False
        ).returncode
        == 0
    )


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        PYTHONPATH=os.pathsep.join([os.getcwd(), str(REPO)]),
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CACHE_HOME=str(home / "cache"),
        CODEFORMER_STUDIO_WEIGHTS=str(home / "weights"),
        CODEFORMER_STUDIO_CONFIG=str(home / "studio-config"),
    )
    return env


def start_once(mode: str, home: Path) -> dict[str, object]:
    """One start in a fresh process; returns the child's figures."""
    launched = time.time()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, mode, repr(launched)],
        capture_output=True,
        text=True,
        env=_env(home),
        timeout=180,
        check=False,
    )
    for line in done.stdout.splitlines():
        if line.startswith("STARTUP "):
            figures = dict(json.loads(line[len("STARTUP ") :]))
            if "seconds" in figures:
                return figures
    raise RuntimeError(
        f"{mode} start gave no figures (exit {done.returncode}):\n{done.stderr[-3000:]}"
    )


def run(scale: Scale, workdir: Path) -> BenchResult:
    repeats = max(3, scale.repeats)
    ours_mode = "app" if window_available() else "import"
    samples: dict[str, list[float]] = {"bare": [], ours_mode: []}
    torch_at_paint: list[bool] = []
    torch_seen: list[float] = []
    for i in range(repeats + 1):  # the first round warms the file cache and is not counted
        for mode in samples:
            figures = start_once(mode, workdir / f"home-{mode}-{i}")
            if i == 0:
                continue
            samples[mode].append(float(figures["seconds"]))  # type: ignore[arg-type]
            if mode == ours_mode:
                torch_at_paint.append(bool(figures["torch_loaded"]))
                if "torch_seen" in figures:
                    torch_seen.append(float(figures["torch_seen"]))  # type: ignore[arg-type]
    bare = statistics.median(samples["bare"])
    ours = statistics.median(samples[ours_mode])
    what = (
        "our window (desktop.app.create_window), first paint"
        if ours_mode == "app"
        else "`import desktop.app` (the window is not built yet on this branch)"
    )
    painted_before_torch = not any(torch_at_paint)
    rows = (
        ("bare PySide6 QMainWindow, first paint", seconds_text(bare), "1.0x"),
        (what, seconds_text(ours), ratio_text(ours / bare) + " the bare window's time"),
        (
            "torch in sys.modules at first paint",
            f"{sum(torch_at_paint)} of {len(torch_at_paint)} starts",
            "",
        ),
    )
    notes = [
        f"Median of {repeats} starts each, fresh processes, QT_QPA_PLATFORM=offscreen, from launch "
        "(interpreter start included) to the first Paint event of a visible window.",
    ]
    if ours_mode == "app":
        notes.append(
            f"The worker thread started importing torch after the first paint in "
            f"{len(torch_seen)} of {repeats} starts"
            + (f", at {seconds_text(statistics.median(torch_seen))}." if torch_seen else ".")
        )
    table = Table(
        title="Start-up: time to the first painted window",
        columns=("what", "time", "vs bare"),
        rows=rows,
        notes=tuple(notes),
    )
    target = Target(
        name="window paints before torch is imported",
        goal="torch not in sys.modules at the first paint",
        measured=(
            f"torch loaded at first paint in {sum(torch_at_paint)} of {len(torch_at_paint)} starts"
            + ("" if ours_mode == "app" else " (import only: no window yet)")
        ),
        met=painted_before_torch and ours_mode == "app",
    )
    return BenchResult(name="startup", tables=(table,), targets=(target,))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(parser)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as folder:
        show(run(scale_from_args(args), Path(folder)))


if __name__ == "__main__":
    main()
