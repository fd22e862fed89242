"""A brush for painting damage over a photo in a QGraphicsScene (the Inpaint task).

`BrushOverlay` is a QGraphicsObject whose own coordinates are photo pixels: put it in a scene
over the photo (and give it `setTransform(QTransform.fromScale(u, u))` when the scene is in pixels
of a photo upscaled by u, as the compare view's is). It shows what is painted as a translucent
magenta fill with an outline, draws the brush as a circle at the mouse, turns left-button drags
into `core.damage_mask.Stroke`s and keeps a `DamageMask` with its undo/redo history.

What is shown is exactly what the model gets: the strokes are drawn, while the mouse moves, with
the same OpenCV rasterizer as `core.damage_mask.rasterize`.

Mouse and keys (the keys act while the overlay has keyboard focus; every one of them is also a
public method for the window's actions):
- left drag: paint (or erase, with the eraser on); middle drag: pan the view; wheel: the view's.
- `[` and `]`: smaller and larger brush (x 1/1.25, x 1.25).
- `E`: toggle the eraser; `B`: back to the brush.
- Ctrl+Z: undo a stroke; Ctrl+Shift+Z or Ctrl+Y: redo.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPainterPath,
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QGraphicsItem,
    QGraphicsObject,
    QGraphicsSceneHoverEvent,
    QGraphicsSceneMouseEvent,
    QStyleOptionGraphicsItem,
    QWidget,
)

from core.damage_mask import DamageMask, Stroke, paint_stroke, rasterize

FILL = QColor(255, 0, 255, 115)  # magenta at 45 %
OUTLINE = QColor("#ff6bff")
OUTLINE_HALO = QColor(0, 0, 0, 120)
SIZE_STEP = 1.25
MIN_RADIUS = 1.0
MAX_OUTLINE_CONTOURS = 5_000
MAX_OUTLINE_POINTS = 100_000


def _premultiplied(color: QColor) -> int:
    a = color.alpha()
    r, g, b = (round(c * a / 255) for c in (color.red(), color.green(), color.blue()))
    return (a << 24) | (r << 16) | (g << 8) | b


FILL_PIXEL = np.uint32(_premultiplied(FILL))


def default_radius(size: tuple[int, int]) -> float:
    """A brush radius that suits a photo of `size` (width, height): about 1/80 of its short side."""
    return float(max(3, round(min(size) / 80)))


def max_radius(size: tuple[int, int]) -> float:
    """The largest brush for a photo: a quarter of its long side (at least 8 pixels)."""
    return float(max(8, round(max(size) / 4)))


class BrushOverlay(QGraphicsObject):
    """Paint damage over a photo. Item coordinates: photo pixels ((0, 0) = the top-left corner).

    Signals:
    - `mask_changed(DamageMask)`: after each edit made by the user (a finished stroke, undo,
      redo, clear); not after `set_mask`.
    - `history_changed()`: the mask was edited or replaced (undo/redo availability may differ).
    - `brush_changed(radius, erase)`: the brush's radius (photo pixels) or the eraser changed.
    """

    mask_changed = Signal(object)  # DamageMask
    history_changed = Signal()
    brush_changed = Signal(float, bool)  # radius in photo pixels, eraser on

    def __init__(self, mask: DamageMask | None = None, parent: QGraphicsItem | None = None) -> None:
        super().__init__(parent)
        self._mask = mask if mask is not None else DamageMask(size=(1, 1))
        self._radius = default_radius(self._mask.size)
        self._erase = False
        self._raster = np.zeros(0, np.uint8)  # H x W, 255 = painted (strokes in progress too)
        self._pixels = np.zeros(0, np.uint32)  # H x W premultiplied ARGB of the fill
        self._image = QImage()
        self._outline = QPainterPath()
        self._painted_box: tuple[int, int, int, int] | None = None  # x0, y0, x1, y1
        self._points: list[tuple[float, float]] = []  # the stroke being painted
        self._style = (self._radius, self._erase)  # its radius and eraser
        self._pan_from: QPointF | None = None
        self._cursor: QPointF | None = None
        self._clip_right: float | None = None
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsFocusable, True)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)
        self.setAcceptHoverEvents(True)
        self.setAcceptedMouseButtons(Qt.MouseButton.LeftButton | Qt.MouseButton.MiddleButton)
        self.setCursor(Qt.CursorShape.BlankCursor)
        self.setZValue(5)
        self._rebuild()

    # -- the mask ---------------------------------------------------------------------------

    def mask(self) -> DamageMask:
        """The painted damage, with its history (strokes being painted are not in it yet)."""
        return self._mask

    def set_mask(self, mask: DamageMask) -> None:
        """Show `mask` (another photo's, or a loaded one); a drag in progress is dropped.

        Emits `history_changed`, not `mask_changed`; for a photo of another size the brush
        takes that photo's `default_radius` (and `brush_changed` is emitted).
        """
        resized = mask.size != self._mask.size
        if resized:
            self.prepareGeometryChange()
        self._mask = mask
        self._points = []
        self._rebuild()
        self.history_changed.emit()
        if resized:
            self.set_brush_radius(default_radius(mask.size))

    def undo(self) -> None:
        self._edit(self._mask.undo())

    def redo(self) -> None:
        self._edit(self._mask.redo())

    def clear(self) -> None:
        self._edit(self._mask.clear())

    def _edit(self, mask: DamageMask) -> None:
        dragging = bool(self._points)
        self._points = []
        if mask is self._mask:
            if dragging:  # the stroke being painted is dropped
                self._rebuild()
            return
        self._mask = mask
        self._rebuild()
        self.mask_changed.emit(mask)
        self.history_changed.emit()

    # -- the brush --------------------------------------------------------------------------

    @property
    def brush_radius(self) -> float:
        """In photo pixels."""
        return self._radius

    @property
    def max_brush_radius(self) -> float:
        return max_radius(self._mask.size)

    def set_brush_radius(self, radius: float) -> None:
        """Clamped to [MIN_RADIUS, max_brush_radius]."""
        radius = min(max(float(radius), MIN_RADIUS), max_radius(self._mask.size))
        if radius != self._radius:
            self.prepareGeometryChange()
            self._radius = radius
            self.update()
            self.brush_changed.emit(self._radius, self._erase)

    def grow_brush(self) -> None:
        self.set_brush_radius(max(self._radius * SIZE_STEP, self._radius + 1))

    def shrink_brush(self) -> None:
        self.set_brush_radius(min(self._radius / SIZE_STEP, self._radius - 1))

    @property
    def erasing(self) -> bool:
        return self._erase

    def set_erasing(self, erase: bool) -> None:
        if erase != self._erase:
            self._erase = erase
            self.update()
            self.brush_changed.emit(self._radius, self._erase)

    def toggle_eraser(self) -> None:
        self.set_erasing(not self._erase)

    def set_clip_right(self, x: float | None) -> None:
        """Show the fill only left of `x` (item units), e.g. the original side of a wipe."""
        self._clip_right = x
        self.update()

    @property
    def painting(self) -> bool:
        """True while a stroke is being painted (the mouse button is down)."""
        return bool(self._points)

    # -- geometry ---------------------------------------------------------------------------

    def _photo_rect(self) -> QRectF:
        return QRectF(0, 0, self._mask.width, self._mask.height)

    def boundingRect(self) -> QRectF:
        margin = self._radius + 4
        return self._photo_rect().adjusted(-margin, -margin, margin, margin)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        r = self._radius
        path.addRect(self._photo_rect().adjusted(-r, -r, r, r))
        return path

    # -- drawing the raster -----------------------------------------------------------------

    def _rebuild(self) -> None:
        """Everything shown, redrawn from the mask (after undo, redo, clear, a new mask)."""
        self._raster = rasterize(self._mask).view(np.uint8) * np.uint8(255)
        self._pixels = np.zeros(0, np.uint32)
        self._painted_box = None
        rows = np.flatnonzero(self._raster.any(axis=1))
        if rows.size:
            cols = np.flatnonzero(self._raster.any(axis=0))
            self._touch((int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1))
        else:
            self._image = QImage()
            self._outline = QPainterPath()
            self.update()

    def _draw(self, stroke: Stroke) -> None:
        """Add a piece of the stroke being painted to what is shown."""
        x0, y0, x1, y1 = stroke.bounds()
        h, w = self._raster.shape
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        if x0 >= x1 or y0 >= y1:
            return
        paint_stroke(self._raster[y0:y1, x0:x1], stroke, origin=(x0, y0))
        self._touch((x0, y0, x1, y1))

    def _touch(self, box: tuple[int, int, int, int]) -> None:
        """The raster changed inside `box`: update the fill there and the outline."""
        if self._pixels.size == 0:
            self._pixels = np.zeros(self._raster.shape, np.uint32)
        x0, y0, x1, y1 = box
        region = self._raster[y0:y1, x0:x1]
        self._pixels[y0:y1, x0:x1] = np.where(region > 0, FILL_PIXEL, np.uint32(0))
        h, w = self._raster.shape
        # A new QImage over the same memory: a new cacheKey, so nothing shows a stale copy.
        self._image = QImage(
            self._pixels.data, w, h, w * 4, QImage.Format.Format_ARGB32_Premultiplied
        )
        if self._painted_box is None:
            self._painted_box = box
        else:
            a = self._painted_box
            self._painted_box = (min(a[0], x0), min(a[1], y0), max(a[2], x1), max(a[3], y1))
        self._outline = self._trace_outline()
        self.update()

    def _trace_outline(self) -> QPainterPath:
        path = QPainterPath()
        if self._painted_box is None:
            return path
        x0, y0, x1, y1 = self._painted_box
        contours, _ = cv2.findContours(
            np.ascontiguousarray(self._raster[y0:y1, x0:x1]),
            cv2.RETR_LIST,
            cv2.CHAIN_APPROX_SIMPLE,
        )
        if len(contours) > MAX_OUTLINE_CONTOURS:
            return path  # too intricate to outline (a noisy loaded mask): the fill shows it
        # Within half a pixel of the pixel outline: far fewer points to stroke on every repaint.
        contours = [cv2.approxPolyDP(c, 0.5, True) for c in contours]
        if sum(len(c) for c in contours) > MAX_OUTLINE_POINTS:
            return path
        for contour in contours:
            pts = contour[:, 0, :].astype(np.float64) + np.array([x0 + 0.5, y0 + 0.5])
            polygon = QPolygonF([QPointF(float(x), float(y)) for x, y in pts])
            path.addPolygon(polygon)
            path.closeSubpath()
        return path

    # -- painting the item ------------------------------------------------------------------

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.save()
        clip = self._photo_rect()
        if self._clip_right is not None:
            clip.setRight(min(clip.right(), self._clip_right))
        if not self._image.isNull() and clip.width() > 0:
            exposed = option.exposedRect.intersected(clip)  # type: ignore[attr-defined]
            source = exposed.toAlignedRect().intersected(clip.toAlignedRect())
            if not source.isEmpty():
                painter.drawImage(QRectF(source), self._image, QRectF(source))
        if not self._outline.isEmpty() and clip.width() > 0:
            painter.setClipRect(clip)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            for color, width in ((OUTLINE_HALO, 3.0), (OUTLINE, 1.3)):
                pen = QPen(color, width)
                pen.setCosmetic(True)
                pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
                painter.setPen(pen)
                painter.drawPath(self._outline)
            painter.setClipping(False)
        if self._cursor is not None:
            self._paint_cursor(painter)
        painter.restore()

    def _paint_cursor(self, painter: QPainter) -> None:
        assert self._cursor is not None
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        center, r = self._cursor, self._radius
        scale = math.sqrt(abs(painter.worldTransform().determinant())) or 1.0
        for color, width in ((QColor(0, 0, 0, 150), 3.0), (QColor("white"), 1.3)):
            pen = QPen(color, width)
            pen.setCosmetic(True)
            if self._erase and width < 2:
                pen.setDashPattern([3.0, 3.0])
            painter.setPen(pen)
            painter.drawEllipse(center, r, r)
            # A small cross at the centre, a few screen pixels long whatever the zoom.
            arm = 4.0 / scale
            painter.drawLine(center - QPointF(arm, 0), center + QPointF(arm, 0))
            painter.drawLine(center - QPointF(0, arm), center + QPointF(0, arm))

    def _set_cursor(self, pos: QPointF | None) -> None:
        if pos != self._cursor:
            self._cursor = pos
            self.update()

    # -- mouse ------------------------------------------------------------------------------

    @staticmethod
    def _photo_point(pos: QPointF) -> tuple[float, float]:
        """Item coordinates (pixel (c, r) covers [c, c + 1)) to pixel-centre coordinates."""
        return pos.x() - 0.5, pos.y() - 0.5

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if event.button() == Qt.MouseButton.MiddleButton:
            self._pan_from = event.screenPos().toPointF()
            event.accept()
            return
        if event.button() != Qt.MouseButton.LeftButton or self._points:
            event.ignore()
            return
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        point = self._photo_point(event.pos())
        self._points = [point]
        self._style = (self._radius, self._erase)  # kept for the whole stroke
        self._set_cursor(event.pos())
        self._draw(self._piece((point,)))
        event.accept()

    def _piece(self, points: tuple[tuple[float, float], ...]) -> Stroke:
        radius, erase = self._style
        return Stroke(points=points, radius=radius, erase=erase)

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._pan_from is not None:
            self._pan(event)
            return
        self._set_cursor(event.pos())
        if not self._points:
            return
        point = self._photo_point(event.pos())
        last = self._points[-1]
        if math.hypot(point[0] - last[0], point[1] - last[1]) < max(0.5, 0.15 * self._style[0]):
            return
        self._points.append(point)
        self._draw(self._piece((last, point)))

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if event.button() == Qt.MouseButton.MiddleButton:
            self._pan_from = None
            event.accept()
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return
        event.accept()
        if not self._points:  # the stroke was dropped (undo during the drag)
            return
        point = self._photo_point(event.pos())
        if point != self._points[-1]:
            last = self._points[-1]
            self._points.append(point)
            self._draw(self._piece((last, point)))
        stroke = self._piece(tuple(self._points))
        self._points = []
        self._mask = self._mask.with_stroke(stroke)
        self.mask_changed.emit(self._mask)
        self.history_changed.emit()
        event.accept()

    def _pan(self, event: QGraphicsSceneMouseEvent) -> None:
        assert self._pan_from is not None
        now = event.screenPos().toPointF()
        delta = now - self._pan_from
        self._pan_from = now
        viewport = event.widget()
        view = viewport.parentWidget() if viewport is not None else None
        if isinstance(view, QAbstractScrollArea):
            h, v = view.horizontalScrollBar(), view.verticalScrollBar()
            h.setValue(h.value() - round(delta.x()))
            v.setValue(v.value() - round(delta.y()))
        event.accept()

    def hoverEnterEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self._set_cursor(event.pos())

    def hoverMoveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self._set_cursor(event.pos())

    def hoverLeaveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self._set_cursor(None)

    # -- keys -------------------------------------------------------------------------------

    def _key_action(self, event: QKeyEvent) -> str | None:
        if event.matches(QKeySequence.StandardKey.Undo):
            return "undo"
        if event.matches(QKeySequence.StandardKey.Redo):
            return "redo"
        mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        key = event.key()
        ctrl = Qt.KeyboardModifier.ControlModifier
        shift = Qt.KeyboardModifier.ShiftModifier
        if mods == ctrl and key == Qt.Key.Key_Z:
            return "undo"
        if (mods == ctrl and key == Qt.Key.Key_Y) or (mods == ctrl | shift and key == Qt.Key.Key_Z):
            return "redo"
        if mods not in (Qt.KeyboardModifier.NoModifier, shift):
            return None
        return {
            Qt.Key.Key_BracketLeft: "shrink",
            Qt.Key.Key_BracketRight: "grow",
            Qt.Key.Key_E: "eraser",
            Qt.Key.Key_B: "brush",
        }.get(Qt.Key(key))

    def sceneEvent(self, event: QEvent) -> bool:
        # Claim our keys before the window's shortcuts see them.
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and self._key_action(event) is not None
        ):
            event.accept()
            return True
        return super().sceneEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        action = self._key_action(event)
        if action is None:
            event.ignore()
            return
        if action == "undo":
            self.undo()
        elif action == "redo":
            self.redo()
        elif action == "shrink":
            self.shrink_brush()
        elif action == "grow":
            self.grow_brush()
        elif action == "eraser":
            self.toggle_eraser()
        elif action == "brush":
            self.set_erasing(False)
        event.accept()
