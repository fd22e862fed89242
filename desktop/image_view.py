"""One view of a before/after pair on QGraphicsView: a wipe with a draggable divider, or one side
of a side-by-side pair. Zoom at the cursor, pan by dragging, fit and 100 %.

Scene units are pixels of the restored image; the original is scaled by the upscale factor to
cover the same area. "100 %" means one image pixel per device pixel, so it is crisp on high-DPI
screens (the view's scale is then 1 / devicePixelRatio). A newer render of the same analysis may
come as patches of the faces' regions (`set_patches`), laid over the restored image.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QResizeEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsItem,
    QGraphicsPixmapItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsView,
    QStyleOptionGraphicsItem,
    QWidget,
)

MIN_ZOOM_PERCENT = 2.0
MAX_ZOOM_PERCENT = 3200.0
WHEEL_STEP = 1.0015  # zoom factor per 1/8 degree of wheel rotation (120 units = 1.2x)
DIVIDER_GRAB_PX = 12
HANDLE_RADIUS_PX = 15.0  # the round handle in the middle of the divider
ACCENT = QColor("#4da3ff")

WIPE, BEFORE, AFTER = "wipe", "before", "after"


class _ClippedPixmapItem(QGraphicsPixmapItem):
    """A pixmap drawn only left of `clip_x` (in scene units): the original side of the wipe."""

    def __init__(self) -> None:
        super().__init__()
        self.clip_x: float | None = None

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        if self.clip_x is not None:
            scale = self.transform().m11() or 1.0
            rect = self.boundingRect()
            rect.setRight(min(rect.right(), self.clip_x / scale))
            if rect.width() <= 0:
                return
            painter.setClipRect(rect, Qt.ClipOperation.IntersectClip)
        super().paint(painter, option, widget)


class ImageView(QGraphicsView):
    """One view of a before/after pair. `role`: "wipe" (both, split by a divider), "before" or
    "after" (one side of a side-by-side pair)."""

    zoom_changed = Signal(float)  # percent
    view_changed = Signal()  # zoom or pan: the partner view follows
    divider_moved = Signal(float)  # fraction of the width

    def __init__(self, role: str = WIPE, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._role = role
        self._show_original = False
        self._divider = 0.5
        self._dragging_divider = False
        self._fit = True
        self._labels = ("Original", "Restored")
        self._waiting = ""
        self.setScene(QGraphicsScene(self))
        self._after = QGraphicsPixmapItem()
        self._before = _ClippedPixmapItem()
        self._patches: list[QGraphicsPixmapItem] = []  # children of `_after`
        self._before.setZValue(1)
        for item in (self._after, self._before):
            item.setShapeMode(QGraphicsPixmapItem.ShapeMode.BoundingRectShape)
            item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
            self.scene().addItem(item)
        self._highlight = QGraphicsRectItem()
        pen = QPen(ACCENT, 2)
        pen.setCosmetic(True)
        self._highlight.setPen(pen)
        self._highlight.setZValue(2)
        self._highlight.setVisible(False)
        self.scene().addItem(self._highlight)
        self._overlay: QGraphicsItem | None = None  # a brush overlay in photo pixels
        self._overlay_scale = 1.0
        self._painting = False  # a stroke is being painted on the overlay

        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setBackgroundBrush(QBrush(QColor("#1b1c1e")))
        self.setRenderHints(
            QPainter.RenderHint.SmoothPixmapTransform | QPainter.RenderHint.Antialiasing
        )
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMouseTracking(True)
        self.horizontalScrollBar().valueChanged.connect(self.view_changed)
        self.verticalScrollBar().valueChanged.connect(self.view_changed)
        self._update_items()

    # -- content ----------------------------------------------------------------------------

    def set_images(
        self, before: QPixmap | None, after: QPixmap | None, before_scale: float = 1.0
    ) -> None:
        """Show these pixmaps. `before_scale`: restored pixels per original pixel (the upscale)."""
        old_rect = self.sceneRect()
        self._before.setPixmap(before if before is not None else QPixmap())
        self._before.setTransform(QTransform.fromScale(before_scale, before_scale))
        self._after.setPixmap(after if after is not None else QPixmap())
        if after is not None and not after.isNull():
            rect = QRectF(0, 0, after.width(), after.height())
        elif before is not None and not before.isNull():
            rect = QRectF(0, 0, before.width() * before_scale, before.height() * before_scale)
        else:
            rect = QRectF()
        self.scene().setSceneRect(rect)
        self.setSceneRect(rect)
        if rect.size() != old_rect.size() and not old_rect.isEmpty() and not self._fit:
            # Same photo at another upscale: keep the part of the photo that was on screen.
            center = self.center()
            factor = rect.width() / old_rect.width()
            self.set_view(
                self.scale_factor() / factor, QPointF(center.x() * factor, center.y() * factor)
            )
        self._update_items()
        if self._fit:
            self.fit()

    def set_patches(self, patches: list[tuple[int, int, QPixmap]]) -> None:
        """Lay these pixmaps at (x, y) over the restored image (the faces' regions of a newer
        render of the same analysis); they replace the earlier patches and show with it."""
        for item in self._patches:
            self.scene().removeItem(item)
        self._patches = []
        for x, y, pixmap in patches:
            item = QGraphicsPixmapItem(pixmap, self._after)  # shown and stacked with it
            item.setOffset(x, y)
            item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
            item.setShapeMode(QGraphicsPixmapItem.ShapeMode.BoundingRectShape)
            self._patches.append(item)
        self.viewport().update()

    def patch_count(self) -> int:
        return len(self._patches)

    def has_result(self) -> bool:
        return not self._after.pixmap().isNull()

    def set_labels(self, before: str, after: str) -> None:
        self._labels = (before, after)
        self.viewport().update()

    def set_waiting(self, text: str) -> None:
        """What the restored side is waiting for ("analysing…"), shown until a result exists."""
        self._waiting = text
        self.viewport().update()

    def set_role(self, role: str) -> None:
        self._role = role
        self._update_items()

    @property
    def role(self) -> str:
        return self._role

    def set_show_original(self, show: bool) -> None:
        self._show_original = show
        self._update_items()

    @property
    def showing_original(self) -> bool:
        return self._show_original

    def set_divider(self, fraction: float) -> None:
        fraction = min(max(fraction, 0.0), 1.0)
        if fraction != self._divider:
            self._divider = fraction
            self._update_items()
            self.divider_moved.emit(fraction)

    @property
    def divider(self) -> float:
        return self._divider

    def set_highlight(self, rect: QRectF | None) -> None:
        """Outline this rectangle (scene units), or nothing."""
        self._highlight.setVisible(rect is not None)
        if rect is not None:
            self._highlight.setRect(rect)

    @property
    def highlight(self) -> QRectF | None:
        return self._highlight.rect() if self._highlight.isVisible() else None

    def visible_side(self) -> str:
        """What this view shows now: "before", "after" or "wipe"."""
        if not self.has_result() or self._show_original or self._role == BEFORE:
            return BEFORE
        return self._role

    def _update_items(self) -> None:
        side = self.visible_side()
        self._after.setVisible(side in (AFTER, WIPE))
        self._before.setVisible(side in (BEFORE, WIPE))
        width = self.sceneRect().width()
        self._before.clip_x = self._divider * width if side == WIPE else None
        self._before.update()
        overlay = self._overlay
        if overlay is not None and hasattr(overlay, "set_clip_right"):
            clip = None
            if side == WIPE and not self._painting:
                clip = self._divider * width / self._overlay_scale
            overlay.set_clip_right(clip)
        self.viewport().update()

    # -- the brush overlay ------------------------------------------------------------------

    @property
    def overlay(self) -> QGraphicsItem | None:
        return self._overlay

    def attach_overlay(self, item: QGraphicsItem, scale: float) -> None:
        """Show `item` (coordinates: original-photo pixels) over the photo, scaled by `scale`
        (restored pixels per original pixel)."""
        if self._overlay is not item:
            self.detach_overlay()
            self._overlay = item
            self.scene().addItem(item)
        self._overlay_scale = scale or 1.0
        item.setTransform(QTransform.fromScale(self._overlay_scale, self._overlay_scale))
        self._update_items()

    def detach_overlay(self) -> QGraphicsItem | None:
        item, self._overlay = self._overlay, None
        self._painting = False
        if item is not None:
            if hasattr(item, "set_clip_right"):
                item.set_clip_right(None)
            if item.scene() is self.scene():
                self.scene().removeItem(item)
            self.viewport().update()
        return item

    @property
    def painting(self) -> bool:
        return self._painting

    # -- zoom and pan -----------------------------------------------------------------------

    def scale_factor(self) -> float:
        return float(self.transform().m11())

    def zoom_percent(self) -> float:
        """Image pixels per device pixel, in percent."""
        return self.scale_factor() * self.devicePixelRatioF() * 100.0

    @property
    def fitting(self) -> bool:
        return self._fit

    def center(self) -> QPointF:
        return self.mapToScene(self.viewport().rect().center())

    def set_view(self, scale: float, center: QPointF) -> None:
        """Zoom and pan to exactly this (used to keep the side-by-side pair in sync)."""
        self.setTransform(QTransform.fromScale(scale, scale))
        self.centerOn(center)
        self._zoom_done()

    def fit(self) -> None:
        """Fit the whole photo in the view; stays fitted when the window is resized."""
        self._fit = True
        rect = self.sceneRect()
        if rect.isEmpty() or self.viewport().width() < 2:
            return
        margin = 12
        avail_w = max(1, self.viewport().width() - 2 * margin)
        avail_h = max(1, self.viewport().height() - 2 * margin)
        scale = min(avail_w / rect.width(), avail_h / rect.height())
        self.setTransform(QTransform.fromScale(scale, scale))
        self.centerOn(rect.center())
        self._zoom_done()

    def zoom_to(self, percent: float, anchor: QPointF | None = None) -> None:
        """Zoom to `percent` (100 = one image pixel per device pixel), keeping `anchor` (viewport
        coordinates) still; the view's centre if None."""
        percent = min(max(percent, MIN_ZOOM_PERCENT), MAX_ZOOM_PERCENT)
        scale = percent / 100.0 / self.devicePixelRatioF()
        if anchor is None:
            anchor = QPointF(self.viewport().rect().center())
        scene_point = self.mapToScene(anchor.toPoint())
        self._fit = False
        self.setTransform(QTransform.fromScale(scale, scale))
        # Put scene_point back under the anchor.
        moved = self.mapFromScene(scene_point)
        delta = moved - anchor.toPoint()
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + delta.x())
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() + delta.y())
        self._zoom_done()

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        self.zoom_to(self.zoom_percent() * factor, anchor)

    def _zoom_done(self) -> None:
        # Show pixels as pixels when zoomed in on purpose; a small photo fitted stays smooth.
        crisp = not self._fit and self.zoom_percent() > 200.5
        mode = (
            Qt.TransformationMode.FastTransformation
            if crisp
            else Qt.TransformationMode.SmoothTransformation
        )
        self._after.setTransformationMode(mode)
        self._before.setTransformationMode(mode)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, not crisp)
        self.zoom_changed.emit(self.zoom_percent())
        self.view_changed.emit()
        self.viewport().update()

    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta().y() or event.angleDelta().x()
        if delta == 0:
            return
        self.zoom_by(WHEEL_STEP**delta, event.position())
        event.accept()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._fit:
            self.fit()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.DevicePixelRatioChange and not self._fit:
            self._zoom_done()
        return super().event(event)

    # -- the divider ------------------------------------------------------------------------

    def _divider_view_x(self) -> float:
        rect = self.sceneRect()
        return self.mapFromScene(QPointF(rect.left() + self._divider * rect.width(), 0)).x()

    def _divider_span(self) -> tuple[float, float]:
        """Top and bottom of the divider in viewport pixels: the photo's visible height."""
        top = max(0.0, self.mapFromScene(self.sceneRect().topLeft()).y())
        bottom = min(
            float(self.viewport().height()), self.mapFromScene(self.sceneRect().bottomLeft()).y()
        )
        return top, bottom

    def _handle_center(self) -> QPointF:
        """The divider handle's centre in viewport pixels: the middle of the divider."""
        top, bottom = self._divider_span()
        return QPointF(self._divider_view_x(), (top + bottom) / 2)

    def _near_divider(self, position: QPointF) -> bool:
        """Whether a press at `position` (viewport pixels) grabs the divider: anywhere along it,
        or, while a brush paints on the photo, only on its handle (so strokes can run along
        and across the divider)."""
        if self.visible_side() != WIPE:
            return False
        if self._overlay is not None:
            offset = position - self._handle_center()
            return offset.x() ** 2 + offset.y() ** 2 <= (HANDLE_RADIUS_PX + 2) ** 2
        return abs(position.x() - self._divider_view_x()) <= DIVIDER_GRAB_PX

    def _move_divider_to(self, x: float) -> None:
        rect = self.sceneRect()
        if rect.width() > 0:
            scene_x = self.mapToScene(int(x), 0).x()
            self.set_divider((scene_x - rect.left()) / rect.width())

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._near_divider(event.position()):
            self._dragging_divider = True
            event.accept()
            return
        fitting = self._fit
        super().mousePressEvent(event)
        grabber = self.scene().mouseGrabberItem()
        if grabber is not None and grabber is self._overlay:
            # Painting keeps the view as it is (fitted stays fitted); a middle drag pans.
            self._fit = fitting and event.button() != Qt.MouseButton.MiddleButton
            if event.button() == Qt.MouseButton.LeftButton:
                self._painting = True
                self._update_items()
        else:
            self._fit = fitting and event.button() != Qt.MouseButton.LeftButton

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._dragging_divider:
            self._move_divider_to(event.position().x())
            event.accept()
            return
        near_divider = not event.buttons() and self._near_divider(event.position())
        if not event.buttons():
            cursor = Qt.CursorShape.SplitHCursor if near_divider else Qt.CursorShape.OpenHandCursor
            self.viewport().setCursor(cursor)
        super().mouseMoveEvent(event)
        if near_divider and self._overlay is not None:
            self.viewport().setCursor(Qt.CursorShape.SplitHCursor)  # over the brush's cursor

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._dragging_divider and event.button() == Qt.MouseButton.LeftButton:
            self._dragging_divider = False
            event.accept()
            return
        super().mouseReleaseEvent(event)
        if self._painting and event.button() == Qt.MouseButton.LeftButton:
            self._painting = False
            self._update_items()

    # -- overlay ----------------------------------------------------------------------------

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        if self.sceneRect().isEmpty():
            return
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        side = self.visible_side()
        if side == WIPE:
            handle = self._handle_center()
            x = handle.x()
            top, bottom = self._divider_span()
            painter.setPen(QPen(QColor(0, 0, 0, 90), 3))
            painter.drawLine(QPointF(x, top), QPointF(x, bottom))
            painter.setPen(QPen(QColor("white"), 1.5))
            painter.drawLine(QPointF(x, top), QPointF(x, bottom))
            self._draw_handle(painter, handle)
            self._draw_label(painter, self._labels[0], QPointF(x - 10, 12), right_aligned=True)
            self._draw_label(painter, self._labels[1], QPointF(x + 10, 12), right_aligned=False)
        else:
            text = self._labels[0] if side == BEFORE else self._labels[1]
            if self._role != BEFORE and not self.has_result() and self._waiting:
                text = f"{self._labels[0]} · {self._waiting}"
            elif self._show_original and self._role != BEFORE:
                text = f"{self._labels[0]} (held)"
            self._draw_label(painter, text, QPointF(12, 12), right_aligned=False)
        painter.restore()

    def _draw_handle(self, painter: QPainter, center: QPointF) -> None:
        radius = HANDLE_RADIUS_PX
        painter.setPen(QPen(QColor(0, 0, 0, 60), 1))
        painter.setBrush(QColor(255, 255, 255, 235))
        painter.drawEllipse(center, radius, radius)
        painter.setBrush(QColor("#333"))
        painter.setPen(Qt.PenStyle.NoPen)
        for direction in (-1, 1):
            tip = center + QPointF(direction * 9.5, 0)
            path = QPainterPath(tip)
            path.lineTo(center + QPointF(direction * 3.5, -5))
            path.lineTo(center + QPointF(direction * 3.5, 5))
            path.closeSubpath()
            painter.drawPath(path)

    def _draw_label(self, painter: QPainter, text: str, at: QPointF, right_aligned: bool) -> None:
        font = QFont(self.font())
        font.setPointSizeF(max(8.0, font.pointSizeF() * 0.9))
        font.setBold(True)
        painter.setFont(font)
        metrics = painter.fontMetrics()
        width = metrics.horizontalAdvance(text) + 16
        height = metrics.height() + 6
        left = at.x() - width if right_aligned else at.x()
        box = QRectF(left, at.y(), width, height)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 150))
        painter.drawRoundedRect(box, height / 2, height / 2)
        painter.setPen(QColor("white"))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
