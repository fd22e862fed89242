"""A small window showing the damage brush over a portrait, for a look under Xvfb.

    DISPLAY=:97 python scripts/inpaint_brush_demo.py [photo] [--quit-after SECONDS]

Paints a few strokes (one partly erased) and puts the brush circle on the face. Run it from the
repository root.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPalette, QPixmap
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QApplication,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QVBoxLayout,
    QWidget,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.damage_mask import DamageMask, Stroke
from desktop.brush_overlay import BrushOverlay
from desktop.inpaint_toolbar import InpaintToolbar

TESTDATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "testdata"


def dark(app: QApplication) -> None:
    app.setStyle("Fusion")
    palette = QPalette()
    for role, color in {
        QPalette.ColorRole.Window: "#232427",
        QPalette.ColorRole.WindowText: "#e8eaed",
        QPalette.ColorRole.Base: "#1b1c1e",
        QPalette.ColorRole.Text: "#e8eaed",
        QPalette.ColorRole.Button: "#2d2f33",
        QPalette.ColorRole.ButtonText: "#e8eaed",
        QPalette.ColorRole.Highlight: "#3b78c4",
    }.items():
        palette.setColor(role, QColor(color))
    app.setPalette(palette)
    app.setStyleSheet("QLabel#hint { color: #9aa0a6; }")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("photo", nargs="?", type=Path, default=TESTDATA / "grace_hopper.jpg")
    parser.add_argument("--quit-after", type=float, default=0.0)
    args = parser.parse_args()

    app = QApplication(sys.argv[:1])
    dark(app)
    pixmap = QPixmap(str(args.photo))
    size = (pixmap.width(), pixmap.height())

    window = QWidget()
    window.setWindowTitle("Inpaint brush")
    toolbar = InpaintToolbar()
    view = QGraphicsView()
    view.setScene(QGraphicsScene(view))
    view.setBackgroundBrush(QColor("#1b1c1e"))
    view.setRenderHints(
        QPainter.RenderHint.SmoothPixmapTransform | QPainter.RenderHint.Antialiasing
    )
    view.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
    view.setMouseTracking(True)
    photo = QGraphicsPixmapItem(pixmap)
    photo.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
    view.scene().addItem(photo)

    # A scratch from the brow across the nose, a stain on the cheek cut by the eraser, a dab on
    # the chin.
    w, h = size
    mask = DamageMask(size=size)
    for stroke in (
        Stroke(points=((0.40 * w, 0.29 * h), (0.50 * w, 0.35 * h), (0.64 * w, 0.40 * h)), radius=5),
        Stroke(points=((0.38 * w, 0.44 * h), (0.46 * w, 0.46 * h)), radius=12),
        Stroke(points=((0.42 * w, 0.38 * h), (0.42 * w, 0.52 * h)), radius=3, erase=True),
        Stroke(points=((0.53 * w, 0.53 * h),), radius=8),
    ):
        mask = mask.with_stroke(stroke)
    overlay = BrushOverlay(mask)
    view.scene().addItem(overlay)
    view.scene().setSceneRect(0, 0, *size)
    overlay.set_brush_radius(12)
    toolbar.bind(overlay)

    layout = QVBoxLayout(window)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)
    layout.addWidget(toolbar)
    layout.addWidget(view, 1)
    window.move(0, 0)
    window.resize(1100, 720)
    window.show()

    def pose() -> None:
        view.fitInView(
            view.sceneRect().adjusted(-10, -10, 10, 10), Qt.AspectRatioMode.KeepAspectRatio
        )
        view.setFocus()
        overlay.setFocus()
        QTest.mouseMove(view.viewport(), view.mapFromScene(QPointF(0.60 * w, 0.47 * h)))

    QTimer.singleShot(300, pose)
    if args.quit_after > 0:
        QTimer.singleShot(round(args.quit_after * 1000), app.quit)
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
