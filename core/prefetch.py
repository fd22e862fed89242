"""Prefetching renders for the fidelity slider, and a small cache of rendered results.

While the inference worker is idle it renders a few fidelity values around the current one, and
the two ends, so that a slider landing on one of them shows an exact, already computed result at
once (a dictionary lookup instead of a decode). Results are keyed by (analysis, fidelity, face
choices): a result is only ever shown for exactly the values it was computed for, and
`Rendered.fidelity` says which fidelity that is.

Typical worker loop::

    cache = RenderCache()
    rendered = cache.get(analysis, fidelity, choices) or render(analysis, model, fidelity, ...)
    cache.put(analysis, fidelity, choices, rendered)
    # when idle:
    for value in cache.missing(analysis, prefetch_fidelities(fidelity), choices):
        cache.put(analysis, value, choices, render(analysis, model, value, ...))
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # torch-free at run time: the window's thread may look results up
    from core.pipeline import Analysis, Rendered


class FaceChoiceLike(Protocol):
    """What the cache reads of a face's choices (core.pipeline.FaceChoice, or the window's)."""

    @property
    def enabled(self) -> bool: ...

    @property
    def fidelity(self) -> float | None: ...


FIDELITY_DECIMALS = 3
"""Fidelities are compared after rounding to this many decimals (the slider moves by 0.01)."""


def snap(fidelity: float, grid: float = 0.01) -> float:
    """`fidelity` on the slider's grid, clamped to [0, 1]."""
    steps = round(min(max(fidelity, 0.0), 1.0) / grid)
    return round(min(max(steps * grid, 0.0), 1.0), FIDELITY_DECIMALS)


def prefetch_fidelities(
    current: float,
    *,
    step: float = 0.05,
    around: int = 2,
    ends: bool = True,
    grid: float = 0.01,
) -> tuple[float, ...]:
    """The fidelities to render when idle, most useful first.

    `current +- step`, then `current +- 2 step` ... up to `around` steps each way, then (with
    `ends`) 0 and 1. Values are snapped to `grid` and clamped to [0, 1]; the current value and
    duplicates are left out.
    """
    if step <= 0:
        raise ValueError(f"step must be positive, got {step}")
    here = snap(current, grid)
    wanted: list[float] = []
    for k in range(1, around + 1):
        wanted += [snap(here + k * step, grid), snap(here - k * step, grid)]
    if ends:
        wanted += [0.0, 1.0]
    plan: list[float] = []
    for value in wanted:
        if value != here and value not in plan:
            plan.append(value)
    return tuple(plan)


def slider_grid(current: float, step: float = 0.05) -> tuple[float, ...]:
    """Every step of the slider (0, 0.05 ... 1: 21 values), nearest to `current` first (the
    lower of two equally near first): the order in which an idle worker fills them."""
    count = round(1 / step)
    values = [round(i * step, FIDELITY_DECIMALS) for i in range(count + 1)]
    return tuple(sorted(values, key=lambda v: (round(abs(v - current), 6), v)))


ChoicesKey = tuple[tuple[int, bool, float | None], ...]


def choices_key(choices: Mapping[int, FaceChoiceLike] | None) -> ChoicesKey:
    """A hashable, order-independent form of per-face choices (None and {} are the same)."""
    if not choices:
        return ()
    return tuple(
        (index, choice.enabled, None if choice.fidelity is None else round(choice.fidelity, 3))
        for index, choice in sorted(choices.items())
    )


def rendered_nbytes(rendered: Rendered) -> int:
    """Bytes held by a rendered result (the photo, its alpha and the face crops)."""
    total = rendered.image.nbytes
    if rendered.alpha is not None:
        total += rendered.alpha.nbytes
    return total + sum(face.nbytes for face in rendered.faces.values())


@dataclass(frozen=True)
class _Entry:
    analysis: weakref.ref[Analysis]
    value: Any
    nbytes: int


