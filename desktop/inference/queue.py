"""The inference queue: one QThread owns the engine; the newest picture wins.

The window submits requests (`desktop.inference.requests`); each response carries its request, so
the window drops a stale one by asking "is this still the request I wait for". Here:

- Priorities: renders, re-masks and weight checks first, then the analysis of the photo on screen,
  then exports, then analyses of other photos; idle work (`SliderFill`) only when nothing is
  queued. A preview submitted while an export runs stops that export at its next face or decoder
  stage; the export starts that photo again afterwards.
- Cancellation: a new picture drops the queued renders and stops the running one at the next
  face or decoder stage (the engine asks `cancel()`); a re-mask still finishes re-encoding (the
  next builds on it) and only skips its render. A cancelled job emits nothing.
- Emitting: results travel to the GUI thread by queued signals as plain values holding QImages
  that own their pixels. A picture already rendered whole is delivered from the cache at once.

torch is imported only in the worker thread, by the engine factory.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QCoreApplication, QDeadlineTimer, QObject, QThread, QTimer, Signal

from core.errors import WeightsMissingError
from core.prefetch import FaceCropCache, RenderCache
from desktop.inference.export_batches import ExportBatches
from desktop.inference.handlers import can_patch
from desktop.inference.requests import (
    Analyze,
    CheckWeights,
    Export,
    ExportTarget,
    Picture,
    Remask,
    Render,
    Request,
)
from desktop.inference.responses import ExportFinished, Failed
from desktop.inference.runner import rendered_response, run_job
from desktop.inference.slider_fill import FillStep, SliderFill
from desktop.problems import describe, is_cancellation

log = logging.getLogger(__name__)

EngineFactory = Callable[[], Any]

# Lower runs first; equal priorities run in submission order.
_PREVIEW, _ANALYZE_ON_SCREEN, _EXPORT, _ANALYZE = 0, 1, 2, 3
_IDLE = 9  # never queued: made by the loop when nothing else is


@dataclass(eq=False)
class Job:
    """A request (or a step of idle work) as the queue runs it."""

    request: Request | None
    priority: int
    order: int
    step: FillStep | None = None
    cancelled: bool = False
    superseded: bool = False  # Remask: a newer picture is wanted; re-encode, skip the render
    preempted: bool = False  # Export: a preview waits; stop now, run again later

    @property
    def doc_id(self) -> int | None:
        if self.step is not None:
            return self.step.doc_id
        return getattr(self.request, "doc_id", None)

    @property
    def variant(self) -> str:
        if self.step is not None:
            return self.step.picture.variant
        return str(getattr(self.request, "variant", "restoration"))


class _Thread(QThread):
    def __init__(self, queue: InferenceQueue) -> None:
        super().__init__()
        self.setObjectName("inference")
        self._queue = queue

    def run(self) -> None:
        self._queue._loop()


class InferenceQueue(QObject):
    """Runs requests on one thread that owns the engine (see the module docstring).

    `engine_factory()` is called in the worker thread the first time the engine is needed (and
    again after `reset_engine`); it returns an object with the core Engine's methods.
    """

    analyzed = Signal(object)  # Analyzed
    rendered = Signal(object)  # Rendered
    failed = Signal(object)  # Failed
    progress = Signal(object)  # Progressed
    started = Signal(object)  # the request now running (not for idle work)
    weights_needed = Signal(object)  # WeightsNeeded
    engine_ready = Signal(str)  # the engine's device description
    busy_changed = Signal(bool)
    filled = Signal(int)  # doc id: a step of the slider was decoded for that photo
    export_step = Signal(object)  # ExportStep
    export_finished = Signal(object)  # ExportFinished

    def __init__(
        self,
        engine_factory: EngineFactory,
        parent: QObject | None = None,
        *,
        prefetch: bool = True,
        cache: RenderCache | None = None,
    ) -> None:
        super().__init__(parent)
        self._factory = engine_factory
        self._cond = threading.Condition()
        self._jobs: list[Job] = []
        self._running: Job | None = None
        self._order = itertools.count(1)
        self._exports = ExportBatches()
        self._focus: int | None = None
        self._stopping = False
        self._drop_engine = False
        self._engine: Any = None  # touched only by the worker thread
        self._remasked: dict[int, Any] = {}  # Inpaint: the newest re-encoding per photo
        self._busy = False
        self._fill = SliderFill(enabled=prefetch, renders=cache)
        self._hits_in_flight = 0
        self._thread = _Thread(self)

    # -- control (GUI thread) ---------------------------------------------------------------

    def start(self) -> None:
        if not self._thread.isRunning():
            self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.isRunning()

    @property
    def cache(self) -> RenderCache:
        """The whole preview renders kept (thread-safe)."""
        return self._fill.renders

    @property
    def face_cache(self) -> FaceCropCache:
        """The decoded faces kept (thread-safe)."""
        return self._fill.faces

    def filled_steps(self, picture: Picture) -> tuple[float, ...]:
        """The slider's steps a landing on which only composites, for this picture's choices."""
        return self._fill.filled_steps(picture)

    def submit(self, request: CheckWeights | Analyze | Render | Remask) -> None:
        """Queue a request. Newest wins: a Render or Remask supersedes every earlier picture;
        an Analyze replaces one of the same photo and variant."""
        if isinstance(request, Render):
            self._submit_render(request)
            return
        with self._cond:
            if isinstance(request, Analyze):
                self._cancel_where(
                    lambda j: (
                        isinstance(j.request, Analyze)
                        and j.doc_id == request.doc_id
                        and j.variant == request.variant
                    )
                )
                priority = _ANALYZE_ON_SCREEN if request.doc_id == self._focus else _ANALYZE
            else:
                priority = _PREVIEW
            if isinstance(request, Remask):
                self._supersede_pictures(new_mask_of=request.doc_id)
            self._enqueue(Job(request, priority, next(self._order)))

    def _submit_render(self, request: Render) -> None:
        started = time.perf_counter()
        with self._cond:
            if self._stopping:
                return
            # Patches of the faces' regions beat a whole render from the cache: the window
            # would have to convert the whole photo again.
            patching = request.patch and can_patch(self._engine, request.picture)
            hit = None if patching else self._fill.lookup(request.picture)
            self._supersede_pictures()
            self._fill.plan_around(request.doc_id, request.picture, whole=not patching)
            self._spare_or_stop_fill(request.picture, hit_in_cache=hit is not None)
            if hit is None:
                self._enqueue(Job(request, _PREVIEW, next(self._order)))
                return
            self._hits_in_flight += 1
            self._cond.notify_all()
        log.debug("render cache hit at fidelity %s", request.picture.fidelity)
        QTimer.singleShot(0, self, lambda: self._deliver_hit(request, hit, started))

    def _deliver_hit(self, request: Render, hit: Any, started: float) -> None:
        response = rendered_response(request, request.picture, hit, started)
        with self._cond:
            self._hits_in_flight -= 1
            stopping = self._stopping
        if not stopping:
            self.rendered.emit(response)

    def export(self, targets: list[ExportTarget]) -> int:
        """Queue an export batch (one job per photo; previews go first). Returns its id."""
        batch = self._exports.open(len(targets))
        with self._cond:
            for target in targets:
                self._enqueue(Job(Export(target=target, batch=batch), _EXPORT, next(self._order)))
        if not targets:
            self.export_finished.emit(
                ExportFinished(batch=batch, written=(), failed=(), cancelled=False)
            )
        return batch

    def cancel_export(self, batch: int) -> None:
        self._exports.cancel(batch)
        with self._cond:
            self._cancel_where(
                lambda j: isinstance(j.request, Export) and j.request.batch == batch,
                queued=False,
            )

    def set_prefetch(self, enabled: bool) -> None:
        """Fill the slider when idle, or not (the caches still serve what they hold)."""
        with self._cond:
            self._fill.enabled = bool(enabled)
            if not enabled:
                self._fill.stop()
                self._cancel_where(lambda j: j.step is not None)

    def focus(self, doc_id: int | None) -> None:
        """The photo on screen changed: drop queued renders of others, analyse this one next,
        fill the slider for no other photo."""
        with self._cond:
            self._focus = doc_id
            self._jobs = [
                j for j in self._jobs if not (isinstance(j.request, Render) and j.doc_id != doc_id)
            ]
            for job in self._jobs:
                if isinstance(job.request, Analyze):
                    job.priority = _ANALYZE_ON_SCREEN if job.doc_id == doc_id else _ANALYZE
            if self._fill.doc_id not in (None, doc_id):
                self._fill.stop()
                self._cancel_where(lambda j: j.step is not None)

    def cancel(self, doc_id: int, variant: str | None = None) -> None:
        """Cancel everything queued or running for this photo (except exports); only what is
        for `variant` when given. Its cached renders and faces go with it."""
        with self._cond:
            self._cancel_where(
                lambda j: (
                    j.doc_id == doc_id
                    and not isinstance(j.request, Export)
                    and (variant is None or j.variant == variant)
                )
            )
            if variant in (None, "inpainting"):
                self._remasked.pop(doc_id, None)
            if variant in (None, "restoration"):
                self._fill.forget(doc_id)

    def cancel_all(self) -> None:
        with self._cond:
            self._cancel_where(lambda j: not isinstance(j.request, Export))
            self._fill.stop()
        self._exports.cancel()

    def reset_engine(self, engine_factory: EngineFactory | None = None) -> None:
        """Build the engine again (with a new factory) before the next job."""
        with self._cond:
            if engine_factory is not None:
                self._factory = engine_factory
            self._drop_engine = True
            self._remasked.clear()  # encoded by the old engine (its precision)
            self._cancel_where(lambda j: j.step is not None)
            self._fill.clear()  # rendered by the old engine

    def is_idle(self) -> bool:
        """Nothing queued, running, planned or about to be delivered."""
        with self._cond:
            return (
                not self._jobs
                and self._running is None
                and not self._hits_in_flight
                and not (self._fill.active and not self._stopping)
            )

    def wait_until_idle(self, timeout: float = 30.0) -> bool:
        """Process events until idle and the signals are delivered (tests, shutdown paths in
        the GUI thread). Returns False on timeout."""
        deadline = time.monotonic() + timeout
        app = QCoreApplication.instance()
        while True:
            if app is not None:
                app.processEvents()
            if self.is_idle():
                if app is not None:
                    app.processEvents()  # deliver the signals emitted before going idle
                return True
            if time.monotonic() >= deadline:
                return False
            with self._cond:
                self._cond.wait(0.01)

    def shutdown(self, timeout: float = 30.0) -> bool:
        """Cancel everything and stop the thread. Returns False if it did not stop in time."""
        self._exports.cancel()
        with self._cond:
            self._stopping = True
            self._fill.stop()
            self._cancel_where(lambda j: True)
            self._cond.notify_all()
        if not self._thread.isRunning():
            return True
        stopped = self._thread.wait(QDeadlineTimer(int(timeout * 1000)))
        if not stopped:
            log.warning("the inference thread did not stop within %s s", timeout)
        return bool(stopped)

    # -- internals (hold the lock) ----------------------------------------------------------

    def _enqueue(self, job: Job) -> None:
        if self._stopping:
            return
        running = self._running
        if running is not None:
            wanted = getattr(job.request, "picture", None)
            if running.step is not None and running.step.picture != wanted:
                running.cancelled = True  # idle work never holds a request up
            if isinstance(running.request, Export) and job.priority < _EXPORT:
                running.preempted = True  # previews go before exports
        self._jobs.append(job)
        self._cond.notify_all()

    def _supersede_pictures(self, new_mask_of: int | None = None) -> None:
        """A new picture is wanted: drop queued renders and stop the running one. Re-masks
        still re-encode (the damage must reach the analysis) but skip their render; the queued
        ones of `new_mask_of` are dropped (a newer mask for that photo follows)."""
        self._cancel_where(lambda j: isinstance(j.request, Render))
        self._jobs = [
            j for j in self._jobs if not (isinstance(j.request, Remask) and j.doc_id == new_mask_of)
        ]
        for job in (*self._jobs, self._running):
            if job is not None and isinstance(job.request, Remask):
                job.superseded = True

    def _spare_or_stop_fill(self, picture: Picture, *, hit_in_cache: bool) -> None:
        """A running step of idle work goes on if it computes this very picture, or (when the
        picture was found in the cache: no render waits) if the new plan still has it."""
        running = self._running
        if running is None or running.step is None:
            return
        step = running.step
        if step.decode is None and step.picture == picture:
            return  # the render queued now reads its result from the cache
        if not (hit_in_cache and self._fill.still_wanted(step)):
            running.cancelled = True

    def _cancel_where(self, predicate: Callable[[Job], bool], *, queued: bool = True) -> None:
        """Drop the queued jobs matching `predicate` (when `queued`) and stop the running one."""
        if queued:
            self._jobs = [j for j in self._jobs if not predicate(j)]
        running = self._running
        if running is not None and predicate(running):
            running.cancelled = True

    def _next_job(self) -> Job | None:
        if self._jobs:
            job = min(self._jobs, key=lambda j: (j.priority, j.order))
            self._jobs.remove(job)
            return job
        can_decode = self._engine is not None and hasattr(self._engine, "decode_faces")
        step = self._fill.next_step(can_decode_faces=can_decode)
        return None if step is None else Job(None, _IDLE, next(self._order), step=step)

    # -- the worker thread ------------------------------------------------------------------

    def _loop(self) -> None:
        log.debug("inference thread started")
        while True:
            with self._cond:
                job: Job | None = None
                while not self._stopping:
                    job = self._next_job()
                    if job is not None:
                        break
                    self._cond.wait()
                if self._stopping or job is None:
                    break
                self._running = job
                background = job.step is not None  # the window shows no work for it
                became_busy = not background and not self._busy
                self._busy = self._busy or became_busy
            if became_busy:
                self.busy_changed.emit(True)
            if not background:
                self.started.emit(job.request)
            try:
                if not job.cancelled:
                    run_job(self, job)
            except BaseException as exc:  # reported, never swallowed silently
                self._report_failure(job, exc)
            finally:
                with self._cond:
                    self._running = None
                    went_idle = not self._jobs and self._busy
                    self._busy = self._busy and not went_idle
                    self._cond.notify_all()
                if went_idle:
                    self.busy_changed.emit(False)
        self._engine = None
        log.debug("inference thread stopped")

    def _report_failure(self, job: Job, exc: BaseException) -> None:
        if job.preempted and not job.cancelled and is_cancellation(exc):
            with self._cond:  # an export stopped for a preview: again, once previews are done
                job.preempted = False
                self._jobs.append(job)
            return
        if is_cancellation(exc):
            return
        if job.step is not None:
            log.warning("idle work at fidelity %s failed: %s", job.step.picture.fidelity, exc)
            with self._cond:
                self._fill.stop()
            return
        if isinstance(exc, WeightsMissingError):
            log.info("%s: %s", type(job.request).__name__, exc)  # the window offers the files
        else:
            log.exception("%s failed", type(job.request).__name__)
        assert job.request is not None
        self.failed.emit(Failed(request=job.request, problem=describe(exc)))

    # -- used by the runner (worker thread) -------------------------------------------------

    def engine(self) -> Any:
        """The engine, built on first use (and after `reset_engine`)."""
        with self._cond:
            drop, self._drop_engine = self._drop_engine, False
            factory = self._factory
        if drop:
            self._engine = None
        if self._engine is None:
            started = time.perf_counter()
            self._engine = factory()
            log.info("engine ready in %.2f s", time.perf_counter() - started)
            self.engine_ready.emit(str(getattr(self._engine, "device_description", "")))
        return self._engine

    def cancel_check(self, job: Job, *, picture: bool = False) -> Callable[[], bool]:
        """What the engine asks between faces and decoder stages. `picture`: a superseded
        re-mask stops too (its picture is no longer wanted)."""

        def stop() -> bool:
            return job.cancelled or job.preempted or self._stopping or (picture and job.superseded)

        return stop

    def stopped(self, job: Job, *, picture: bool = False) -> bool:
        return self.cancel_check(job, picture=picture)()

    @property
    def fill(self) -> SliderFill:
        return self._fill

    @property
    def exports(self) -> ExportBatches:
        return self._exports

    def latest_remask(self, request: Remask) -> Any:
        """The analysis a re-mask builds on: the newest re-encoding of this photo, if any."""
        with self._cond:
            return self._remasked.get(request.doc_id, request.analysis)

    def keep_remask(self, job: Job, analysis: Any) -> None:
        with self._cond:
            if not job.cancelled and job.doc_id is not None:
                self._remasked[job.doc_id] = analysis

    def remember(self, job: Job, picture: Picture, rendered: Any) -> None:
        """Keep a finished preview whole (unless its job was cancelled: its photo may have been
        closed)."""
        with self._cond:
            if not (job.cancelled or self._stopping) and job.doc_id is not None:
                self._fill.remember(job.doc_id, picture, rendered)
