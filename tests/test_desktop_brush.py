"""The damage brush over a photo: mouse drags become strokes in photo pixels at any zoom, keys for
size, eraser, undo and redo, the overlay shows exactly the rasterized mask, and the toolbar."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QAction, QColor, QImage, QKeySequence, QPainter, QTransform
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QGraphicsScene, QGraphicsView, QMainWindow

from core.damage_mask import DamageMask, Stroke, rasterize
from desktop.brush_overlay import BrushOverlay, default_radius, max_radius
from desktop.inpaint_toolbar import InpaintToolbar
from desktop.task_mode import TaskMode

pytestmark = pytest.mark.qt

LEFT, MIDDLE = Qt.MouseButton.LeftButton, Qt.MouseButton.MiddleButton
NO_MODS = Qt.KeyboardModifier.NoModifier
CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
PHOTO = (200, 150)


@pytest.fixture
def window(qtbot):
    """A main window holding a view whose scene is in photo pixels, with an overlay over it.

    The window has its own Ctrl+Z action, as the app's window may: the overlay must win.
    """
    main = QMainWindow()
    view = QGraphicsView()
    view.setScene(QGraphicsScene(view))
    view.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)  # as the compare view
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    view.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    view.setBackgroundBrush(QColor("black"))
    overlay = BrushOverlay(DamageMask(size=PHOTO))
    view.scene().addItem(overlay)
    view.scene().setSceneRect(0, 0, *PHOTO)
    main.setCentralWidget(view)
    window_undo = QAction("Window undo", main)
    window_undo.setShortcut(QKeySequence("Ctrl+Z"))
    main.addAction(window_undo)
    main.window_undo_count = 0  # type: ignore[attr-defined]

    def count() -> None:
        main.window_undo_count += 1  # type: ignore[attr-defined]

    window_undo.triggered.connect(count)
    qtbot.addWidget(main)
    main.resize(500, 400)
    main.show()
    qtbot.waitExposed(main)
    view.setFocus()
    overlay.setFocus()
    main.view, main.overlay = view, overlay  # type: ignore[attr-defined]
    return main


def drag(view: QGraphicsView, scene_points, button=LEFT, modifiers=NO_MODS) -> list[QPointF]:
    """Press, move through and release at these scene points; returns the scene points used."""
    viewport = view.viewport()
    points = [view.mapFromScene(QPointF(x, y)) for x, y in scene_points]
    QTest.mousePress(viewport, button, modifiers, points[0])
    for point in points[1:]:
        QTest.mouseMove(viewport, point)
    QTest.mouseRelease(viewport, button, modifiers, points[-1])
    return [view.mapToScene(p) for p in points]


def key(view: QGraphicsView, k: Qt.Key, modifiers=NO_MODS) -> None:
    QTest.keyClick(view.viewport(), k, modifiers)


def move_off_photo(view: QGraphicsView) -> None:
    """Take the mouse off the photo (no brush circle). Two moves: Qt drops a move to the very
    screen position the last one (maybe in an earlier test) went to."""
    QTest.mouseMove(view.viewport(), QPoint(3, 3))
    QTest.mouseMove(view.viewport(), QPoint(2, 2))


def render_overlay(view: QGraphicsView) -> np.ndarray:
    """The scene drawn 1:1 (one photo pixel per image pixel) on black: H x W x 3 RGB."""
    image = QImage(*PHOTO, QImage.Format.Format_RGB32)
    image.fill(QColor("black"))
    painter = QPainter(image)
    view.scene().render(painter, QRectF(0, 0, *PHOTO), QRectF(0, 0, *PHOTO))
    painter.end()
    ptr = image.constBits()
    bgra = np.frombuffer(ptr, np.uint8).reshape(PHOTO[1], image.bytesPerLine() // 4, 4)
    return bgra[:, : PHOTO[0], 2::-1].copy()


def test_a_drag_on_a_zoomed_view_is_a_stroke_in_photo_pixels(window, qtbot) -> None:
    view, overlay = window.view, window.overlay
    view.setTransform(QTransform.fromScale(3, 3))
    view.centerOn(100, 75)
    overlay.set_brush_radius(4)
    changed: list[DamageMask] = []
    overlay.mask_changed.connect(changed.append)
    used = drag(view, [(80 + 2 * i, 60 + i) for i in range(11)])
    assert len(changed) == 1 and changed[0] is overlay.mask()
    (stroke,) = overlay.mask().strokes
    assert stroke.radius == 4 and not stroke.erase
    # Item coordinates are photo pixels; stroke points are pixel centres (0.5 less).
    assert stroke.points == tuple((p.x() - 0.5, p.y() - 0.5) for p in used)
    assert abs(stroke.points[0][0] - 79.5) <= 1 / 3 and abs(stroke.points[-1][1] - 69.5) <= 1 / 3
    assert window.window_undo_count == 0


def test_strokes_stay_in_photo_pixels_when_the_scene_is_upscaled(window) -> None:
    """The compare view's scene is in pixels of the restored photo (upscale u)."""
    view, overlay = window.view, window.overlay
    overlay.setTransform(QTransform.fromScale(2, 2))
    view.scene().setSceneRect(0, 0, 2 * PHOTO[0], 2 * PHOTO[1])
    view.setTransform(QTransform.fromScale(1.5, 1.5))
    view.centerOn(200, 150)
    used = drag(view, [(160, 120), (200, 130), (240, 140)])
    (stroke,) = overlay.mask().strokes
    assert stroke.points == tuple((p.x() / 2 - 0.5, p.y() / 2 - 0.5) for p in used)
    assert 78 <= stroke.points[0][0] <= 80 and 118 <= stroke.points[-1][0] <= 120


