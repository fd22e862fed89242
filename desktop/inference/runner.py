"""Runs one job of the queue in the worker thread: the handler for its request, then the
response. Separate from the queue so that the queue is only about order and cancellation."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop.images import qimage_from_rgb
from desktop.inference import handlers
from desktop.inference.requests import Analyze, CheckWeights, Export, Picture, Remask, Render
from desktop.inference.responses import Analyzed, Patch, Progressed, Rendered, WeightsNeeded
from desktop.problems import Problem, describe, is_cancellation

if TYPE_CHECKING:
    from desktop.inference.queue import InferenceQueue, Job

log = logging.getLogger(__name__)


def run_job(queue: InferenceQueue, job: Job) -> None:
    request = job.request
    if job.step is not None:
        _fill_step(queue, job)
    elif isinstance(request, Export):
        _export(queue, job, request)
    elif isinstance(request, CheckWeights):
        _report_missing(queue, request, handlers.missing_weights(queue.engine(), request))
    elif isinstance(request, Analyze):
        _analyze(queue, job, request)
    elif isinstance(request, Render):
        _render(queue, job, request)
    elif isinstance(request, Remask):
        _remask(queue, job, request)


def _report_missing(
    queue: InferenceQueue, request: CheckWeights | Analyze, missing: tuple[Any, ...]
) -> None:
    if missing:
        queue.weights_needed.emit(
            WeightsNeeded(variant=request.variant, files=missing, doc_id=request.doc_id)
        )


def _analyze(queue: InferenceQueue, job: Job, request: Analyze) -> None:
    engine = queue.engine()
    _report_missing(queue, request, handlers.missing_weights(engine, request))
    started = time.perf_counter()

    def progress(text: str, fraction: float) -> None:
        queue.progress.emit(Progressed(request=request, text=text, fraction=fraction))

    analysis = handlers.analyze(engine, request, cancel=queue.cancel_check(job), progress=progress)
    if queue.stopped(job):
        return
    faces = {f.index: qimage_from_rgb(f.crop) for f in analysis.faces}
    queue.analyzed.emit(
        Analyzed(
            request=request,
            analysis=analysis,
            seconds=time.perf_counter() - started,
            faces=faces,
        )
    )


def _render(queue: InferenceQueue, job: Job, request: Render) -> None:
    started = time.perf_counter()
    picture = request.picture
    engine = queue.engine()
    if request.patch and handlers.can_patch(engine, picture):
        regions = handlers.render_regions(
            engine, picture, cancel=queue.cancel_check(job, picture=True), faces=queue.face_cache
        )
        if not queue.stopped(job):
            queue.rendered.emit(patches_response(request, picture, regions, started))
        return
    rendered = queue.fill.lookup(picture)  # (prefetched while this request waited)
    if rendered is None:
        rendered = handlers.render(
            engine,
            picture,
            cancel=queue.cancel_check(job, picture=True),
            faces=queue.face_cache if picture.cacheable else None,
        )
        queue.remember(job, picture, rendered)
    if queue.stopped(job):
        return  # a newer picture was asked for: this one is stale
    queue.rendered.emit(rendered_response(request, picture, rendered, started))


def _remask(queue: InferenceQueue, job: Job, request: Remask) -> None:
    engine = queue.engine()
    started = time.perf_counter()
    base = queue.latest_remask(request)
    analysis = handlers.remask(engine, request, base, cancel=queue.cancel_check(job))
    if queue.stopped(job):
        return
    queue.keep_remask(job, analysis)
    queue.analyzed.emit(
        Analyzed(request=request, analysis=analysis, seconds=time.perf_counter() - started)
    )
    if queue.stopped(job, picture=True):
        return  # a newer picture was asked for; it builds on this encoding
    started = time.perf_counter()
    picture = Picture(analysis=analysis, fidelity=None, faces=request.faces)
    rendered = handlers.render(engine, picture, cancel=queue.cancel_check(job, picture=True))
    if queue.stopped(job, picture=True):
        return
    queue.rendered.emit(rendered_response(request, picture, rendered, started))


def _fill_step(queue: InferenceQueue, job: Job) -> None:
    """Idle work: render a value whole into the render cache, or decode faces into the face
    cache (a step of the slider); nothing is shown."""
    step = job.step
    assert step is not None
    engine = queue.engine()
    cancel = queue.cancel_check(job)
    if step.decode is not None:
        handlers.decode_faces(
            engine, step.picture.analysis, step.decode, queue.face_cache, cancel=cancel
        )
        if not cancel():
            queue.filled.emit(step.doc_id)
        return
    rendered = handlers.render(engine, step.picture, cancel=cancel, faces=queue.face_cache)
    queue.remember(job, step.picture, rendered)


def _export(queue: InferenceQueue, job: Job, request: Export) -> None:
    target = request.target
    path: Path | None = None
    problem: Problem | None = None
    if not (queue.exports.cancelled(request.batch) or queue.stopped(job)):
        try:

            def progress(text: str, fraction: float) -> None:
                queue.progress.emit(Progressed(request=request, text=text, fraction=fraction))

            path = handlers.export(
                queue.engine(), target, cancel=queue.cancel_check(job), progress=progress
            )
        except BaseException as exc:
            if job.preempted and not job.cancelled and is_cancellation(exc):
                raise  # the queue runs it again once the previews are done
            if not is_cancellation(exc):
                log.warning("export of %s failed: %s", target.name, exc)
                problem = describe(exc, photo=target.name)
    step, finished = queue.exports.record(request.batch, target, path, problem)
    queue.export_step.emit(step)
    if finished is not None:
        queue.export_finished.emit(finished)


def rendered_response(
    request: Render | Remask, picture: Picture, rendered: Any, started: float
) -> Rendered:
    """A core Rendered as the window's response; `fidelity` is the one it was computed at."""
    return Rendered(
        request=request,
        picture=picture,
        fidelity=float(rendered.fidelity),
        image=qimage_from_rgb(rendered.image, rendered.alpha),
        faces={index: qimage_from_rgb(crop) for index, crop in rendered.faces.items()},
        seconds=time.perf_counter() - started,
        finished_at=time.time(),
    )


def patches_response(request: Render, picture: Picture, regions: Any, started: float) -> Rendered:
    """Core RenderedRegions as the window's response: patches to lay over the render on screen."""
    patches = tuple(
        Patch(x=x1, y=y1, image=qimage_from_rgb(pixels))
        for (x1, y1, _, _), pixels in regions.patches
    )
    return Rendered(
        request=request,
        picture=picture,
        fidelity=float(regions.fidelity),
        image=None,
        patches=patches,
        faces={index: qimage_from_rgb(crop) for index, crop in regions.faces.items()},
        seconds=time.perf_counter() - started,
        finished_at=time.time(),
    )
