"""Before/after comparison on QGraphicsView: a wipe with a draggable divider, or two views side by
side with zoom and pan kept in sync. Zoom at the cursor, pan by dragging, fit and 100 %.

Scene units are pixels of the restored image; the original is scaled by the upscale factor to
cover the same area. "100 %" means one image pixel per device pixel, so it is crisp on high-DPI
screens (the view's scale is then 1 / devicePixelRatio).

Inpaint puts a brush overlay (`set_overlay`, an item in photo pixels) over the original: in the
wipe view, where its fill shows only on the original's side of the divider (the result's side shows
what was filled in) except while a stroke is being painted, when all of it shows; side by side,
on the original (left) view. While a brush is on the wipe view, only the divider's round handle
grabs the divider (anywhere along it otherwise), so strokes can start next to it.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Signal
from PySide6.QtGui import QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import QGraphicsItem, QHBoxLayout, QWidget

from desktop.busy_ring import BusyRing
from desktop.image_view import AFTER, BEFORE, WIPE, ImageView
from desktop.inference.responses import Patch

__all__ = ["AFTER", "BEFORE", "WIPE", "CompareView", "ImageView"]


class CompareView(QWidget):
    """Wipe or side-by-side comparison of one photo. Receives QImages; makes pixmaps itself."""

    zoom_changed = Signal(float)
    mode_changed = Signal(str)

    MODES = ("wipe", "side_by_side")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._mode = "wipe"
        self._syncing = False
        self.left = ImageView(BEFORE, self)  # side by side only
        self.main = ImageView(WIPE, self)  # the wipe, or the right side
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.left)
        layout.addWidget(self.main)
        self.left.hide()
        self.main.zoom_changed.connect(self.zoom_changed)
        self.main.view_changed.connect(lambda: self._sync(self.main, self.left))
        self.left.view_changed.connect(lambda: self._sync(self.left, self.main))
        self._before: QPixmap | None = None
        self._after: QPixmap | None = None
        self._before_image: QImage | None = None
        self._after_image: QImage | None = None
        self._patch_source: tuple[Patch, ...] = ()
        self._patches: list[tuple[int, int, QPixmap]] = []
        self._scale = 1.0
        self._overlay: QGraphicsItem | None = None
        # "Working": a ring in the photo's top-right corner while a new picture is on its way
        self.busy = BusyRing(28, parent=self)
        self.busy.setToolTip("Rendering the new fidelity…")
        self.busy.hide()

    @property
    def mode(self) -> str:
        return self._mode

    def set_busy(self, busy: bool) -> None:
        """Show the ring (spinning) while a render for the photo on screen is pending."""
        self.busy.setVisible(busy)
        if busy:
            self._place_busy()
            self.busy.raise_()
            self.busy.start()
        else:
            self.busy.stop()

    def _place_busy(self) -> None:
        margin = 14
        self.busy.move(self.width() - self.busy.width() - margin, margin + 28)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place_busy()

    def set_mode(self, mode: str) -> None:
        if mode not in self.MODES:
            raise ValueError(f"unknown compare mode {mode!r}")
        if mode == self._mode:
            return
        self._mode = mode
        self.left.setVisible(mode == "side_by_side")
        self.main.set_role(WIPE if mode == "wipe" else AFTER)
        self._push_images()
        self._place_overlay()
        self.mode_changed.emit(mode)

    def set_images(
        self,
        before: QImage | None,
        after: QImage | None,
        before_scale: float,
        patches: tuple[Patch, ...] = (),
    ) -> None:
        """The original (scaled by the upscale factor) and the restored photo (None: not yet),
        with `patches` laid over it (a newer render of the same analysis, its faces' regions).

        Pixmaps are made here, in the GUI thread; an image already shown is not converted again
        (a new result replaces only the restored side; new patches only themselves)."""
        images_changed = before is not self._before_image or after is not self._after_image
        if before is not self._before_image:
            self._before = QPixmap.fromImage(before) if before is not None else None
            self._before_image = before
        if after is not self._after_image:
            self._after = QPixmap.fromImage(after) if after is not None else None
            self._after_image = after
        if patches is not self._patch_source:
            self._patch_source = patches
            self._patches = [(p.x, p.y, QPixmap.fromImage(p.image)) for p in patches]
            if not images_changed and before_scale == self._scale:
                for view in self._views():
                    view.set_patches(self._patches)
                return  # only the faces' regions changed
        self._scale = before_scale
        self._push_images()
        self._place_overlay()

    def _views(self) -> tuple[ImageView, ...]:
        return (self.main, self.left) if self._mode == "side_by_side" else (self.main,)

    def clear(self) -> None:
        self._before = self._after = None
        self._before_image = self._after_image = None
        self._patch_source, self._patches = (), []
        self._push_images()

    # -- the brush overlay (Inpaint) --------------------------------------------------------

    def set_overlay(self, item: QGraphicsItem | None) -> None:
        """Show a brush overlay (coordinates: original-photo pixels) over the original: in the
        wipe view, or on the left view side by side. None takes it away."""
        if item is self._overlay:
            return
        for view in (self.main, self.left):
            view.detach_overlay()
        self._overlay = item
        self._place_overlay()

    @property
    def overlay(self) -> QGraphicsItem | None:
        return self._overlay

    def overlay_view(self) -> ImageView | None:
        """The view the overlay is painted in, or None."""
        if self._overlay is None:
            return None
        return self.left if self._mode == "side_by_side" else self.main

    def _place_overlay(self) -> None:
        view = self.overlay_view()
        if view is None or self._overlay is None:
            return
        other = self.main if view is self.left else self.left
        if other.overlay is self._overlay:
            other.detach_overlay()
        view.attach_overlay(self._overlay, self._scale)

    def _push_images(self) -> None:
        self.main.set_images(self._before, self._after, self._scale)
        self.main.set_patches(self._patches)
        if self._mode == "side_by_side":
            # The left view shows the original over the same scene area as the restored photo.
            self.left.set_images(self._before, self._after, self._scale)
            self.left.set_patches(self._patches)
            self._sync(self.main, self.left)

    def set_labels(self, before: str, after: str) -> None:
        self.main.set_labels(before, after)
        self.left.set_labels(before, after)

    def set_show_original(self, show: bool) -> None:
        self.main.set_show_original(show)

    def set_waiting(self, text: str) -> None:
        self.main.set_waiting(text)

    def set_highlight(self, rect: QRectF | None) -> None:
        self.main.set_highlight(rect)
        self.left.set_highlight(rect)

    def fit(self) -> None:
        self.main.fit()
        if self._mode == "side_by_side":
            self.left.fit()

    def zoom_to(self, percent: float) -> None:
        self.main.zoom_to(percent)

    def zoom_by(self, factor: float) -> None:
        self.main.zoom_by(factor)

    def zoom_percent(self) -> float:
        return self.main.zoom_percent()

    def _sync(self, source: ImageView, target: ImageView) -> None:
        if self._syncing or self._mode != "side_by_side" or not target.isVisible():
            return
        self._syncing = True
        try:
            target._fit = source.fitting
            target.set_view(source.scale_factor(), source.center())
        finally:
            self._syncing = False