def test_what_is_shown_is_the_rasterized_mask(window) -> None:
    view, overlay = window.view, window.overlay
    view.setTransform(QTransform.fromScale(2, 2))
    view.centerOn(100, 75)
    overlay.set_brush_radius(6)
    drag(view, [(40, 40), (100, 50), (150, 110)])
    key(view, Qt.Key.Key_E)
    overlay.set_brush_radius(3)
    drag(view, [(90, 20), (100, 90)])
    mask = overlay.mask()
    assert [s.erase for s in mask.strokes] == [False, True]
    expected = rasterize(mask)
    move_off_photo(view)
    shown = render_overlay(view)
    kernel = np.ones((5, 5), np.uint8)
    inside = cv2.erode(expected.astype(np.uint8), kernel) > 0
    outside = cv2.dilate(expected.astype(np.uint8), kernel) == 0
    assert inside.sum() > 300 and (~outside).sum() < expected.size
    # Inside: magenta at 45 % over black; outside (away from the outline): untouched black.
    assert np.abs(shown[inside].astype(int) - (115, 0, 115)).max() <= 2
    assert shown[outside].max() == 0
    # The eraser cut the stroke where it crossed.
    assert not expected[47:52, 92:96].any() and expected[45:55, 60:70].any()


def test_brush_size_keys_and_setter(window) -> None:
    view, overlay = window.view, window.overlay
    assert overlay.brush_radius == default_radius(PHOTO)
    seen: list[tuple[float, bool]] = []
    overlay.brush_changed.connect(lambda r, e: seen.append((r, e)))
    overlay.set_brush_radius(10)
    key(view, Qt.Key.Key_BracketRight)
    assert overlay.brush_radius == pytest.approx(12.5)
    key(view, Qt.Key.Key_BracketLeft)
    key(view, Qt.Key.Key_BracketLeft)
    assert overlay.brush_radius == pytest.approx(8.0)
    assert seen == [(10.0, False), (12.5, False), (10.0, False), (8.0, False)]
    overlay.set_brush_radius(10_000)
    assert overlay.brush_radius == max_radius(PHOTO) == overlay.max_brush_radius
    for _ in range(40):
        key(view, Qt.Key.Key_BracketLeft)
    assert overlay.brush_radius == 1.0
    drag(view, [(50, 50), (60, 50)])
    assert overlay.mask().strokes[-1].radius == 1.0


def test_eraser_toggle_and_brush_key(window) -> None:
    view, overlay = window.view, window.overlay
    overlay.set_brush_radius(5)
    drag(view, [(50, 50), (120, 50)])
    key(view, Qt.Key.Key_E)
    assert overlay.erasing
    drag(view, [(85, 30), (85, 70)])
    key(view, Qt.Key.Key_E)
    assert not overlay.erasing
    key(view, Qt.Key.Key_E)
    key(view, Qt.Key.Key_B)
    assert not overlay.erasing
    painted = rasterize(overlay.mask())
    assert painted[49, 55:75].all() and painted[49, 95:115].all()
    assert not painted[:, 82:87].any()


