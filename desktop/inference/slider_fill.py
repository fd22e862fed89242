"""What an idle worker computes ahead for the slider, and the caches it fills.

After each render request of a Restore picture, the plan is: first a few whole renders around
the slider's value and its two ends (`core.prefetch.prefetch_fidelities`, kept in the
`RenderCache` as far as it has room), then every 0.05 step of the slider, nearest first
(`slider_grid`), decoded face by face into the `FaceCropCache` (0.8 MB a face and value), so a
landing on any step only composites. Only the photo on screen is planned for.

Not thread-safe by itself: the queue calls it holding its own lock. The caches are thread-safe
(the worker fills them while the window may read).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

from core.prefetch import (
    FaceCropCache,
    RenderCache,
    prefetch_fidelities,
    rendered_nbytes,
    slider_grid,
)
from desktop.inference.requests import Picture


@dataclass(frozen=True, kw_only=True)
class FillStep:
    """One piece of idle work: render `picture` whole into the render cache, or (with `decode`)
    decode those faces (index -> fidelity) into the face cache."""

    doc_id: int
    picture: Picture
    decode: dict[int, float] | None = None


@dataclass(eq=False)
class _Plan:
    doc_id: int
    picture: Picture
    values: list[float]
    grid: list[float]
    budget: int | None = None  # how many of `values` the render cache can hold beside the current


class SliderFill:
    """The plan for the photo on screen, and the caches it fills (see the module docstring)."""

    def __init__(self, *, enabled: bool = True, renders: RenderCache | None = None) -> None:
        self.enabled = enabled
        self.renders = renders if renders is not None else RenderCache()
        self.faces = FaceCropCache()
        self._plan: _Plan | None = None
        self._analyses: dict[int, list[weakref.ref[Any]]] = {}  # doc id -> analyses cached

    @property
    def active(self) -> bool:
        """There is idle work planned."""
        return self.enabled and self._plan is not None

    @property
    def doc_id(self) -> int | None:
        return self._plan.doc_id if self._plan is not None else None

    def lookup(self, picture: Picture) -> Any | None:
        """A whole render of exactly this picture, if one is kept."""
        if not picture.cacheable:
            return None
        assert picture.fidelity is not None
        return self.renders.get(picture.analysis, picture.fidelity, picture.faces)

    def plan_around(self, doc_id: int, picture: Picture, *, whole: bool = True) -> None:
        """The newest picture asked for: fill around it when idle (nothing for pictures that
        are not cached, or when the fill is off). `whole`: render a few values whole first
        (not when the window takes patches: then the faces are all it needs)."""
        if not (self.enabled and picture.cacheable):
            self._plan = None
            return
        assert picture.fidelity is not None
        self._plan = _Plan(
            doc_id,
            picture,
            list(prefetch_fidelities(picture.fidelity)) if whole else [],
            list(slider_grid(picture.fidelity)),
            budget=None if whole else 0,
        )

    def still_wanted(self, step: FillStep) -> bool:
        """A running step goes on when the newest plan still includes it."""
        plan = self._plan
        if plan is None or step.decode is not None:
            return plan is not None and _same_choices(plan.picture, step.picture)
        return _same_choices(plan.picture, step.picture) and (
            step.picture.fidelity in plan.values or step.picture.fidelity == plan.picture.fidelity
        )

    def next_step(self, *, can_decode_faces: bool) -> FillStep | None:
        """The next piece of idle work, or None when the plan is done (then it is forgotten)."""
        plan = self._plan
        if plan is None or not self.enabled:
            return None
        if plan.budget is None:  # room for whole renders: as many as fit beside the current
            current = self.lookup(plan.picture)
            if current is None:  # its render failed or was cancelled
                self._plan = None
                return None
            size = max(1, rendered_nbytes(current))
            room = min(self.renders.max_entries, self.renders.max_bytes // size)
            plan.budget = max(0, room - 1)  # the current one stays in the cache too
        while plan.values and plan.budget > 0:
            value = plan.values.pop(0)
            plan.budget -= 1
            picture = Picture(
                analysis=plan.picture.analysis, fidelity=value, faces=plan.picture.faces
            )
            if self.lookup(picture) is None:
                return FillStep(doc_id=plan.doc_id, picture=picture)
        while can_decode_faces and plan.grid:
            value = plan.grid.pop(0)
            picture = Picture(
                analysis=plan.picture.analysis, fidelity=value, faces=plan.picture.faces
            )
            missing = {
                index: w
                for index, w in picture.face_fidelities().items()
                if self.faces.get(picture.analysis, index, w) is None
            }
            if missing:
                return FillStep(doc_id=plan.doc_id, picture=picture, decode=missing)
        self._plan = None
        return None

    def filled_steps(self, picture: Picture) -> tuple[float, ...]:
        """The slider's steps whose faces are all decoded for this picture's analysis and face
        choices (shown as ticks on the slider)."""
        steps = []
        for value in sorted(slider_grid(0.5)):
            step = picture.at(value)
            wanted = step.face_fidelities()
            if wanted and all(
                self.faces.get(step.analysis, i, w) is not None for i, w in wanted.items()
            ):
                steps.append(value)
        return tuple(steps)

    def remember(self, doc_id: int, picture: Picture, rendered: Any) -> None:
        """Keep a finished preview whole."""
        if not picture.cacheable:
            return
        assert picture.fidelity is not None
        self.renders.put(picture.analysis, picture.fidelity, picture.faces, rendered)
        refs = self._analyses.setdefault(doc_id, [])
        refs[:] = [r for r in refs if r() is not None]
        if not any(r() is picture.analysis for r in refs):
            refs.append(weakref.ref(picture.analysis))

    def stop(self) -> None:
        """Forget the plan (the caches keep what they hold)."""
        self._plan = None

    def forget(self, doc_id: int) -> None:
        """A photo closed or analysed again: its plan and everything cached of it go."""
        if self._plan is not None and self._plan.doc_id == doc_id:
            self._plan = None
        for ref in self._analyses.pop(doc_id, []):
            analysis = ref()
            if analysis is not None:
                self.renders.drop(analysis)
                self.faces.drop(analysis)

    def clear(self) -> None:
        """Everything goes (a new engine: its results differ)."""
        self._plan = None
        self.renders.clear()
        self.faces.clear()
        self._analyses.clear()


def _same_choices(a: Picture, b: Picture) -> bool:
    return a.analysis is b.analysis and dict(a.faces) == dict(b.faces)
