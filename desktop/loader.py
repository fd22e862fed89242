"""Reading photos off the GUI thread, with thumbnails made there too.

A small private QThreadPool reads files (core.photo_io, no torch) and makes the thumbnail and the
full-size preview as QImages that own their pixels; `loaded` / `failed` arrive in the GUI thread.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtGui import QImage

from desktop.images import fit_within, qimage_from_rgb, to_uint8
from desktop.problems import Problem, describe

log = logging.getLogger(__name__)

THUMBNAIL_SIDE = 160


@dataclass(frozen=True, kw_only=True)
class LoadedPhoto:
    doc_id: int
    photo: Any  # core.photo.Photo
    thumbnail: QImage
    preview: QImage  # the whole photo, 8-bit, with its alpha if any


@dataclass(frozen=True, kw_only=True)
class LoadFailed:
    doc_id: int
    problem: Problem


def previews_of(photo: Any) -> tuple[QImage, QImage]:
    """(thumbnail, full-size preview) of a core Photo, as QImages that own their pixels."""
    rgb = photo.rgb8()
    alpha = to_uint8(photo.alpha) if photo.alpha is not None else None
    preview = qimage_from_rgb(rgb, alpha)
    thumb_rgb = fit_within(rgb, THUMBNAIL_SIDE)
    thumbnail = qimage_from_rgb(np.ascontiguousarray(thumb_rgb))
    return thumbnail, preview


class _Read(QRunnable):
    def __init__(self, loader: PhotoLoader, doc_id: int, path: Path) -> None:
        super().__init__()
        self._loader, self._doc_id, self._path = loader, doc_id, path

    def run(self) -> None:
        try:
            from core.photo_io import read_photo

            photo = read_photo(self._path)
            thumbnail, preview = previews_of(photo)
        except Exception as exc:  # an unreadable file is reported, not raised
            log.info("cannot open %s: %s", self._path, exc)
            self._loader.failed.emit(LoadFailed(doc_id=self._doc_id, problem=describe(exc)))
            return
        self._loader.loaded.emit(
            LoadedPhoto(doc_id=self._doc_id, photo=photo, thumbnail=thumbnail, preview=preview)
        )


class PhotoLoader(QObject):
    loaded = Signal(object)  # LoadedPhoto
    failed = Signal(object)  # LoadFailed

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)

    def load(self, doc_id: int, path: Path) -> None:
        self._pool.start(_Read(self, doc_id, path))

    def wait(self, timeout_ms: int = 30000) -> bool:
        return bool(self._pool.waitForDone(timeout_ms))

    def shutdown(self) -> None:
        self._pool.clear()
        self._pool.waitForDone()