class _AnalysisCache:
    """A least-recently-used store of values computed from analyses, bounded by count and by
    bytes. Keys start with `id(analysis)`; the analysis is held only weakly, so once a photo's
    analysis is dropped its values can no longer be found, and `drop` frees them at once.
    Thread-safe: the worker fills it, the GUI may read it."""

    def __init__(self, *, max_entries: int, max_bytes: int) -> None:
        if max_entries < 1 or max_bytes < 1:
            raise ValueError("a cache needs room for at least one entry")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[Any, ...], _Entry] = OrderedDict()
        self._nbytes = 0
        self._lock = threading.Lock()

    def _get(self, key: tuple[Any, ...], analysis: Analysis) -> Any | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.analysis() is not analysis:  # an old analysis whose id was reused
                self._remove(key)
                return None
            self._entries.move_to_end(key)
            return entry.value

    def _has(self, key: tuple[Any, ...], analysis: Analysis) -> bool:
        with self._lock:
            entry = self._entries.get(key)
            return entry is not None and entry.analysis() is analysis

    def _put(self, key: tuple[Any, ...], analysis: Analysis, value: Any, size: int) -> None:
        """Keep `value`, evicting the least recently used past the bounds (too big: not kept)."""
        with self._lock:
            if key in self._entries:
                self._remove(key)
            if size > self.max_bytes:
                return
            self._entries[key] = _Entry(weakref.ref(analysis), value, size)
            self._nbytes += size
            while len(self._entries) > self.max_entries or self._nbytes > self.max_bytes:
                self._remove(next(iter(self._entries)))

    def drop(self, analysis: Analysis) -> None:
        """Forget every value of `analysis` (a photo closed or analysed again)."""
        with self._lock:
            for key in [k for k in self._entries if k[0] == id(analysis)]:
                self._remove(key)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._nbytes = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    @property
    def nbytes(self) -> int:
        with self._lock:
            return self._nbytes

    def _remove(self, key: tuple[Any, ...]) -> None:
        self._nbytes -= self._entries.pop(key).nbytes


class RenderCache(_AnalysisCache):
    """Rendered results, keyed by (analysis, fidelity rounded to `FIDELITY_DECIMALS`, face
    choices); at most `max_entries` of them and `max_bytes` together."""

    def __init__(self, *, max_entries: int = 16, max_bytes: int = 512 * 2**20) -> None:
        super().__init__(max_entries=max_entries, max_bytes=max_bytes)

    @staticmethod
    def _key(
        analysis: Analysis, fidelity: float, choices: Mapping[int, FaceChoiceLike] | None
    ) -> tuple[int, float, ChoicesKey]:
        return (id(analysis), round(float(fidelity), FIDELITY_DECIMALS), choices_key(choices))

    def get(
        self,
        analysis: Analysis,
        fidelity: float,
        choices: Mapping[int, FaceChoiceLike] | None = None,
    ) -> Rendered | None:
        """The result rendered for exactly these values, or None."""
        result: Rendered | None = self._get(self._key(analysis, fidelity, choices), analysis)
        return result

    def __contains__(
        self, item: tuple[Analysis, float, Mapping[int, FaceChoiceLike] | None]
    ) -> bool:
        analysis, fidelity, choices = item
        return self._has(self._key(analysis, fidelity, choices), analysis)

    def put(
        self,
        analysis: Analysis,
        fidelity: float,
        choices: Mapping[int, FaceChoiceLike] | None,
        rendered: Rendered,
    ) -> None:
        """Keep `rendered` as the result for these values, evicting the least recently used."""
        if abs(rendered.fidelity - fidelity) > 10**-FIDELITY_DECIMALS:
            raise ValueError(
                f"this result was rendered at fidelity {rendered.fidelity}, not {fidelity}"
            )
        key = self._key(analysis, fidelity, choices)
        self._put(key, analysis, rendered, rendered_nbytes(rendered))

    def missing(
        self,
        analysis: Analysis,
        fidelities: Iterable[float],
        choices: Mapping[int, FaceChoiceLike] | None = None,
    ) -> list[float]:
        """The values of `fidelities` (in their order) that have no cached result yet."""
        return [f for f in fidelities if (analysis, f, choices) not in self]


class FaceCropCache(_AnalysisCache):
    """Decoded faces by (analysis, face index, fidelity), bounded by bytes (a 512 face is
    0.8 MB).

    A render takes the faces it finds here and decodes only the others (`rendering.render`'s
    `decoded`), so a value seen before, a face switched off and on, or another face's own
    fidelity never decodes a face twice; the idle worker fills the slider's steps into it.
    """

    def __init__(self, *, max_bytes: int = 256 * 2**20) -> None:
        super().__init__(max_entries=1 << 30, max_bytes=max_bytes)

    @staticmethod
    def _key(analysis: Analysis, index: int, fidelity: float) -> tuple[int, int, float]:
        return (id(analysis), int(index), round(float(fidelity), FIDELITY_DECIMALS))

    def get(self, analysis: Analysis, index: int, fidelity: float) -> Any | None:
        """The face decoded at exactly this fidelity, or None."""
        return self._get(self._key(analysis, index, fidelity), analysis)

    def put(self, analysis: Analysis, index: int, fidelity: float, crop: Any) -> None:
        self._put(self._key(analysis, index, fidelity), analysis, crop, int(crop.nbytes))
