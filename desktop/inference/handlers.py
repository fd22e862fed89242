"""Run one request on an engine: plain functions, no Qt, no threads, no caches of their own.

`engine` is the core Engine (or an object with its methods: tests script one). Each handler takes
the `cancel` check the queue gives it (raising `core.errors.Cancelled` from the engine stops it)
and returns core values; the queue turns them into responses for the window.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from core.callbacks import CancelCheck, ProgressCallback
from core.damage_mask import DamageMask, rasterize
from core.errors import WeightsMissingError
from core.prefetch import FaceCropCache
from desktop.inference.requests import (
    INPAINTING,
    Analyze,
    CheckWeights,
    ExportTarget,
    Picture,
    Remask,
)

WeightsReport = Callable[[tuple[Any, ...]], None]


def missing_weights(engine: Any, request: CheckWeights | Analyze) -> tuple[Any, ...]:
    """The files the request's task needs that are not installed."""
    return tuple(engine.missing_weights(request.variant, request.pipeline))


def analyze(
    engine: Any, request: Analyze, *, cancel: CancelCheck, progress: ProgressCallback
) -> Any:
    """The photo analysed for the request's variant (raises WeightsMissingError first when a
    file is missing)."""
    missing = missing_weights(engine, request)
    if missing:
        names = ", ".join(getattr(f, "filename", str(f)) for f in missing)
        raise WeightsMissingError(f"Needs {names}, not installed yet.")
    extra = {}
    if request.variant == INPAINTING:
        # Always an array, even with nothing painted: without one the official rule would
        # take the photo's pure-white pixels as damage.
        extra["mask"] = damage_array(request.mask, request.photo)
    return engine.analyze(
        request.photo,
        request.pipeline,
        variant=request.variant,
        progress=progress,
        cancel=cancel,
        **extra,
    )


def remask(engine: Any, request: Remask, base: Any, *, cancel: CancelCheck) -> Any:
    """`base` (the request's analysis, or a newer re-encoding of it) with the faces whose damage
    changed encoded again."""
    return engine.remask(base, damage_array(request.mask, base.photo), cancel=cancel)


def render(
    engine: Any,
    picture: Picture,
    *,
    cancel: CancelCheck,
    faces: FaceCropCache | None = None,
    exact: bool = False,
) -> Any:
    """Decode and composite `picture`. With `faces` (previews of a Restore picture), the faces
    decoded before at the same fidelity are only pasted, and the newly decoded ones are kept
    there. `exact`: full precision, whatever the preview uses (exports)."""
    analysis = picture.analysis
    wanted = picture.face_fidelities() if faces is not None and picture.cacheable else {}
    decoded = {
        index: crop
        for index, w in wanted.items()
        if faces is not None and (crop := faces.get(analysis, index, w)) is not None
    }
    extra: dict[str, Any] = {"exact": True} if exact else {}
    if decoded:
        extra["decoded"] = decoded
    rendered = engine.render(
        analysis, picture.fidelity, choices=dict(picture.faces), cancel=cancel, **extra
    )
    if faces is not None:
        for index, crop in getattr(rendered, "faces", {}).items():
            if index in wanted and index not in decoded:
                faces.put(analysis, index, wanted[index], crop)
    return rendered


def can_patch(engine: Any, picture: Picture) -> bool:
    """Whether this picture can be sent as its faces' regions (`render_regions`): a Restore
    picture of a photo without transparency, on an engine that renders regions."""
    analysis = picture.analysis
    return (
        picture.cacheable
        and hasattr(engine, "render_regions")
        and getattr(analysis, "background_alpha", None) is None
        and getattr(analysis, "damage", None) is None
    )


def render_regions(
    engine: Any, picture: Picture, *, cancel: CancelCheck, faces: FaceCropCache
) -> Any:
    """Only the faces' regions of `picture` (see `render`; the decoded faces are kept in
    `faces`): all a window showing a render of the same analysis needs."""
    analysis = picture.analysis
    wanted = picture.face_fidelities()
    decoded = {
        index: crop
        for index, w in wanted.items()
        if (crop := faces.get(analysis, index, w)) is not None
    }
    regions = engine.render_regions(
        analysis, picture.fidelity, choices=dict(picture.faces), cancel=cancel, decoded=decoded
    )
    for index, crop in regions.faces.items():
        if index in wanted and index not in decoded:
            faces.put(analysis, index, wanted[index], crop)
    return regions


def decode_faces(
    engine: Any,
    analysis: Any,
    wanted: dict[int, float],
    faces: FaceCropCache,
    *,
    cancel: CancelCheck,
) -> None:
    """Decode these faces (index -> fidelity) into `faces`, one at a time (a request waits at
    most one face's decode); nothing is composited."""
    for index, w in wanted.items():
        for decoded_index, crop in engine.decode_faces(analysis, w, [index], cancel=cancel).items():
            faces.put(analysis, decoded_index, w, crop)


def export(
    engine: Any, target: ExportTarget, *, cancel: CancelCheck, progress: ProgressCallback
) -> Path:
    """Render `target` (analysing it first when it has no analysis) and write its file."""
    from core.photo_io import read_photo, write_photo

    photo = target.photo if target.photo is not None else read_photo(target.source)
    analysis = target.analysis
    if analysis is None:
        request = Analyze(
            doc_id=target.doc_id,
            photo=photo,
            pipeline=target.pipeline,
            variant=target.variant,
            mask=target.mask,
        )
        analysis = analyze(engine, request, cancel=cancel, progress=progress)
    progress("Rendering", 0.9)
    picture = Picture(analysis=analysis, fidelity=target.fidelity, faces=target.faces)
    rendered = render(engine, picture, cancel=cancel, exact=target.exact)
    progress("Writing", 0.95)
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


def damage_array(mask: DamageMask | None, photo: Any) -> np.ndarray:
    """The damage as H x W bool in photo pixels (all False when nothing is painted)."""
    shape = (photo.height, photo.width)
    if mask is None:
        return np.zeros(shape, bool)
    if mask.shape != shape:
        raise ValueError(f"the damage mask is {mask.size}, the photo {photo.width}x{photo.height}")
    return rasterize(mask)