def test_undo_redo_shortcuts_win_over_the_windows(window) -> None:
    view, overlay = window.view, window.overlay
    changed: list[DamageMask] = []
    overlay.mask_changed.connect(changed.append)
    drag(view, [(20, 20), (40, 20)])
    drag(view, [(20, 60), (40, 60)])
    assert len(overlay.mask().strokes) == 2
    key(view, Qt.Key.Key_Z, CTRL)
    assert len(overlay.mask().strokes) == 1
    key(view, Qt.Key.Key_Z, CTRL)
    key(view, Qt.Key.Key_Z, CTRL)  # nothing left: no change, no signal
    assert overlay.mask().strokes == () and overlay.mask().can_redo
    key(view, Qt.Key.Key_Z, CTRL | SHIFT)
    assert len(overlay.mask().strokes) == 1
    key(view, Qt.Key.Key_Y, CTRL)
    assert len(overlay.mask().strokes) == 2 and not overlay.mask().can_redo
    assert len(changed) == 6, "2 strokes, 2 undos, 2 redos"
    assert changed[-1] is overlay.mask()
    assert window.window_undo_count == 0
    assert not rasterize(changed[3]).any() and rasterize(changed[-1])[60, 30]


def test_middle_drag_pans_and_paints_nothing(window) -> None:
    view, overlay = window.view, window.overlay
    view.setTransform(QTransform.fromScale(4, 4))
    view.centerOn(100, 75)
    before = view.mapToScene(view.viewport().rect().center())
    drag(view, [(100, 75), (90, 70), (80, 65)], button=MIDDLE)
    after = view.mapToScene(view.viewport().rect().center())
    assert after.x() > before.x() + 10 and after.y() > before.y() + 5
    assert overlay.mask().strokes == ()


def test_left_press_outside_the_photo_is_not_a_stroke(window) -> None:
    view, overlay = window.view, window.overlay
    view.scene().setSceneRect(-200, -200, 600, 600)
    view.centerOn(100, 75)
    overlay.set_brush_radius(3)
    drag(view, [(-60, -60), (-40, -60)])
    assert overlay.mask().strokes == ()
    drag(view, [(-2, 20), (10, 20)])  # within a radius of the edge: a stroke
    assert len(overlay.mask().strokes) == 1


def test_set_mask_shows_it_without_emitting_an_edit(window) -> None:
    view, overlay = window.view, window.overlay
    edits: list[DamageMask] = []
    history: list[int] = []
    overlay.mask_changed.connect(edits.append)
    overlay.history_changed.connect(lambda: history.append(1))
    other = DamageMask(size=PHOTO).with_stroke(Stroke(points=((100.0, 75.0),), radius=10))
    overlay.set_mask(other)
    assert overlay.mask() is other and not edits and history == [1]
    shown = render_overlay(view)
    assert tuple(shown[75, 100]) == (115, 0, 115) and shown[10, 10].max() == 0
    overlay.set_mask(DamageMask(size=(400, 300)))
    assert overlay.boundingRect().width() > 400 and overlay.brush_radius == default_radius(
        (400, 300)
    )


def test_hover_draws_the_brush_circle(window) -> None:
    view, overlay = window.view, window.overlay
    view.setTransform(QTransform.fromScale(2, 2))
    view.centerOn(100, 75)
    overlay.set_brush_radius(10)
    center = view.mapFromScene(QPointF(100, 75))
    QTest.mouseMove(view.viewport(), center)
    QTest.mouseMove(view.viewport(), center + QPoint(1, 0))
    grabbed = view.viewport().grab().toImage()
    ring = [grabbed.pixelColor(center + QPoint(1 + dx, 0)).lightness() for dx in (-20, 20)]
    assert min(ring) > 120, "a light circle at the brush radius (10 photo px = 20 screen px)"
    assert grabbed.pixelColor(center + QPoint(1 + 10, 0)).lightness() < 30, "clear inside"
    assert overlay.mask().strokes == ()


