"""The inference worker: one QThread owns the engine; the newest request wins.

Every request gets a generation number (one counter for all requests). A new render cancels the
queued renders and flags the running one, whose engine call checks `cancel()` between faces; a
cancelled job emits nothing. Results travel to the GUI thread by queued signals, as plain values
holding QImages that own their pixels. The GUI thread still drops any result older than the newest
request it made for that photo (see `Session`), because a result can be in flight when a new
request is made.

Prefetch (Restore only): every preview render is kept in a `RenderCache`. A render request first
looks there, in the GUI thread (a lookup, no torch): a hit is delivered at once, with the fidelity
it was computed for, even while the worker is busy with a face. Once nothing is queued, the worker
renders `prefetch_fidelities` around the last requested value, one by one, for that photo, task
and face choices, into the cache only (they are never shown unless asked for). Any real request
preempts prefetching: the running prefetch is cancelled between faces like a stale render. A
photo's entries are dropped when it is closed or analysed again. Exports render exactly (fp32)
and never read the cache.

torch is imported only here, in the worker thread, by the engine factory.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QDeadlineTimer, QObject, QThread, QTimer, Signal

from core.damage_mask import DamageMask
from core.errors import WeightsMissingError
from core.prefetch import (
    FaceCropCache,
    RenderCache,
    prefetch_fidelities,
    rendered_nbytes,
    slider_grid,
)
from desktop.images import qimage_from_rgb
from desktop.jobs import (
    AnalysisDone,
    ExportFinished,
    ExportStep,
    ExportTarget,
    FaceOptions,
    JobFailed,
    Progress,
    RenderDone,
    WeightsNeeded,
)
from desktop.problems import Problem, describe, is_cancellation

log = logging.getLogger(__name__)

EngineFactory = Callable[[], Any]

# Job priorities: lower runs first; equal priorities run in submission order.
_CHECK, _RENDER, _ANALYZE_FOCUSED, _EXPORT, _ANALYZE = 0, 0, 1, 2, 3
_PREFETCH = 9  # never queued: made by the loop when nothing else is


@dataclass(eq=False)
class _Job:
    kind: str  # "check", "analyze", "render", "mask", "export", "prefetch"
    generation: int
    doc_id: int | None
    priority: int
    payload: dict[str, Any]
    cancelled: bool = False
    # A newer picture was asked for: a mask job still finishes its re-encoding (the next one
    # builds on it) but skips its render.
    superseded: bool = False


@dataclass(eq=False)
class _Batch:
    total: int
    done: int = 0
    cancelled: bool = False
    written: list[Path] = field(default_factory=list)
    failed: list[tuple[str, Problem]] = field(default_factory=list)


@dataclass(eq=False)
class _Plan:
    """What to prefetch when idle: `values` of a photo's Restore analysis with these choices."""

    doc_id: int
    analysis: Any
    fidelity: float
    faces: dict[int, FaceOptions]
    values: list[float]
    budget: int | None = None  # how many of `values` the cache can hold next to the current one
    # then, with an engine that can decode faces alone: every step of the slider, nearest first,
    # decoded into the face cache (a landing there only pastes)
    grid: list[float] = field(default_factory=list)


def _cacheable(analysis: Any, fidelity: float | None) -> bool:
    """Only Restore previews are cached (Colorize and Inpaint have a fixed fidelity)."""
    return fidelity is not None and getattr(analysis, "variant", "restoration") == "restoration"


class _Thread(QThread):
    def __init__(self, worker: InferenceWorker) -> None:
        super().__init__()
        self.setObjectName("inference")
        self._worker = worker

    def run(self) -> None:
        self._worker._loop()


