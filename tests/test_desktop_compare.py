"""The compare view: wipe with a draggable divider, side by side kept in sync, zoom at the
cursor, pan by dragging, fit and 100 % (one image pixel per device pixel)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from desktop.compare_view import AFTER, BEFORE, WIPE, CompareView
from desktop.images import qimage_from_rgb

pytestmark = pytest.mark.qt


def image(width: int, height: int, value: int):
    return qimage_from_rgb(np.full((height, width, 3), value, np.uint8))


@pytest.fixture
def view(qtbot):
    widget = CompareView()
    qtbot.addWidget(widget)
    widget.resize(800, 500)
    widget.show()
    qtbot.waitExposed(widget)
    # Original 200 x 150, restored at upscale 2: 400 x 300.
    widget.set_images(image(200, 150, 30), image(400, 300, 220), before_scale=2.0)
    return widget


def wheel(target, position: QPointF, delta: int) -> None:
    event = QWheelEvent(
        position,
        target.mapToGlobal(position),
        QPoint(0, 0),
        QPoint(0, delta),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(target, event)


def pixel_at(view_widget, point: QPoint) -> int:
    grabbed = view_widget.viewport().grab().toImage()
    return grabbed.pixelColor(point).red()


def test_wipe_shows_original_left_of_the_divider_and_restored_right(view, qtbot):
    main = view.main
    assert main.visible_side() == WIPE
    assert main.sceneRect().width() == 400  # scene units are restored pixels
    y = main.viewport().height() // 2
    x = round(main._divider_view_x())
    assert pixel_at(main, QPoint(x - 40, y)) == 30  # original side
    assert pixel_at(main, QPoint(x + 40, y)) == 220  # restored side


def test_divider_follows_a_drag(view, qtbot):
    main = view.main
    x = round(main._divider_view_x())
    y = main.viewport().height() // 2
    with qtbot.waitSignal(main.divider_moved, timeout=2000):
        qtbot.mousePress(main.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, y))
        qtbot.mouseMove(main.viewport(), QPoint(x + 100, y))
        qtbot.mouseRelease(main.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x + 100, y))
    expected = main.mapToScene(QPoint(x + 100, y)).x() / 400
    assert main.divider == pytest.approx(expected, abs=0.01)
    assert main.divider > 0.6
    assert pixel_at(main, QPoint(x + 60, y)) == 30  # that area now shows the original


def test_wheel_zooms_at_the_cursor(view):
    main = view.main
    cursor = QPointF(440, 280)  # near the middle, so the point can stay under the cursor
    under = main.mapToScene(cursor.toPoint())
    before = main.zoom_percent()
    wheel(main.viewport(), cursor, 240)
    assert main.zoom_percent() == pytest.approx(before * 1.0015**240, rel=1e-3)
    assert not main.fitting
    after = main.mapToScene(cursor.toPoint())
    assert abs(after.x() - under.x()) < 2 and abs(after.y() - under.y()) < 2


def test_fit_and_100_percent(view):
    main = view.main
    view.zoom_to(100)
    assert view.zoom_percent() == pytest.approx(100)
    assert main.scale_factor() == pytest.approx(1 / main.devicePixelRatioF())
    view.zoom_by(4)
    view.fit()
    visible = main.mapToScene(main.viewport().rect()).boundingRect()
    assert visible.contains(main.sceneRect())
    assert main.fitting


def test_100_percent_is_one_image_pixel_per_device_pixel_on_high_dpi(view, monkeypatch):
    main = view.main
    monkeypatch.setattr(main, "devicePixelRatioF", lambda: 2.0)
    main.zoom_to(100)
    assert main.scale_factor() == pytest.approx(0.5)  # 0.5 logical px = 1 device px
    assert main.zoom_percent() == pytest.approx(100)


def test_pan_by_dragging(view, qtbot):
    main = view.main
    view.zoom_to(400)
    start = main.center()
    point = QPoint(100, 100)  # far from the divider
    qtbot.mousePress(main.viewport(), Qt.MouseButton.LeftButton, pos=point)
    qtbot.mouseMove(main.viewport(), QPoint(160, 140))
    qtbot.mouseRelease(main.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(160, 140))
    moved = main.center()
    assert moved.x() < start.x() and moved.y() < start.y()  # dragged right/down: view goes left/up


def test_side_by_side_keeps_zoom_and_pan_in_sync(view, qtbot):
    view.set_mode("side_by_side")
    qtbot.waitUntil(lambda: view.left.isVisible())
    assert view.left.visible_side() == BEFORE and view.main.visible_side() == AFTER
    wheel(view.main.viewport(), QPointF(120, 90), 360)
    assert view.left.scale_factor() == pytest.approx(view.main.scale_factor())
    assert (view.left.center() - view.main.center()).manhattanLength() < 2
    view.left.zoom_by(1.5)
    assert view.main.scale_factor() == pytest.approx(view.left.scale_factor())
    assert (view.left.center() - view.main.center()).manhattanLength() < 2
    view.set_mode("wipe")
    assert not view.left.isVisible() and view.main.visible_side() == WIPE


def test_show_original_and_highlight(view):
    view.set_show_original(True)
    assert view.main.visible_side() == BEFORE
    y = view.main.viewport().height() // 2
    x = round(view.main._divider_view_x())
    assert pixel_at(view.main, QPoint(x + 40, y)) == 30
    view.set_show_original(False)
    assert view.main.visible_side() == WIPE
    from PySide6.QtCore import QRectF

    view.set_highlight(QRectF(10, 20, 30, 40))
    assert view.main.highlight == QRectF(10, 20, 30, 40)
    view.set_highlight(None)
    assert view.main.highlight is None


def test_without_a_result_the_original_is_shown(qtbot):
    widget = CompareView()
    qtbot.addWidget(widget)
    widget.resize(400, 300)
    widget.show()
    widget.set_images(image(100, 80, 50), None, 1.0)
    assert widget.main.visible_side() == BEFORE
    assert widget.main.sceneRect().width() == 100