def test_toolbar_acts_on_the_overlay_and_follows_it(window, qtbot) -> None:
    view, overlay = window.view, window.overlay
    bar = InpaintToolbar()
    qtbot.addWidget(bar)
    assert not bar.brush_button.isEnabled() and not bar.undo_button.isEnabled()
    bar.bind(overlay)
    assert bar.brush_button.isChecked() and not bar.undo_button.isEnabled()
    assert "only faces are repaired" in bar.hint.text()

    qtbot.mouseClick(bar.eraser_button, LEFT)
    assert overlay.erasing
    key(view, Qt.Key.Key_B)
    assert bar.brush_button.isChecked() and not bar.eraser_button.isChecked()

    bar.size_slider.setValue(bar.size_slider.maximum())
    assert overlay.brush_radius == overlay.max_brush_radius
    bar.size_slider.setValue(0)
    assert overlay.brush_radius == 1.0
    overlay.set_brush_radius(6)
    assert bar.size_label.text() == "12 px"
    assert bar._radius(bar.size_slider.value()) == pytest.approx(6, rel=0.05)

    drag(view, [(30, 30), (60, 30)])
    assert bar.undo_button.isEnabled() and bar.clear_button.isEnabled()
    qtbot.mouseClick(bar.clear_button, LEFT)
    assert overlay.mask().is_empty and bar.undo_button.isEnabled()
    qtbot.mouseClick(bar.undo_button, LEFT)
    assert len(overlay.mask().strokes) == 1 and bar.redo_button.isEnabled()
    qtbot.mouseClick(bar.redo_button, LEFT)
    assert overlay.mask().is_empty

    overlay.set_mask(DamageMask(size=PHOTO))
    assert not bar.undo_button.isEnabled() and not bar.redo_button.isEnabled()
    bar.bind(None)
    assert not bar.size_slider.isEnabled()


def test_task_modes() -> None:
    assert [m.title for m in TaskMode] == ["Restore", "Colorize", "Inpaint"]
    assert [m.variant for m in TaskMode] == ["restoration", "colorization", "inpainting"]
    assert [m.uses_fidelity for m in TaskMode] == [True, False, False]
    assert [m.needs_mask for m in TaskMode] == [False, False, True]
    assert TaskMode.COLORIZE.fixed_fidelity == 0.0 and TaskMode.INPAINT.fixed_fidelity == 1.0
    assert TaskMode.RESTORE.render_fidelity(0.3) == 0.3
    assert TaskMode.INPAINT.render_fidelity(0.3) is None
    assert [m.checkpoint().filename for m in TaskMode] == [
        "codeformer.pth",
        "codeformer_colorization.pth",
        "codeformer_inpainting.pth",
    ]
    assert "only faces are coloured" in TaskMode.COLORIZE.note
    assert "paint over the damage" in TaskMode.INPAINT.note
    assert TaskMode.from_variant("inpainting") is TaskMode.INPAINT
    assert TaskMode("colorize") is TaskMode.COLORIZE  # the CLI's --task names
    with pytest.raises(ValueError, match="no task"):
        TaskMode.from_variant("nope")


def test_a_stroke_keeps_its_brush_while_painted(window) -> None:
    """Keys pressed during a drag change the next stroke, not the one being painted."""
    view, overlay = window.view, window.overlay
    overlay.set_brush_radius(4)
    viewport = view.viewport()
    start, end = view.mapFromScene(QPointF(40, 40)), view.mapFromScene(QPointF(120, 40))
    QTest.mousePress(viewport, LEFT, NO_MODS, start)
    QTest.mouseMove(viewport, (start + end) / 2)
    key(view, Qt.Key.Key_BracketRight)
    key(view, Qt.Key.Key_E)
    QTest.mouseMove(viewport, end)
    QTest.mouseRelease(viewport, LEFT, NO_MODS, end)
    (stroke,) = overlay.mask().strokes
    assert stroke.radius == 4 and not stroke.erase
    assert overlay.brush_radius == 5 and overlay.erasing
    move_off_photo(view)
    shown = render_overlay(view)
    expected = rasterize(overlay.mask())
    inside = cv2.erode(expected.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    outside = cv2.dilate(expected.astype(np.uint8), np.ones((5, 5), np.uint8)) == 0
    assert inside.any() and np.abs(shown[inside].astype(int) - (115, 0, 115)).max() <= 2
    assert shown[outside].max() == 0


def test_undo_during_a_drag_drops_the_stroke(window) -> None:
    view, overlay = window.view, window.overlay
    drag(view, [(20, 20), (40, 20)])
    viewport = view.viewport()
    QTest.mousePress(viewport, LEFT, NO_MODS, view.mapFromScene(QPointF(20, 80)))
    QTest.mouseMove(viewport, view.mapFromScene(QPointF(60, 80)))
    assert overlay.painting
    key(view, Qt.Key.Key_Z, CTRL)
    QTest.mouseMove(viewport, view.mapFromScene(QPointF(80, 80)))
    QTest.mouseRelease(viewport, LEFT, NO_MODS, view.mapFromScene(QPointF(80, 80)))
    assert overlay.mask().strokes == () and not overlay.painting
    move_off_photo(view)
    assert render_overlay(view).max() == 0, "nothing of the dropped stroke is shown"
