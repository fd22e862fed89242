"""The open photos and what is being done with them: the window's model (no widgets here).

The window receives a Session and shows it; the Session never knows the window. It owns the photo
loader and drives the inference worker: analyses once per photo and task, renders for the photo on
screen (the newest request wins: a response is shown only if its request is the one the task
waits for), exports.

Each photo has its own task (Restore, Colorize, Inpaint: `set_mode`) and keeps one analysis and
result per task, so switching tasks or photos and back shows the earlier result at once. New photos
open in the task chosen last. For Inpaint, the damage painted on a photo (`set_damage`) goes to the
worker at most every `MASK_THROTTLE_MS`: it re-encodes only the faces whose damage changed, then
renders.

Analyses hold the encoded faces (about 90 MB each) and the prepared background, so all of them
together are kept within a budget (`ANALYSIS_BUDGET_BYTES`): past it, the analyses of the tasks
shown longest ago are set aside (their results, face choices and face crops stay) and made again
when they come back on screen. The task on screen always keeps its own.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from core.choices import FaceChoice, quantise_fidelity
from core.damage_mask import DamageMask
from desktop.document import PhotoDocument, Status, TaskState
from desktop.inference.queue import EngineFactory, InferenceQueue
from desktop.inference.requests import Analyze, CheckWeights, ExportTarget, Picture, Remask, Render
from desktop.inference.responses import Analyzed, Failed, Progressed, Rendered, WeightsNeeded
from desktop.loader import LoadedPhoto, LoadFailed, PhotoLoader, previews_of
from desktop.problems import Problem
from desktop.settings import StudioSettings
from desktop.task_mode import TaskMode
from desktop.throttle import Throttler

log = logging.getLogger(__name__)

MASK_THROTTLE_MS = 150

ANALYSIS_BUDGET_BYTES = 2 * 2**30
"""The memory that the analyses of all open photos may take together (see the module doc)."""


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
    mode_changed = Signal(object)  # PhotoDocument: its task changed
    damage_changed = Signal(object)  # PhotoDocument: its painted damage changed
    problem = Signal(object, object)  # Problem, PhotoDocument or None
    weights_needed = Signal(object)  # WeightsNeeded
    engine_ready = Signal(str)
    busy_changed = Signal(bool)
    slider_filled = Signal(object)  # PhotoDocument: more steps of its slider only composite

    def __init__(
        self,
        settings: StudioSettings,
        engine_factory: EngineFactory,
        parent: QObject | None = None,
        *,
        analysis_budget: int = ANALYSIS_BUDGET_BYTES,
    ) -> None:
        super().__init__(parent)
        self._settings = settings
        self._analysis_budget = analysis_budget
        self._clock = itertools.count(1)  # orders the tasks by when they were last on screen
        self._fidelity = quantise_fidelity(settings.fidelity)
        self._docs: list[PhotoDocument] = []
        self._ids = itertools.count(1)
        self._current: PhotoDocument | None = None
        self._default_mode = TaskMode.RESTORE
        self.stale_results_dropped = 0
        self._mask_throttle = Throttler(MASK_THROTTLE_MS, self)
        self._mask_throttle.triggered.connect(self._send_mask)
        self.loader = PhotoLoader(self)
        self.worker = InferenceQueue(engine_factory, self, prefetch=settings.prefetch)
        self.loader.loaded.connect(self._on_loaded)
        self.loader.failed.connect(self._on_load_failed)
        w = self.worker
        w.analyzed.connect(self._on_analyzed)
        w.rendered.connect(self._on_rendered)
        w.failed.connect(self._on_failed)
        w.progress.connect(self._on_progress)
        w.started.connect(self._on_job_started)
        w.filled.connect(self._on_filled)
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

    @property
    def default_mode(self) -> TaskMode:
        """The task new photos open in: the one chosen last."""
        return self._default_mode

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
            doc = PhotoDocument(
                doc_id=next(self._ids),
                name=path.name,
                path=path.resolve(),
                mode=self._default_mode,
            )
            self._docs.append(doc)
            self.document_added.emit(doc)
            self.loader.load(doc.doc_id, path)
            opened.append(doc)
        if opened and (self._current is None or len(files) == 1):
            self.set_current(opened[0])
        return opened

    def open_photo(self, photo: Any, name: str) -> PhotoDocument:
        """Open a photo that is already in memory (pasted), and make it current."""
        doc = PhotoDocument(doc_id=next(self._ids), name=name, mode=self._default_mode)
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
        self._mask_throttle.flush()  # the damage painted on the photo left goes to the worker
        previous = self._current
        if previous is not None:
            _abandon_render(previous.task)
        self._current = doc
        self.worker.focus(doc.doc_id if doc is not None else None)
        if doc is not None:
            self._shown(doc)
        self.current_changed.emit(doc)
        if doc is not None and doc.analysis is not None:
            self.request_render(doc)  # nothing new when its result is already there
        self.render_pending_changed.emit(bool(doc and doc.render_pending))

    # -- tasks (Restore, Colorize, Inpaint) ---------------------------------------------------

    def set_mode(self, doc: PhotoDocument, mode: TaskMode) -> None:
        """Work on `doc` with another task. Its analysis for that task is made once (now, if it
        was never made); an earlier result is shown again at once. New photos open in `mode`."""
        self._default_mode = mode
        if doc.mode is mode:
            return
        self._mask_throttle.flush()
        _abandon_render(doc.task)
        doc.mode = mode
        self.mode_changed.emit(doc)
        self.document_changed.emit(doc)
        if doc.loaded:
            task = doc.task
            if not task.started or task.status is Status.NEEDS_WEIGHTS:
                self._analyse(doc)
            elif task.analysis is not None and doc is self._current:
                self.request_render(doc)  # nothing new when its result is already there
        if doc is self._current:
            self._shown(doc)
            self.render_pending_changed.emit(doc.render_pending)

    def set_default_mode(self, mode: TaskMode) -> None:
        """The task new photos open in (set by `set_mode` too)."""
        self._default_mode = mode

    def set_damage(self, doc: PhotoDocument, mask: DamageMask) -> None:
        """The damage painted on `doc` changed (a stroke, undo, redo, clear): Inpaint it again.

        Sent to the worker throttled (at once, then at most every MASK_THROTTLE_MS)."""
        if doc.photo is not None and mask.shape != (doc.photo.height, doc.photo.width):
            raise ValueError(
                f"a {mask.size} mask for the {doc.photo.width}x{doc.photo.height} photo"
            )
        if mask is doc.damage:
            return
        doc.damage = mask
        self.damage_changed.emit(doc)
        pending = self._mask_throttle.pending
        if pending is not None and pending is not doc:
            self._mask_throttle.flush()  # another photo's damage goes first
        self._mask_throttle.call(doc)

    def _send_mask(self, doc: object) -> None:
        assert isinstance(doc, PhotoDocument)
        if doc not in self._docs or not doc.loaded or self._closed or doc.damage is None:
            return
        task = doc.task_for(TaskMode.INPAINT)
        if task.analysis is None:
            if task.started and task.status in (Status.QUEUED, Status.ANALYSING):
                # again, with the newest damage (the same faces: their choices stay)
                self._analyse(doc, TaskMode.INPAINT, keep_choices=True)
            return
        request = Remask(
            doc_id=doc.doc_id,
            analysis=task.analysis,
            mask=doc.damage,
            faces=dict(task.face_options),
        )
        self.worker.submit(request)
        task.mask_request = request
        if doc.mode is TaskMode.INPAINT:
            task.pending = request
            if doc is self._current:
                self.render_pending_changed.emit(True)

    # -- fidelity, faces and renders ---------------------------------------------------------

    def set_fidelity(self, fidelity: float) -> None:
        """The global fidelity (0 quality .. 1 identity); the photo on screen is rendered again
        if its task uses it (Restore)."""
        self._fidelity = quantise_fidelity(fidelity)
        if self._current is not None and self._current.analysis is not None:
            self.request_render(self._current)

    def set_face_options(self, doc: PhotoDocument, index: int, options: FaceChoice) -> None:
        doc.task.face_options[index] = options
        if doc.analysis is not None:
            self.request_render(doc)

    def fidelity_of(self, doc: PhotoDocument) -> float:
        """The fidelity the result of `doc` is computed at: the slider's in Restore, else its
        task's fixed value (Colorize 0, Inpaint 1)."""
        fixed = doc.mode.fixed_fidelity
        return self._fidelity if fixed is None else fixed

    def render_fidelity(self, doc: PhotoDocument) -> float | None:
        """The fidelity a render of `doc` asks for: the slider's in Restore, else None (fixed)."""
        return doc.mode.render_fidelity(self._fidelity)

    def picture_of(self, doc: PhotoDocument) -> Picture:
        """What the task on screen of `doc` should show now (it must have an analysis)."""
        task = doc.task
        if task.analysis is None:
            raise ValueError(f"{doc.name} has not been analysed yet")
        return Picture(
            analysis=task.analysis,
            fidelity=self.render_fidelity(doc),
            faces=dict(task.face_options),
        )

    def filled_steps(self, doc: PhotoDocument) -> tuple[float, ...]:
        """The slider's steps where the photo's task only composites (every face decoded)."""
        if doc.analysis is None:
            return ()
        return self.worker.filled_steps(self.picture_of(doc))

    def request_render(self, doc: PhotoDocument) -> None:
        """Render the task on screen of `doc` unless that very picture is shown or pending."""
        task = doc.task
        picture = self.picture_of(doc)
        pending = task.pending
        if isinstance(pending, Remask) and dict(pending.faces) == dict(picture.faces):
            return  # the newest damage renders when re-encoded
        if isinstance(pending, Render) and pending.picture == picture:
            return
        if pending is None and task.result_picture == picture:
            return
        shown = task.result_picture
        # the window shows a render of this analysis: the faces' regions are all it needs
        patch = task.result is not None and shown is not None and shown.analysis is task.analysis
        request = Render(doc_id=doc.doc_id, picture=picture, patch=patch)
        task.pending = request
        self.worker.submit(request)
        if doc is self._current:
            self.render_pending_changed.emit(True)

    # -- settings ---------------------------------------------------------------------------

    def apply_settings(
        self, settings: StudioSettings, engine_factory: EngineFactory | None = None
    ) -> None:
        """New preferences: rebuild the engine if its settings changed, re-analyse if the
        pipeline's did."""
        old, self._settings = self._settings, settings
        self.worker.set_prefetch(settings.prefetch)
        if engine_factory is not None and old.engine() != settings.engine():
            self.worker.reset_engine(engine_factory)
            self.reanalyse_all()
        elif old.pipeline() != settings.pipeline():
            self.reanalyse_all()

    def reanalyse_all(self) -> None:
        """The pipeline's settings changed: analyse each photo's task on screen again; the other
        tasks forget what they did (they are analysed again when chosen). A task set aside for
        memory stays so (it is analysed when shown), with its face choices forgotten."""
        for doc in self._docs:
            if doc.loaded:
                for mode in TaskMode:
                    if mode is not doc.mode:
                        self._forget(doc, mode)
                if doc.task.set_aside and doc is not self._current:
                    doc.task.face_options = {}
                    doc.task.face_images = {}
                    continue
                self._analyse(doc)

    def check_weights(self) -> None:
        """Build the engine now (torch loads in the worker thread) and say what is missing."""
        self.worker.submit(CheckWeights(pipeline=self._settings.pipeline()))

    def retry(self, doc: PhotoDocument) -> None:
        if doc.photo is not None:
            self._analyse(doc)
        elif doc.path is not None:
            doc.load_status = Status.LOADING
            doc.load_problem = None
            self.document_changed.emit(doc)
            self.loader.load(doc.doc_id, doc.path)

    def weights_installed(self) -> None:
        """Weights were downloaded or imported: build the engine again and retry what waited."""
        self.worker.reset_engine()
        for doc in self._docs:
            if not doc.loaded:
                continue
            for mode, task in doc.tasks.items():
                waiting = task.status is Status.NEEDS_WEIGHTS or (
                    task.status is Status.FAILED
                    and task.problem is not None
                    and task.problem.kind == "broken_weights"
                )
                if not waiting:
                    continue
                if mode is doc.mode:
                    self._analyse(doc)
                else:
                    self._forget(doc, mode)

    def _forget(self, doc: PhotoDocument, mode: TaskMode) -> None:
        """Drop what a task did to `doc` (analysed again when it is chosen)."""
        self.worker.cancel(doc.doc_id, mode.variant)
        doc.tasks[mode] = TaskState()

    def _analyse(
        self, doc: PhotoDocument, mode: TaskMode | None = None, *, keep_choices: bool = False
    ) -> None:
        """Analyse a task of `doc` (again). `keep_choices`: the face choices and crops stay (an
        analysis set aside for memory is made again: the same faces)."""
        mode = mode or doc.mode
        self.worker.cancel(doc.doc_id, mode.variant)
        task = doc.task_for(mode)
        task.analysis = None
        task.analysis_damage = None
        task.set_aside = False
        if not keep_choices:
            task.face_options = {}
            task.face_images = {}
            task.notices_shown = False
        task.pending = None
        task.status = Status.QUEUED
        task.problem = None
        task.progress = 0.0
        request = Analyze(
            doc_id=doc.doc_id,
            photo=doc.photo,
            pipeline=self._settings.pipeline(),
            variant=mode.variant,
            mask=doc.damage if mode.needs_mask else None,
        )
        task.analysis_request = request
        self.worker.submit(request)
        self.document_changed.emit(doc)
        self.analysis_changed.emit(doc)

    # -- memory -----------------------------------------------------------------------------

    def _shown(self, doc: PhotoDocument) -> None:
        """The task of `doc` is on screen: note when, and bring back an analysis set aside."""
        doc.task.shown_at = next(self._clock)
        if doc.task.set_aside and doc.loaded:
            self._analyse(doc, keep_choices=True)

    def _kept_analyses(self) -> list[tuple[int, PhotoDocument, TaskMode, int]]:
        """(shown at, photo, task, bytes) of every task that holds an analysis."""
        return [
            (task.shown_at, doc, mode, task.analysis.nbytes())
            for doc in self._docs
            for mode, task in doc.tasks.items()
            if task.analysis is not None
        ]

    def analyses_nbytes(self) -> int:
        """The memory that all kept analyses take together."""
        return sum(size for *_, size in self._kept_analyses())

    def _keep_within_budget(self) -> None:
        """Set aside the analyses of the tasks shown longest ago (never shown first) while all
        kept analyses take more than the budget; the task on screen keeps its own."""
        kept = self._kept_analyses()
        total = sum(size for *_, size in kept)
        for _, doc, mode, size in sorted(kept, key=lambda entry: entry[0]):
            if total <= self._analysis_budget:
                break
            if not self._on_screen(doc, mode):
                self._set_aside(doc, mode)
                total -= size

    def _set_aside(self, doc: PhotoDocument, mode: TaskMode) -> None:
        log.info("%s (%s): analysis set aside to save memory", doc.name, mode.title)
        self.worker.cancel(doc.doc_id, mode.variant)  # its jobs and the worker's references
        task = doc.task_for(mode)
        _abandon_render(task)
        task.analysis = None
        task.analysis_damage = None
        task.set_aside = True
        self.document_changed.emit(doc)
        self.analysis_changed.emit(doc)

    # -- export -----------------------------------------------------------------------------

    def export_target(self, doc: PhotoDocument, path: Path, **options: Any) -> ExportTarget:
        """What the worker needs to export `doc`: its task's result at the current fidelity and
        face choices (Inpaint: with the damage painted now)."""
        task = doc.task
        analysis = task.analysis
        if doc.mode.needs_mask and task.analysis_damage is not doc.damage:
            analysis = None  # the newest damage is not encoded yet: the export analyses it
        return ExportTarget(
            doc_id=doc.doc_id,
            name=doc.name,
            path=Path(path),
            source=doc.path,
            photo=doc.photo,
            analysis=analysis,
            fidelity=self.render_fidelity(doc),
            faces=dict(task.face_options),
            pipeline=self._settings.pipeline(),
            variant=doc.mode.variant,
            mask=doc.damage if doc.mode.needs_mask else None,
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
        self._mask_throttle.cancel()
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
        doc.load_status = Status.READY
        doc.load_problem = None
        doc.damage = DamageMask(size=(loaded.photo.width, loaded.photo.height))
        self.document_changed.emit(doc)
        if doc is self._current:
            self.current_changed.emit(doc)
        self._analyse(doc)

    def _on_load_failed(self, failed: LoadFailed) -> None:
        doc = self.document(failed.doc_id)
        if doc is None:
            return
        doc.load_status = Status.FAILED
        doc.load_problem = failed.problem
        self.document_changed.emit(doc)
        self.problem.emit(failed.problem, doc)

    def _on_screen(self, doc: PhotoDocument, mode: TaskMode) -> bool:
        return doc is self._current and doc.mode is mode

    def _on_job_started(self, request: object) -> None:
        if not isinstance(request, Analyze) or (doc := self.document(request.doc_id)) is None:
            return
        task = doc.task_for(TaskMode.from_variant(request.variant))
        if task.analysis_request is request and task.analysis is None:
            task.status = Status.ANALYSING
            self.document_changed.emit(doc)

    def _on_filled(self, doc_id: int) -> None:
        doc = self.document(doc_id)
        if doc is not None and doc is self._current:
            self.slider_filled.emit(doc)

    def _on_progress(self, progress: Progressed) -> None:
        request = progress.request
        doc = self.document(request.doc_id)
        if doc is None or not isinstance(request, Analyze):
            return
        task = doc.task_for(TaskMode.from_variant(request.variant))
        if request is not task.analysis_request:
            return
        task.progress, task.progress_text = progress.fraction, progress.text
        self.document_changed.emit(doc)

    def _on_analyzed(self, done: Analyzed) -> None:
        request = done.request
        doc = self.document(request.doc_id)
        if doc is None:
            return
        mode = TaskMode.from_variant(request.variant)
        task = doc.task_for(mode)
        if isinstance(request, Remask):
            self._on_remasked(doc, mode, done, request)
            return
        if request is not task.analysis_request:
            return  # analysed again with other settings (or another mask) since
        task.analysis = done.analysis
        task.analysis_damage = done.mask
        task.analysis_seconds = done.seconds
        chosen = task.face_options  # empty unless an analysis set aside was made again
        task.face_options = {
            face.index: chosen.get(face.index, FaceChoice()) for face in done.analysis.faces
        }
        task.face_count = len(done.analysis.faces)
        task.face_images = dict(done.faces)
        task.status = Status.READY
        task.progress = 1.0
        self.document_changed.emit(doc)
        self.analysis_changed.emit(doc)
        if self._on_screen(doc, mode):
            if not task.notices_shown:
                for notice in getattr(done.analysis, "notices", ()):
                    message = f"{doc.name}: {notice}"
                    self.problem.emit(Problem(kind="notice", message=message), doc)
                task.notices_shown = True
            self.request_render(doc)
        self._keep_within_budget()

    def _on_remasked(
        self, doc: PhotoDocument, mode: TaskMode, done: Analyzed, request: Remask
    ) -> None:
        """The same faces, encoded for the newest damage sent (earlier ones are built upon by
        the worker, not shown)."""
        task = doc.task_for(mode)
        if task.analysis is None or request is not task.mask_request:
            return  # analysed again since, or newer damage is on its way
        task.analysis = done.analysis
        task.analysis_damage = done.mask
        if self._on_screen(doc, mode) and task.pending is not request:
            self.request_render(doc)  # its own render was superseded

    def _on_rendered(self, done: Rendered) -> None:
        request = done.request
        doc = self.document(request.doc_id)
        task = doc.task_for(TaskMode.from_variant(request.variant)) if doc is not None else None
        if doc is None or task is None or request is not task.pending:
            self.stale_results_dropped += 1
            log.debug("dropped a stale render (fidelity %s)", done.fidelity)
            return
        task.pending = None
        if done.image is not None:
            task.result = done.image
        task.result_patches = done.patches
        task.result_picture = done.picture
        task.result_faces = dict(done.faces)
        task.result_fidelity = done.fidelity
        task.result_seconds = done.seconds
        task.result_finished_at = done.finished_at
        self.result_changed.emit(doc)
        if doc is self._current:
            self.render_pending_changed.emit(doc.render_pending)

    def _on_failed(self, failed: Failed) -> None:
        request = failed.request
        doc_id = getattr(request, "doc_id", None)
        doc = self.document(doc_id) if doc_id else None
        task = doc.task_for(TaskMode.from_variant(request.variant)) if doc is not None else None
        if isinstance(request, Analyze) and doc is not None and task is not None:
            if request is not task.analysis_request:
                return
            task.status = (
                Status.NEEDS_WEIGHTS if failed.problem.kind == "weights_missing" else Status.FAILED
            )
            task.problem = failed.problem
            self.document_changed.emit(doc)
        elif isinstance(request, Render | Remask) and doc is not None and task is not None:
            if request is not task.pending:
                return
            task.pending = None
            if doc is self._current:
                self.render_pending_changed.emit(doc.render_pending)
        self.problem.emit(failed.problem, doc)

    def _on_weights_needed(self, needed: WeightsNeeded) -> None:
        self.weights_needed.emit(needed)


def _abandon_render(task: TaskState) -> None:
    """The task leaves the screen: a pending render is no longer waited for (its result is still
    kept if it arrives)."""
    task.pending = None
