"""The list of open photos: thumbnail, name and status (queued, analysing, ready, failed)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QMenu,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from desktop.document import PhotoDocument, Status
from desktop.icons import icon
from desktop.session import Session
from desktop.task_mode import TaskMode

DOC_ROLE = Qt.ItemDataRole.UserRole + 1
STATUS_ROLE = Qt.ItemDataRole.UserRole + 2
ROW_HEIGHT = 64
THUMB = 52

STATUS_COLORS = {
    Status.LOADING: "#8a8f98",
    Status.QUEUED: "#8a8f98",
    Status.ANALYSING: "#4da3ff",
    Status.READY: "#4cc38a",
    Status.FAILED: "#ff6b6b",
    Status.NEEDS_WEIGHTS: "#f5b94d",
}

Index = QModelIndex | QPersistentModelIndex


class PhotoListModel(QAbstractListModel):
    """The session's documents as rows; follows the session's signals."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self._docs: list[PhotoDocument] = list(session.documents)
        self._pixmaps: dict[int, tuple[object, QPixmap]] = {}
        session.document_added.connect(self._on_added)
        session.document_removed.connect(self._on_removed)
        session.document_changed.connect(self._on_changed)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._docs)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._docs):
            return None
        doc = self._docs[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return doc.name
        if role == Qt.ItemDataRole.DecorationRole:
            return self._pixmap(doc)
        if role == Qt.ItemDataRole.ToolTipRole:
            where = str(doc.path) if doc.path else "Pasted image"
            extra = f"\n{doc.problem.message}" if doc.problem else ""
            return f"{where}\n{status_text(doc)}{extra}"
        if role == DOC_ROLE:
            return doc
        if role == STATUS_ROLE:
            return doc.status
        return None

    def document_at(self, row: int) -> PhotoDocument | None:
        return self._docs[row] if 0 <= row < len(self._docs) else None

    def row_of(self, doc: PhotoDocument | None) -> int:
        return self._docs.index(doc) if doc in self._docs else -1

    def _pixmap(self, doc: PhotoDocument) -> QPixmap | None:
        if doc.thumbnail is None:
            return None
        cached = self._pixmaps.get(doc.doc_id)
        if cached is None or cached[0] is not doc.thumbnail:
            cached = (doc.thumbnail, QPixmap.fromImage(doc.thumbnail))
            self._pixmaps[doc.doc_id] = cached
        return cached[1]

    def _on_added(self, doc: PhotoDocument) -> None:
        row = len(self._docs)
        self.beginInsertRows(QModelIndex(), row, row)
        self._docs.append(doc)
        self.endInsertRows()

    def _on_removed(self, doc: PhotoDocument) -> None:
        if doc not in self._docs:
            return
        row = self._docs.index(doc)
        self.beginRemoveRows(QModelIndex(), row, row)
        self._docs.pop(row)
        self._pixmaps.pop(doc.doc_id, None)
        self.endRemoveRows()

    def _on_changed(self, doc: PhotoDocument) -> None:
        if doc in self._docs:
            index = self.index(self._docs.index(doc))
            self.dataChanged.emit(index, index)


def status_text(doc: PhotoDocument) -> str:
    """The photo's status, its task first when that is not Restore ("Colorize · 1 face")."""
    task = doc.mode.title if doc.loaded and doc.mode is not TaskMode.RESTORE else ""
    if doc.status is Status.ANALYSING and doc.progress > 0:
        text = f"Analysing… {round(doc.progress * 100)} %"
    elif doc.status is Status.READY and (doc.analysis is not None or doc.task.set_aside):
        count = doc.face_count
        faces = "no face" if count == 0 else f"{count} face" + ("s" if count > 1 else "")
        text = faces if task else f"Ready · {faces}"  # the dot says ready too
    else:
        text = doc.status.label
    return f"{task} · {text}" if task else text


class PhotoDelegate(QStyledItemDelegate):
    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        return QSize(option.rect.width() or 200, ROW_HEIGHT)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        doc: PhotoDocument | None = index.data(DOC_ROLE)
        if doc is None:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = option.rect.adjusted(4, 2, -4, -2)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hovered = bool(option.state & QStyle.StateFlag.State_MouseOver)
        if selected or hovered:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor("#2f4f73") if selected else QColor("#2a2c30"))
            painter.drawRoundedRect(rect, 6, 6)
        thumb_box = QRect(rect.left() + 6, rect.top() + (rect.height() - THUMB) // 2, THUMB, THUMB)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor("#141517"))
        painter.drawRoundedRect(thumb_box, 4, 4)
        pixmap: QPixmap | None = index.data(Qt.ItemDataRole.DecorationRole)
        if pixmap is not None and not pixmap.isNull():
            scaled = pixmap.scaled(
                thumb_box.size() * painter.device().devicePixelRatioF(),
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
            scaled.setDevicePixelRatio(painter.device().devicePixelRatioF())
            size = scaled.deviceIndependentSize().toSize()
            target = QRect(0, 0, size.width(), size.height())
            target.moveCenter(thumb_box.center())
            painter.drawPixmap(target, scaled)
        elif doc.status is Status.FAILED:
            symbol = icon("failed", "#8a8f98").pixmap(thumb_box.size() * 0.55)
            target = QRect(QPoint(0, 0), symbol.deviceIndependentSize().toSize())
            target.moveCenter(thumb_box.center())
            painter.drawPixmap(target, symbol)
        text_left = thumb_box.right() + 10
        text_rect = QRect(text_left, rect.top() + 10, rect.right() - text_left - 6, 20)
        painter.setPen(QColor("#e8eaed"))
        name = option.fontMetrics.elidedText(
            doc.name, Qt.TextElideMode.ElideMiddle, text_rect.width()
        )
        painter.drawText(
            text_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, name
        )
        status_rect = QRect(text_left + 14, rect.top() + 32, rect.right() - text_left - 20, 18)
        color = QColor(STATUS_COLORS[doc.status])
        painter.setBrush(color)
        painter.drawEllipse(QRect(text_left + 1, status_rect.center().y() - 4, 8, 8))
        painter.setPen(QColor("#a3a8b0"))
        small = painter.font()
        small.setPointSizeF(max(7.0, small.pointSizeF() * 0.88))
        painter.setFont(small)
        painter.drawText(
            status_rect,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            painter.fontMetrics().elidedText(
                status_text(doc), Qt.TextElideMode.ElideRight, status_rect.width()
            ),
        )
        if doc.status is Status.ANALYSING:
            bar = QRect(text_left, rect.bottom() - 6, rect.right() - text_left - 8, 3)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor("#33363b"))
            painter.drawRoundedRect(bar, 1.5, 1.5)
            done = QRect(bar)
            done.setWidth(max(3, round(bar.width() * doc.progress)))
            painter.setBrush(color)
            painter.drawRoundedRect(done, 1.5, 1.5)
        painter.restore()


class Filmstrip(QListView):
    """The open photos; `document_activated(doc)` when the user picks one."""

    document_activated = Signal(object)
    remove_requested = Signal(object)
    retry_requested = Signal(object)

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("filmstrip")
        self.photo_model = PhotoListModel(session, self)
        self.setModel(self.photo_model)
        self.setItemDelegate(PhotoDelegate(self))
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setUniformItemSizes(True)
        self.setMouseTracking(True)
        self.setToolTip("Open photos")
        self.selectionModel().currentChanged.connect(self._on_current)
        session.current_changed.connect(self.show_document)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._context_menu)

    def _context_menu(self, position: QPoint) -> None:
        doc = self.photo_model.document_at(self.indexAt(position).row())
        if doc is None:
            return
        menu = QMenu(self)
        retry = menu.addAction(icon("retry"), "Analyse Again")
        retry.triggered.connect(lambda: self.retry_requested.emit(doc))
        remove = menu.addAction(icon("remove"), "Close Photo")
        remove.triggered.connect(lambda: self.remove_requested.emit(doc))
        menu.exec(self.viewport().mapToGlobal(position))

    def show_document(self, doc: PhotoDocument | None) -> None:
        row = self.photo_model.row_of(doc)
        if row != self.currentIndex().row():
            self.setCurrentIndex(self.photo_model.index(row) if row >= 0 else QModelIndex())

    def _on_current(self, current: QModelIndex, previous: QModelIndex) -> None:
        doc = self.photo_model.document_at(current.row())
        if doc is not None:
            self.document_activated.emit(doc)