class InferenceWorker(QObject):
    """Runs analyses, renders and exports on one thread that owns the engine.

    `engine_factory()` is called in the worker thread the first time the engine is needed (and
    again after `reset_engine`); it returns an object with the core Engine's methods.
    """

    analyzed = Signal(object)  # AnalysisDone
    rendered = Signal(object)  # RenderDone
    failed = Signal(object)  # JobFailed
    progress = Signal(object)  # Progress
    weights_needed = Signal(object)  # WeightsNeeded
    engine_ready = Signal(str)  # the engine's device description
    busy_changed = Signal(bool)
    job_started = Signal(str, int, int)  # kind, doc id (0: none), generation
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
        self._jobs: list[_Job] = []
        self._running: _Job | None = None
        self._counter = itertools.count(1)
        self._batch_ids = itertools.count(1)
        self._batches: dict[int, _Batch] = {}
        self._focus: int | None = None
        self._stopping = False
        self._drop_engine = False
        self._engine: Any = None  # touched only by the worker thread
        # Inpaint: the newest re-encoded analysis per photo, (job generation, analysis), so a
        # mask job queued before it finished still builds on it. Guarded by `_cond`.
        self._remasked: dict[int, tuple[int, Any]] = {}
        self._busy = False
        # Prefetch and the render cache (see the module docstring). Guarded by `_cond`.
        self._prefetch = prefetch
        self._cache = cache if cache is not None else RenderCache()
        self._faces = FaceCropCache()  # decoded faces: a render decodes only the others
        self._plan: _Plan | None = None
        self._cached_analyses: dict[int, list[weakref.ref[Any]]] = {}
        self._hits_in_flight = 0
        self._thread = _Thread(self)

    # -- control (GUI thread) ---------------------------------------------------------------

    def start(self) -> None:
        if not self._thread.isRunning():
            self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.isRunning()

    def check_weights(self, pipeline: Mapping[str, Any], variant: str = "restoration") -> int:
        """Build the engine (loading torch in this thread) and report missing weights, if any."""
        return self._submit("check", None, _CHECK, pipeline=dict(pipeline), variant=variant)

    def analyze(
        self,
        doc_id: int,
        photo: Any,
        pipeline: Mapping[str, Any],
        variant: str = "restoration",
        mask: DamageMask | None = None,
    ) -> int:
        """Queue the analysis of a photo for a variant, replacing one of the same photo and
        variant. `mask`: the damage for inpainting (rasterized in the worker; none painted when
        None: never the official "pure white is damage" rule)."""
        with self._cond:
            self._cancel_where(
                lambda j: (
                    j.kind == "analyze" and j.doc_id == doc_id and j.payload["variant"] == variant
                )
            )
        priority = _ANALYZE_FOCUSED if doc_id == self._focus else _ANALYZE
        return self._submit(
            "analyze",
            doc_id,
            priority,
            photo=photo,
            pipeline=dict(pipeline),
            variant=variant,
            mask=mask,
        )

    def render(
        self,
        doc_id: int,
        analysis: Any,
        fidelity: float | None,
        faces: Mapping[int, FaceOptions] | None = None,
    ) -> int:
        """Queue a render; every older render, queued or running, is cancelled (newest wins).

        `fidelity`: None for the variant's fixed fidelity (Colorize, Inpaint). A result already
        in the render cache is delivered at once (from this thread's event loop, no decode)."""
        value = None if fidelity is None else float(fidelity)
        options = dict(faces or {})
        started = time.perf_counter()
        with self._cond:
            hit = self._cache.get(analysis, value, options) if _cacheable(analysis, value) else None
            self._supersede_pictures()
            self._plan_around(doc_id, analysis, value, options, keep_running=hit is not None)
            generation = next(self._counter)
            if hit is not None:
                if self._stopping:
                    return generation
                self._hits_in_flight += 1
        if hit is None:
            return self._submit(
                "render", doc_id, _RENDER, analysis=analysis, fidelity=value, faces=options
            )
        done = self._render_done(doc_id, generation, hit, "restoration", started)
        log.debug("render cache hit at fidelity %s", value)
        QTimer.singleShot(0, self, lambda: self._deliver_hit(done))
        return generation

    def _deliver_hit(self, done: RenderDone) -> None:
        with self._cond:
            self._hits_in_flight -= 1
            stopping = self._stopping
        if not stopping:
            self.rendered.emit(done)

    def set_prefetch(self, enabled: bool) -> None:
        """Prefetch nearby fidelities when idle, or not (the cache still serves what it holds)."""
        with self._cond:
            self._prefetch = bool(enabled)
            if not enabled:
                self._stop_prefetch()

    @property
    def cache(self) -> RenderCache:
        """The preview renders kept (thread-safe)."""
        return self._cache

    def remask(
        self,
        doc_id: int,
        analysis: Any,
        analysis_generation: int,
        mask: DamageMask,
        faces: Mapping[int, FaceOptions] | None = None,
    ) -> int:
        """Inpaint: the damage of a photo changed. Re-encode the faces whose damage changed
        (`Engine.remask` on the inpainting `analysis`, made by job `analysis_generation`), then
        render. Emits `analyzed` (with `remasked=True`) and `rendered`, both with this job's
        generation. Newest wins, as for renders, except that a superseded job still finishes
        its re-encoding (a later one builds on it) and only skips its render. Before a photo
        has an analysis, analyse it again with the mask instead (`analyze`)."""
        with self._cond:
            self._supersede_pictures(new_mask_of=doc_id)
        return self._submit(
            "mask",
            doc_id,
            _RENDER,
            analysis=analysis,
            base_generation=int(analysis_generation),
            mask=mask,
            faces=dict(faces or {}),
            variant="inpainting",
        )

    def export(self, targets: list[ExportTarget]) -> int:
        """Queue an export batch (one job per photo; renders may run between them)."""
        batch = next(self._batch_ids)
        with self._cond:
            self._batches[batch] = _Batch(total=len(targets))
        for target in targets:
            self._submit("export", target.doc_id, _EXPORT, target=target, batch=batch)
        if not targets:
            self.export_finished.emit(
                ExportFinished(batch=batch, written=(), failed=(), cancelled=False)
            )
        return batch

    def cancel_export(self, batch: int) -> None:
        with self._cond:
            if batch in self._batches:
                self._batches[batch].cancelled = True
            running = self._running
            if running is not None and running.payload.get("batch") == batch:
                running.cancelled = True

    def focus(self, doc_id: int | None) -> None:
        """The photo on screen changed: drop queued renders of others, analyse this one next."""
        with self._cond:
            self._focus = doc_id
            self._cancel_where(
                lambda j: j.kind == "render" and j.doc_id != doc_id, include_running=False
            )
            for job in self._jobs:
                if job.kind == "analyze":
                    job.priority = _ANALYZE_FOCUSED if job.doc_id == doc_id else _ANALYZE
            if self._plan is not None and self._plan.doc_id != doc_id:
                self._stop_prefetch()

    def cancel(self, doc_id: int, variant: str | None = None) -> None:
        """Cancel everything queued or running for this photo (except export jobs); only what
        is for `variant` when given."""
        with self._cond:
            self._cancel_where(
                lambda j: (
                    j.doc_id == doc_id
                    and j.kind != "export"
                    and (variant is None or _variant_of(j) == variant)
                )
            )
            if variant in (None, "inpainting"):
                self._remasked.pop(doc_id, None)
            if variant in (None, "restoration"):
                # closed, or analysed again: its renders are of no more use
                if self._plan is not None and self._plan.doc_id == doc_id:
                    self._plan = None
                for ref in self._cached_analyses.pop(doc_id, []):
                    analysis = ref()
                    if analysis is not None:
                        self._cache.drop(analysis)
                        self._faces.drop(analysis)

    def cancel_all(self) -> None:
        with self._cond:
            self._cancel_where(lambda j: j.kind != "export")
            self._plan = None
            for batch in self._batches.values():
                batch.cancelled = True

    def reset_engine(self, engine_factory: EngineFactory | None = None) -> None:
        """Build the engine again (with a new factory) before the next job."""
        with self._cond:
            if engine_factory is not None:
                self._factory = engine_factory
            self._drop_engine = True
            self._remasked.clear()  # encoded by the old engine (its precision)
            self._stop_prefetch()
            self._cache.clear()  # rendered by the old engine
            self._faces.clear()
            self._cached_analyses.clear()

    def is_idle(self) -> bool:
        """Nothing queued, running, prefetching or about to be delivered."""
        with self._cond:
            return (
                not self._jobs
                and self._running is None
                and not self._hits_in_flight
                and not (self._prefetch and self._plan is not None and not self._stopping)
            )

    def wait_until_idle(self, timeout: float = 30.0) -> bool:
        """Process events until no job is queued or running and its signals are delivered.

        For tests and shutdown paths in the GUI thread. Returns False on timeout.
        """
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
        with self._cond:
            self._stopping = True
            self._plan = None
            for job in self._jobs:
                job.cancelled = True
            if self._running is not None:
                self._running.cancelled = True
            self._jobs.clear()
            for batch in self._batches.values():
                batch.cancelled = True
            self._cond.notify_all()
        if not self._thread.isRunning():
            return True
        stopped = self._thread.wait(QDeadlineTimer(int(timeout * 1000)))
        if not stopped:
            log.warning("the inference thread did not stop within %s s", timeout)
        return bool(stopped)

    # -- internals (GUI thread) -------------------------------------------------------------

    def _submit(self, kind: str, doc_id: int | None, priority: int, **payload: Any) -> int:
        with self._cond:
            generation = next(self._counter)
            if self._stopping:
                return generation
            self._preempt_prefetch()  # a real request always goes first
            self._jobs.append(_Job(kind, generation, doc_id, priority, payload))
            self._cond.notify_all()
        return generation

    def _supersede_pictures(self, new_mask_of: int | None = None) -> None:
        """A new picture is wanted: drop queued renders and stop the running one. Mask jobs still
        re-encode (the damage must reach the analysis) but skip their render; the queued ones of
        `new_mask_of` are dropped (a newer mask for that photo follows). Hold the lock."""
        self._cancel_where(lambda j: j.kind == "render")
        self._jobs = [j for j in self._jobs if not (j.kind == "mask" and j.doc_id == new_mask_of)]
        for job in (*self._jobs, self._running):
            if job is not None and job.kind == "mask":
                job.superseded = True

    def _preempt_prefetch(self) -> None:
        """Cancel the running prefetch unless it is what the newest render will ask the cache
        for (its own request kept it). Hold the lock."""
        running = self._running
        if running is not None and running.kind == "prefetch" and not running.payload["wanted"]:
            running.cancelled = True

    def _stop_prefetch(self) -> None:
        """Forget the plan and cancel the running prefetch. Hold the lock."""
        self._plan = None
        running = self._running
        if running is not None and running.kind == "prefetch":
            running.cancelled = True

    def _plan_around(
        self,
        doc_id: int,
        analysis: Any,
        fidelity: float | None,
        faces: dict[int, FaceOptions],
        *,
        keep_running: bool,
    ) -> None:
        """The newest render request: prefetch around it once idle. `keep_running`: a running
        prefetch goes on if its value is still in the new plan (a cache hit needs no worker).
        Hold the lock."""
        running = self._running
        prefetching = running if running is not None and running.kind == "prefetch" else None
        if not (self._prefetch and _cacheable(analysis, fidelity)) or fidelity is None:
            self._plan = None
            if prefetching is not None:
                prefetching.cancelled = True
            return
        values = list(prefetch_fidelities(fidelity))
        grid = list(slider_grid(fidelity))
        self._plan = _Plan(doc_id, analysis, fidelity, dict(faces), values, grid=grid)
        if prefetching is not None:
            p = prefetching.payload
            same = p["analysis"] is analysis and p["faces"] == faces
            if same and p["fidelity"] == fidelity:
                p["wanted"] = True  # the render queued now reads its result from the cache
            elif not (keep_running and same and p["fidelity"] in values):
                prefetching.cancelled = True
        self._cond.notify_all()

    def _next_prefetch(self) -> _Job | None:
        """The next value of the plan not in the cache, as a job; None when done. Hold the
        lock."""
        plan = self._plan
        if plan is None or not self._prefetch or self._stopping:
            return None
        if plan.budget is None:
            current = self._cache.get(plan.analysis, plan.fidelity, plan.faces)
            if current is None:  # its render failed or was cancelled
                self._plan = None
                return None
            size = max(1, rendered_nbytes(current))
            room = min(self._cache.max_entries, self._cache.max_bytes // size)
            plan.budget = max(0, room - 1)  # the current one stays in the cache too
        while plan.values and plan.budget > 0:
            value = plan.values.pop(0)
            plan.budget -= 1
            if (plan.analysis, value, plan.faces) not in self._cache:
                return _Job(
                    "prefetch",
                    next(self._counter),
                    plan.doc_id,
                    _PREFETCH,
                    {
                        "analysis": plan.analysis,
                        "fidelity": value,
                        "faces": plan.faces,
                        "wanted": False,
                    },
                )
        return self._next_grid_step(plan)

    def _next_grid_step(self, plan: _Plan) -> _Job | None:
        """The next step of the slider with faces not yet decoded, as a decode-only prefetch job
        (engines that can decode faces alone); None when the grid is full. Hold the lock."""
        if not hasattr(self._engine, "decode_faces"):
            plan.grid.clear()
        while plan.grid:
            value = plan.grid.pop(0)
            wanted = self._face_fidelities(plan.analysis, value, plan.faces)
            missing = {
                i: w for i, w in wanted.items() if self._faces.get(plan.analysis, i, w) is None
            }
            if missing:
                payload = {
                    "analysis": plan.analysis,
                    "fidelity": value,
                    "faces": plan.faces,
                    "wanted": False,
                    "decode": missing,  # face index -> the fidelity it gets
                }
                return _Job("prefetch", next(self._counter), plan.doc_id, _PREFETCH, payload)
        self._plan = None
        return None

    def _remember(self, job: _Job, fidelity: float, rendered: Any) -> None:
        """Keep a finished preview in the cache (unless its job was cancelled meanwhile: its
        photo may have been closed)."""
        analysis = job.payload["analysis"]
        with self._cond:
            if job.cancelled or job.doc_id is None or self._stopping:
                return
            self._cache.put(analysis, fidelity, job.payload["faces"], rendered)
            refs = self._cached_analyses.setdefault(job.doc_id, [])
            refs[:] = [r for r in refs if r() is not None]
            if not any(r() is analysis for r in refs):
                refs.append(weakref.ref(analysis))

    def _cancel_where(
        self, predicate: Callable[[_Job], bool], include_running: bool = True
    ) -> None:
        """Drop queued jobs matching `predicate` and flag the running one. Hold the lock."""
        self._jobs = [j for j in self._jobs if not predicate(j)]
        running = self._running
        if include_running and running is not None and predicate(running):
            running.cancelled = True

    # -- the worker thread ------------------------------------------------------------------

    def _loop(self) -> None:
        log.debug("inference thread started")
        while True:
            with self._cond:
                job: _Job | None = None
                while not self._stopping:
                    if self._jobs:
                        job = min(self._jobs, key=lambda j: (j.priority, j.generation))
                        self._jobs.remove(job)
                        break
                    job = self._next_prefetch()  # idle: fill the cache
                    if job is not None:
                        break
                    self._cond.wait()
                if self._stopping or job is None:
                    break
                self._running = job
                background = job.kind == "prefetch"  # the window shows no work for it
                became_busy = not background and not self._busy
                if became_busy:
                    self._busy = True
            if became_busy:
                self.busy_changed.emit(True)
            if not background:
                self.job_started.emit(job.kind, job.doc_id or 0, job.generation)
            try:
                self._run(job)
            except BaseException as exc:  # reported, never swallowed silently
                if background:
                    if not is_cancellation(exc):
                        log.warning(
                            "prefetch at fidelity %s failed: %s", job.payload["fidelity"], exc
                        )
                        with self._cond:
                            self._plan = None
                elif not is_cancellation(exc):
                    if isinstance(exc, WeightsMissingError):
                        log.info("%s job: %s", job.kind, exc)  # the window offers the files
                    else:
                        log.exception("%s job failed", job.kind)
                    self.failed.emit(
                        JobFailed(
                            doc_id=job.doc_id,
                            generation=job.generation,
                            kind=job.kind,
                            problem=describe(exc),
                            variant=_variant_of(job),
                        )
                    )
            finally:
                with self._cond:
                    self._running = None
                    went_idle = not self._jobs and self._busy
                    if went_idle:
                        self._busy = False
                    self._cond.notify_all()
                if went_idle:
                    self.busy_changed.emit(False)
        self._engine = None
        log.debug("inference thread stopped")

    def _engine_for(self, job: _Job) -> Any:
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

    def _cancel_check(self, job: _Job, *, superseded: bool = False) -> Callable[[], bool]:
        """`superseded`: a superseded job stops too (its picture is no longer wanted)."""

        def cancelled() -> bool:
            return job.cancelled or self._stopping or (superseded and job.superseded)

        return cancelled

    def _run(self, job: _Job) -> None:
        if job.cancelled:
            return
        if job.kind == "export":
            self._run_export(job)
            return
        engine = self._engine_for(job)
        if job.kind == "check":
            self._report_missing(engine, job.payload["variant"], job.payload["pipeline"], None)
        elif job.kind == "analyze":
            self._run_analyze(engine, job)
        elif job.kind == "render":
            self._run_render(engine, job)
        elif job.kind == "prefetch":
            self._run_prefetch(engine, job)
        elif job.kind == "mask":
            self._run_mask(engine, job)

    def _report_missing(
        self, engine: Any, variant: str, pipeline: Mapping[str, Any], doc_id: int | None
    ) -> tuple[Any, ...]:
        """The files the task needs that are not there (and tell the window, if any)."""
        from core.pipeline import PipelineSettings

        missing = tuple(engine.missing_weights(variant, PipelineSettings(**pipeline)))
        if missing:
            self.weights_needed.emit(WeightsNeeded(variant=variant, files=missing, doc_id=doc_id))
        return missing

    def _analyze(
        self,
        engine: Any,
        job: _Job,
        photo: Any,
        pipeline: Mapping[str, Any],
        variant: str,
        mask: DamageMask | None = None,
    ) -> Any:
        from core.pipeline import PipelineSettings

        def progress(text: str, fraction: float) -> None:
            self.progress.emit(
                Progress(
                    doc_id=job.doc_id,
                    generation=job.generation,
                    text=text,
                    fraction=fraction,
                    variant=variant,
                )
            )

        extra = {}
        if variant == "inpainting":
            # Always an array, even with nothing painted: without one the official rule would
            # take the photo's pure-white pixels as damage.
            extra["mask"] = _damage_array(mask, photo)
        return engine.analyze(
            photo,
            PipelineSettings(**pipeline),
            variant=variant,
            progress=progress,
            cancel=self._cancel_check(job),
            **extra,
        )

    def _run_analyze(self, engine: Any, job: _Job) -> None:
        payload = job.payload
        missing = self._report_missing(engine, payload["variant"], payload["pipeline"], job.doc_id)
        if missing:
            names = ", ".join(getattr(f, "filename", str(f)) for f in missing)
            raise WeightsMissingError(f"Needs {names}, not installed yet.")
        started = time.perf_counter()
        analysis = self._analyze(
            engine,
            job,
            payload["photo"],
            payload["pipeline"],
            payload["variant"],
            payload.get("mask"),
        )
        if job.cancelled:
            return
        self._emit_analyzed(job, analysis, time.perf_counter() - started)

    def _emit_analyzed(
        self, job: _Job, analysis: Any, seconds: float, *, remasked: bool = False
    ) -> None:
        faces = {} if remasked else {f.index: qimage_from_rgb(f.crop) for f in analysis.faces}
        self.analyzed.emit(
            AnalysisDone(
                doc_id=job.doc_id or 0,
                generation=job.generation,
                analysis=analysis,
                seconds=seconds,
                faces=faces,
                variant=str(job.payload["variant"]),
                remasked=remasked,
                mask=job.payload.get("mask"),
            )
        )

    def _render(
        self,
        engine: Any,
        job: _Job,
        analysis: Any,
        fidelity: float | None,
        faces: Mapping[int, FaceOptions],
        *,
        exact: bool = False,
    ) -> Any:
        """Decode and composite; `exact`: full precision, whatever the preview uses (exports)."""
        from core.pipeline import FaceChoice

        choices = {
            index: FaceChoice(enabled=o.enabled, fidelity=o.fidelity) for index, o in faces.items()
        }
        extra: dict[str, Any] = {"exact": True} if exact else {}
        # Previews reuse the faces decoded before at the same fidelity (exports decode afresh,
        # in full precision); fixed-fidelity tasks are left alone.
        reuse = not exact and _cacheable(analysis, fidelity)
        wanted = self._face_fidelities(analysis, fidelity, faces) if reuse else {}
        decoded = {
            index: crop
            for index, w in wanted.items()
            if (crop := self._faces.get(analysis, index, w)) is not None
        }
        if decoded:
            extra["decoded"] = decoded
        rendered = engine.render(
            analysis,
            fidelity,
            choices=choices,
            cancel=self._cancel_check(job, superseded=True),
            **extra,
        )
        if reuse:
            for index, crop in getattr(rendered, "faces", {}).items():
                if index in wanted and index not in decoded:
                    self._faces.put(analysis, index, wanted[index], crop)
        return rendered

    @staticmethod
    def _face_fidelities(
        analysis: Any, fidelity: float, faces: Mapping[int, FaceOptions]
    ) -> dict[int, float]:
        """Each face a render restores, with the fidelity it gets (its own, or `fidelity`)."""
        wanted = {}
        for face in getattr(analysis, "faces", ()):
            options = faces.get(face.index, FaceOptions())
            if options.enabled:
                own = options.fidelity
                wanted[face.index] = float(fidelity if own is None else own)
        return wanted

    def _run_render(self, engine: Any, job: _Job) -> None:
        payload = job.payload
        started = time.perf_counter()
        analysis, fidelity, faces = payload["analysis"], payload["fidelity"], payload["faces"]
        cacheable = _cacheable(analysis, fidelity)
        rendered = self._cache.get(analysis, fidelity, faces) if cacheable else None
        if rendered is None:  # (a hit: prefetched while this request waited)
            rendered = self._render(engine, job, analysis, fidelity, faces)
            if cacheable and not job.cancelled:
                self._remember(job, fidelity, rendered)
        if job.cancelled:
            return  # a newer render was asked for: this one is stale
        self._emit_rendered(job, rendered, _variant_of(job), started)

    def _run_prefetch(self, engine: Any, job: _Job) -> None:
        """Render one value of the plan into the cache, or decode its missing faces into the
        face cache (a step of the slider); nothing is shown."""
        payload = job.payload
        if "decode" in payload:
            analysis = payload["analysis"]
            for index, w in payload["decode"].items():  # one face at a time: a request waits
                crops = engine.decode_faces(analysis, w, [index], cancel=self._cancel_check(job))
                if job.cancelled:
                    return
                for decoded_index, crop in crops.items():
                    self._faces.put(analysis, decoded_index, w, crop)
            return
        rendered = self._render(
            engine, job, payload["analysis"], payload["fidelity"], payload["faces"]
        )
        if not job.cancelled:
            self._remember(job, payload["fidelity"], rendered)

    def _run_mask(self, engine: Any, job: _Job) -> None:
        payload = job.payload
        started = time.perf_counter()
        base = payload["analysis"]
        with self._cond:
            newer = self._remasked.get(job.doc_id or 0)
        if newer is not None and newer[0] > payload["base_generation"]:
            base = newer[1]  # re-encoded by a mask job that finished after this was queued
        mask = _damage_array(payload["mask"], base.photo)
        analysis = engine.remask(base, mask, cancel=self._cancel_check(job))
        if job.cancelled:
            return
        with self._cond:
            if job.doc_id is not None and not job.cancelled:
                self._remasked[job.doc_id] = (job.generation, analysis)
        self._emit_analyzed(job, analysis, time.perf_counter() - started, remasked=True)
        if job.superseded:
            return  # a newer picture was asked for; it builds on this encoding
        started = time.perf_counter()
        rendered = self._render(engine, job, analysis, None, payload["faces"])
        if job.cancelled or job.superseded:
            return
        self._emit_rendered(job, rendered, "inpainting", started)

    def _emit_rendered(self, job: _Job, rendered: Any, variant: str, started: float) -> None:
        self.rendered.emit(
            self._render_done(job.doc_id or 0, job.generation, rendered, variant, started)
        )

    @staticmethod
    def _render_done(
        doc_id: int, generation: int, rendered: Any, variant: str, started: float
    ) -> RenderDone:
        """The result for the window; `fidelity` is the one it was computed for."""
        image = qimage_from_rgb(rendered.image, rendered.alpha)
        faces = {index: qimage_from_rgb(crop) for index, crop in rendered.faces.items()}
        return RenderDone(
            doc_id=doc_id,
            generation=generation,
            fidelity=float(rendered.fidelity),
            image=image,
            faces=faces,
            seconds=time.perf_counter() - started,
            finished_at=time.time(),
            variant=variant,
        )

    def _run_export(self, job: _Job) -> None:
        target: ExportTarget = job.payload["target"]
        batch_id: int = job.payload["batch"]
        with self._cond:
            batch = self._batches[batch_id]
        path: Path | None = None
        problem: Problem | None = None
        if not (batch.cancelled or self._stopping):
            try:
                path = self._export_one(job, target)
            except BaseException as exc:
                if is_cancellation(exc):
                    batch.cancelled = True
                else:
                    log.warning("export of %s failed: %s", target.name, exc)
                    problem = describe(exc, photo=target.name)
        with self._cond:
            batch.done += 1
            if path is not None:
                batch.written.append(path)
            if problem is not None:
                batch.failed.append((target.name, problem))
            finished = batch.done >= batch.total
            if finished:
                del self._batches[batch_id]
        self.export_step.emit(
            ExportStep(
                batch=batch_id,
                doc_id=target.doc_id,
                name=target.name,
                done=batch.done,
                total=batch.total,
                path=path,
                problem=problem,
            )
        )
        if finished:
            self.export_finished.emit(
                ExportFinished(
                    batch=batch_id,
                    written=tuple(batch.written),
                    failed=tuple(batch.failed),
                    cancelled=batch.cancelled,
                )
            )

    def _export_one(self, job: _Job, target: ExportTarget) -> Path:
        from core.photo_io import read_photo, write_photo

        photo = target.photo if target.photo is not None else read_photo(target.source)
        engine = self._engine_for(job)
        analysis = target.analysis
        if analysis is None:
            analysis = self._analyze(
                engine, job, photo, target.pipeline, target.variant, target.mask
            )
        rendered = self._render(
            engine, job, analysis, target.fidelity, target.faces, exact=target.exact
        )
        return Path(
            write_photo(
                target.path,
                rendered.image,
                alpha=rendered.alpha,
                like=photo if target.keep_metadata else None,
                format=target.format,
                quality=target.quality,
                overwrite=target.overwrite,
                software=engine.provenance(analysis.variant),
            )
        )


def _variant_of(job: _Job) -> str:
    payload = job.payload
    if "variant" in payload:
        return str(payload["variant"])
    analysis = payload.get("analysis")
    if analysis is not None:
        return str(getattr(analysis, "variant", "restoration"))
    target = payload.get("target")
    return str(getattr(target, "variant", "restoration"))


def _damage_array(mask: DamageMask | None, photo: Any) -> Any:
    """The damage as H x W bool in photo pixels (all False when nothing is painted)."""
    import numpy as np

    from core.damage_mask import rasterize

    shape = (photo.height, photo.width)
    if mask is None:
        return np.zeros(shape, bool)
    if mask.shape != shape:
        raise ValueError(f"the damage mask is {mask.size}, the photo {photo.width}x{photo.height}")
    return rasterize(mask)
