"""The open photos and what is being done with them: the window's model (no widgets here).

The window receives a Session and shows it; the Session never knows the window. It owns the photo
loader and drives the inference worker: analyses once per photo, renders for the photo on screen
(the newest request wins; older results are dropped by generation number), exports.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from desktop.document import PhotoDocument, Status
from desktop.jobs import (
    AnalysisDone,
    ExportTarget,
    FaceOptions,
    JobFailed,
    Progress,
    RenderDone,
    WeightsNeeded,
)
from desktop.loader import LoadedPhoto, LoadFailed, PhotoLoader, previews_of
from desktop.problems import Problem
from desktop.settings import StudioSettings
from desktop.worker import EngineFactory, InferenceWorker

log = logging.getLogger(__name__)


def expand_paths(paths: Iterable[str | Path], recursive: bool = False) -> list[Path]:
    """Files and folders -> the image files among them (folders listed, sorted)."""
    from core.photo_io import iter_photos

    return [Path(p) for p in iter_photos([Path(p) for p in paths], recursive=recursive)]


class Session(QObject):
    document_added = Signal(object)  # PhotoDocument
    document_removed = Signal(object)
    document_changed = Signal(object)  # status, thumbnail, progress
    current_changed = Signal(object)  # PhotoDocument or None
    analysis_changed = Signal(object)  # a document got (or lost) its analysis
    result_changed = Signal(object)  # a document's shown result was replaced
    render_pending_changed = Signal(bool)  # for the photo on screen
    problem = Signal(object, object)  # Problem, PhotoDocument or None
    weights_needed = Signal(object)  # WeightsNeeded
    engine_ready = Signal(str)
    busy_changed = Signal(bool)

    def __init__(
        self,
        settings: StudioSettings,
        engine_factory: EngineFactory,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._settings = settings
        self._fidelity = settings.fidelity
        self._docs: list[PhotoDocument] = []
        self._ids = itertools.count(1)
        self._current: PhotoDocument | None = None
        self.stale_results_dropped = 0
        self.loader = PhotoLoader(self)
        self.worker = InferenceWorker(engine_factory, self)
        self.loader.loaded.connect(self._on_loaded)
        self.loader.failed.connect(self._on_load_failed)
        w = self.worker
        w.analyzed.connect(self._on_analyzed)
        w.rendered.connect(self._on_rendered)
        w.failed.connect(self._on_failed)
        w.progress.connect(self._on_progress)
        w.job_started.connect(self._on_job_started)
        w.weights_needed.connect(self._on_weights_needed)
        w.engine_ready.connect(self.engine_ready)
        w.busy_changed.connect(self.busy_changed)
        self._closed = False

    # -- state ------------------------------------------------------------------------------

    @property
    def settings(self) -> StudioSettings:
        return self._settings

    @property
    def documents(self) -> tuple[PhotoDocument, ...]:
        return tuple(self._docs)

    @property
    def current(self) -> PhotoDocument | None:
        return self._current

    @property
    def fidelity(self) -> float:
        return self._fidelity

    def document(self, doc_id: int) -> PhotoDocument | None:
        return next((d for d in self._docs if d.doc_id == doc_id), None)

    # -- opening and closing photos ---------------------------------------------------------

    def open_paths(self, paths: Iterable[str | Path]) -> list[PhotoDocument]:
        """Open image files and the images in folders. Already open files are not opened twice.

        The first photo opened becomes the current one if none is.
        """
        opened: list[PhotoDocument] = []
        paths = list(paths)
        try:
            files = expand_paths(paths)
        except Exception as exc:  # a folder that cannot be listed
            from desktop.problems import describe

            self.problem.emit(describe(exc), None)
            return []
        if not files and paths:
            names = ", ".join(Path(p).name for p in paths[:3])
            self.problem.emit(
                Problem(kind="unreadable", message=f"No photos found in {names}."), None
            )
        for path in files:
            existing = next(
                (d for d in self._docs if d.path is not None and d.path == path.resolve()), None
            )
            if existing is not None:
                opened.append(existing)
                continue
            doc = PhotoDocument(doc_id=next(self._ids), name=path.name, path=path.resolve())
            self._docs.append(doc)
            self.document_added.emit(doc)
            self.loader.load(doc.doc_id, path)
            opened.append(doc)
        if opened and (self._current is None or len(files) == 1):
            self.set_current(opened[0])
        return opened

    def open_photo(self, photo: Any, name: str) -> PhotoDocument:
        """Open a photo that is already in memory (pasted), and make it current."""
        doc = PhotoDocument(doc_id=next(self._ids), name=name)
        self._docs.append(doc)
        self.document_added.emit(doc)
        thumbnail, preview = previews_of(photo)
        self._on_loaded(
            LoadedPhoto(doc_id=doc.doc_id, photo=photo, thumbnail=thumbnail, preview=preview)
        )
        self.set_current(doc)
        return doc

    def open_pixels(self, rgb: np.ndarray, alpha: np.ndarray | None, name: str) -> PhotoDocument:
        from core.photo import Photo

        return self.open_photo(Photo(pixels=rgb, alpha=alpha, format="PNG"), name)

    def remove(self, doc: PhotoDocument) -> None:
        if doc not in self._docs:
            return
        self.worker.cancel(doc.doc_id)
        index = self._docs.index(doc)
        self._docs.remove(doc)
        self.document_removed.emit(doc)
        if doc is self._current:
            following = self._docs[min(index, len(self._docs) - 1)] if self._docs else None
            self.set_current(following)

    def set_current(self, doc: PhotoDocument | None) -> None:
        if doc is self._current:
            return
        previous = self._current
        if previous is not None and previous.render_pending:
            previous.render_generation = previous.result_generation  # abandoned with the focus
        self._current = doc
        self.worker.focus(doc.doc_id if doc is not None else None)
        self.current_changed.emit(doc)
        if doc is not None and doc.analysis is not None and doc.result_key != self._render_key(doc):
            self.request_render(doc)
        self.render_pending_changed.emit(bool(doc and doc.render_pending))

    # -- fidelity, faces and renders ---------------------------------------------------------

    def set_fidelity(self, fidelity: float) -> None:
        """The global fidelity (0 quality .. 1 identity); the photo on screen is rendered again."""
        fidelity = min(max(float(fidelity), 0.0), 1.0)
        self._fidelity = fidelity
        if self._current is not None and self._current.analysis is not None:
            self.request_render(self._current)

    def set_face_options(self, doc: PhotoDocument, index: int, options: FaceOptions) -> None:
        doc.face_options[index] = options
        if doc.analysis is not None:
            self.request_render(doc)

    def _render_key(self, doc: PhotoDocument) -> tuple[Any, ...]:
        faces = tuple(sorted((i, o.enabled, o.fidelity) for i, o in doc.face_options.items()))
        return (round(self._fidelity, 4), faces, doc.analysis_generation)

    def request_render(self, doc: PhotoDocument) -> int:
        if doc.analysis is None:
            raise ValueError(f"{doc.name} has not been analysed yet")
        key = self._render_key(doc)
        if doc.render_pending and doc.requested_key == key:
            return doc.render_generation
        if not doc.render_pending and doc.result_key == key:
            return doc.result_generation
        doc.requested_key = key
        doc.render_generation = self.worker.render(
            doc.doc_id, doc.analysis, self._fidelity, dict(doc.face_options)
        )
        if doc is self._current:
            self.render_pending_changed.emit(True)
        return doc.render_generation

    # -- settings ---------------------------------------------------------------------------

    def apply_settings(
        self, settings: StudioSettings, engine_factory: EngineFactory | None = None
    ) -> None:
        """New preferences: rebuild the engine if its settings changed, re-analyse if the
        pipeline's did."""
        old, self._settings = self._settings, settings
        if engine_factory is not None and old.engine() != settings.engine():
            self.worker.reset_engine(engine_factory)
            self.reanalyse_all()
        elif old.pipeline() != settings.pipeline():
            self.reanalyse_all()

    def reanalyse_all(self) -> None:
        for doc in self._docs:
            if doc.photo is not None:
                self._analyse(doc)

    def retry(self, doc: PhotoDocument) -> None:
        if doc.photo is not None:
            self._analyse(doc)
        elif doc.path is not None:
            doc.status = Status.LOADING
            doc.problem = None
            self.document_changed.emit(doc)
            self.loader.load(doc.doc_id, doc.path)

    def weights_installed(self) -> None:
        """Weights were downloaded or imported: build the engine again and retry what waited."""
        self.worker.reset_engine()
        for doc in self._docs:
            if doc.status is Status.NEEDS_WEIGHTS or (
                doc.status is Status.FAILED and doc.problem and doc.problem.kind == "broken_weights"
            ):
                self._analyse(doc)

    def _analyse(self, doc: PhotoDocument) -> None:
        self.worker.cancel(doc.doc_id)
        doc.analysis = None
        doc.face_options = {}
        doc.face_images = {}
        doc.render_generation = doc.result_generation
        doc.status = Status.QUEUED
        doc.problem = None
        doc.progress = 0.0
        doc.analysis_generation = self.worker.analyze(
            doc.doc_id, doc.photo, self._settings.pipeline()
        )
        self.document_changed.emit(doc)
        self.analysis_changed.emit(doc)

    # -- export -----------------------------------------------------------------------------

    def export_target(self, doc: PhotoDocument, path: Path, **options: Any) -> ExportTarget:
        """What the worker needs to export `doc` at the current fidelity and face choices."""
        return ExportTarget(
            doc_id=doc.doc_id,
            name=doc.name,
            path=Path(path),
            source=doc.path,
            photo=doc.photo,
            analysis=doc.analysis,
            fidelity=self._fidelity,
            faces=dict(doc.face_options),
            pipeline=self._settings.pipeline(),
            **options,
        )

    def export(self, targets: list[ExportTarget]) -> int:
        return self.worker.export(targets)

    # -- shutdown ---------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Cancel all work and stop the threads (blocks until the worker's current face is done)."""
        if self._closed:
            return
        self._closed = True
        self.loader.shutdown()
        self.worker.shutdown()

    # -- worker and loader results (GUI thread) ---------------------------------------------

    def _on_loaded(self, loaded: LoadedPhoto) -> None:
        doc = self.document(loaded.doc_id)
        if doc is None or self._closed:
            return
        doc.photo = loaded.photo
        doc.thumbnail = loaded.thumbnail
        doc.original = loaded.preview
        self.document_changed.emit(doc)
        if doc is self._current:
            self.current_changed.emit(doc)
        self._analyse(doc)

    def _on_load_failed(self, failed: LoadFailed) -> None:
        doc = self.document(failed.doc_id)
        if doc is None:
            return
        doc.status = Status.FAILED
        doc.problem = failed.problem
        self.document_changed.emit(doc)
        self.problem.emit(failed.problem, doc)

    def _on_job_started(self, kind: str, doc_id: int, generation: int) -> None:
        doc = self.document(doc_id)
        if kind == "analyze" and doc is not None and generation == doc.analysis_generation:
            doc.status = Status.ANALYSING
            self.document_changed.emit(doc)

    def _on_progress(self, progress: Progress) -> None:
        doc = self.document(progress.doc_id or 0)
        if doc is None or progress.generation != doc.analysis_generation:
            return
        doc.progress, doc.progress_text = progress.fraction, progress.text
        self.document_changed.emit(doc)

    def _on_analyzed(self, done: AnalysisDone) -> None:
        doc = self.document(done.doc_id)
        if doc is None or done.generation != doc.analysis_generation:
            return  # removed, or analysed again with other settings since
        doc.analysis = done.analysis
        doc.analysis_seconds = done.seconds
        doc.face_options = {face.index: FaceOptions() for face in done.analysis.faces}
        doc.face_images = dict(done.faces)
        doc.status = Status.READY
        doc.progress = 1.0
        self.document_changed.emit(doc)
        self.analysis_changed.emit(doc)
        for notice in getattr(done.analysis, "notices", ()):
            if doc is self._current:
                self.problem.emit(Problem(kind="notice", message=f"{doc.name}: {notice}"), doc)
        if doc is self._current:
            self.request_render(doc)

    def _on_rendered(self, done: RenderDone) -> None:
        doc = self.document(done.doc_id)
        if doc is None or done.generation < doc.render_generation:
            self.stale_results_dropped += 1
            log.debug("dropped a stale render (generation %s)", done.generation)
            return
        doc.result = done.image
        doc.result_faces = dict(done.faces)
        doc.result_fidelity = done.fidelity
        doc.result_generation = done.generation
        doc.result_seconds = done.seconds
        doc.result_finished_at = done.finished_at
        doc.result_key = doc.requested_key
        self.result_changed.emit(doc)
        if doc is self._current:
            self.render_pending_changed.emit(False)

    def _on_failed(self, failed: JobFailed) -> None:
        doc = self.document(failed.doc_id) if failed.doc_id else None
        if failed.kind == "analyze" and doc is not None:
            if failed.generation != doc.analysis_generation:
                return
            doc.status = (
                Status.NEEDS_WEIGHTS if failed.problem.kind == "weights_missing" else Status.FAILED
            )
            doc.problem = failed.problem
            self.document_changed.emit(doc)
        elif failed.kind == "render" and doc is not None:
            if failed.generation < doc.render_generation:
                return
            doc.render_generation = doc.result_generation
            if doc is self._current:
                self.render_pending_changed.emit(False)
        self.problem.emit(failed.problem, doc)

    def _on_weights_needed(self, needed: WeightsNeeded) -> None:
        self.weights_needed.emit(needed)

    def faces_of(self, doc: PhotoDocument) -> Mapping[int, FaceOptions]:
        return dict(doc.face_options)
