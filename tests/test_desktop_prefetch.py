"""Prefetch in the window's worker: idle renders around the slider's fidelity fill a cache; a
slider landing on one is served from it with the fidelity it was computed for; real requests
preempt prefetching; other face choices, tasks and exports never get a cached result."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import Qt

from core.choices import FaceChoice
from desktop.document import Status
from desktop.session import Session
from desktop.settings import StudioSettings
from desktop.task_mode import TaskMode
from tests.desktop_support import (  # noqa: F401
    Call,
    ScriptedEngine,
    make_session,
    synthetic_photo,
    window_factory,
)
from tests.test_desktop_worker import shown_fidelity

pytestmark = pytest.mark.qt

PLAN_AT_HALF = [0.55, 0.45, 0.6, 0.4, 0.0, 1.0]


@pytest.fixture
def sessions(qtbot):
    made: list[Session] = []

    def make(engine: ScriptedEngine, **settings) -> Session:
        session = make_session(engine, StudioSettings(upscale=1, **settings))
        made.append(session)
        return session

    yield make
    for session in made:
        session.shutdown()


def analysed(qtbot, session: Session):
    doc = session.open_photo(synthetic_photo(), "test.png")
    qtbot.waitUntil(lambda: doc.status is Status.READY, timeout=15000)
    assert session.worker.wait_until_idle(15)
    return doc


def fidelities(engine: ScriptedEngine, *, exact: bool = False) -> list[float | None]:
    return [c.fidelity for c in engine.calls_of("render") if c.exact == exact]


def test_idle_worker_prefetches_around_the_fidelity_and_the_ends(qtbot, sessions):
    engine = ScriptedEngine(faces=2)
    session = sessions(engine)
    doc = analysed(qtbot, session)
    assert doc.result_fidelity == pytest.approx(0.5)
    assert fidelities(engine) == pytest.approx([0.5, *PLAN_AT_HALF])
    assert not any(c.cancelled for c in engine.calls_of("render"))
    assert len(session.worker.cache) == 7
    assert doc.result_fidelity == pytest.approx(0.5)  # prefetched results are never shown


def test_a_prefetched_value_is_shown_at_once_without_a_render(qtbot, sessions):
    engine = ScriptedEngine(faces=2, render_face_seconds=0.25)
    session = sessions(engine)
    doc = analysed(qtbot, session)
    before = len(engine.calls_of("render"))
    started = time.perf_counter()
    session.set_fidelity(0.55)
    qtbot.waitUntil(lambda: doc.result_fidelity == pytest.approx(0.55), timeout=5000)
    assert time.perf_counter() - started < 0.25  # a decode of two faces takes 0.5 s here
    assert not doc.render_pending
    assert shown_fidelity(doc) == pytest.approx(0.55, abs=1 / 255)
    assert session.worker.wait_until_idle(15)
    calls = engine.calls_of("render")[before:]
    assert 0.55 not in [c.fidelity for c in calls]  # served from the cache
    # ... and the worker prefetched around 0.55 next (0.6, 0.5, 0 and 1 were there already).
    assert [c.fidelity for c in calls] == pytest.approx([0.65])


def test_the_window_says_which_fidelity_a_cached_result_was_computed_for(qtbot, window_factory):  # noqa: F811
    engine = ScriptedEngine(faces=1)
    window = window_factory(
        lambda _s: lambda: engine, settings=StudioSettings(upscale=1, fidelity=0.5)
    )
    session = window.session
    doc = session.open_photo(synthetic_photo(), "shown.png")
    qtbot.waitUntil(lambda: doc.status is Status.READY, timeout=15000)
    assert session.worker.wait_until_idle(15)
    assert "fidelity 0.50" in window.fidelity.shown.text()
    renders = len(engine.calls_of("render"))
    session.set_fidelity(0.55)
    qtbot.waitUntil(lambda: "fidelity 0.55" in window.fidelity.shown.text(), timeout=5000)
    assert doc.result_fidelity == pytest.approx(0.55)
    assert len(engine.calls_of("render")) <= renders + 1  # at most the next prefetch
    assert 0.55 not in fidelities(engine)[renders:]


def test_a_real_request_preempts_prefetching(qtbot, sessions):
    engine = ScriptedEngine(faces=4, render_face_seconds=0.1)
    session = sessions(engine)
    doc = analysed(qtbot, session)  # 0.5 and its whole plan
    session.set_fidelity(0.2)
    # The render at 0.2, then prefetching around it: 0.25 starts.
    qtbot.waitUntil(lambda: 0.25 in fidelities(engine), timeout=10000)
    calls_when_done: list[int] = []
    session.worker.rendered.connect(
        lambda _d: calls_when_done.append(len(engine.calls_of("render"))),
        Qt.ConnectionType.DirectConnection,
    )
    session.set_fidelity(0.8)  # not prefetched: a real render
    qtbot.waitUntil(lambda: doc.result_fidelity == pytest.approx(0.8), timeout=10000)
    assert session.worker.wait_until_idle(15)
    calls = engine.calls_of("render")
    values = [c.fidelity for c in calls]
    at = values.index(0.8)
    assert values[at - 1] == pytest.approx(0.25) and calls[at - 1].cancelled
    # Its result came before any further prefetch started ...
    assert calls_when_done == [at + 1]
    # ... which then went around 0.8 (0, 1 were already cached).
    assert values[at + 1 :] == pytest.approx([0.85, 0.75, 0.9, 0.7])


def test_other_face_choices_never_get_a_cached_result(qtbot, sessions):
    engine = ScriptedEngine(faces=2)
    session = sessions(engine)
    doc = analysed(qtbot, session)  # 0.55 is prefetched with both faces on
    before = len(engine.calls_of("render"))
    session.set_face_options(doc, 1, FaceChoice(enabled=False))
    session.set_fidelity(0.55)
    assert session.worker.wait_until_idle(15)
    # The result at 0.55 shown was computed for face 1 off (rendered, or prefetched after the
    # render at 0.5 with face 1 off), never the cached one with both faces.
    done = [c for c in engine.calls_of("render")[before:] if not c.cancelled]
    assert any(c.fidelity == 0.55 and not c.choices[1].enabled for c in done)
    assert doc.result_fidelity == pytest.approx(0.55)
    # Back to both faces: that result was cached and is served without a render.
    before = len(engine.calls_of("render"))
    session.set_face_options(doc, 1, FaceChoice(enabled=True))
    assert session.worker.wait_until_idle(15)
    assert all(c.choices[1].enabled for c in engine.calls_of("render")[before:])
    assert 0.55 not in fidelities(engine)[before:]
    assert doc.result_fidelity == pytest.approx(0.55)


def test_colorize_has_a_fixed_fidelity_and_is_not_prefetched(qtbot, sessions):
    engine = ScriptedEngine(faces=1)
    session = sessions(engine)
    doc = analysed(qtbot, session)
    before = len(engine.calls_of("render"))
    session.set_mode(doc, TaskMode.COLORIZE)
    qtbot.waitUntil(lambda: doc.status is Status.READY, timeout=15000)
    assert session.worker.wait_until_idle(15)
    colorize = [c for c in engine.calls_of("render")[before:] if c.variant == "colorization"]
    assert [c.fidelity for c in colorize] == [None]


def test_prefetch_can_be_turned_off(qtbot, sessions):
    engine = ScriptedEngine(faces=1)
    session = sessions(engine, prefetch=False)
    doc = analysed(qtbot, session)
    assert fidelities(engine) == pytest.approx([0.5])
    session.apply_settings(StudioSettings(upscale=1, prefetch=True))
    session.set_fidelity(0.6)
    assert session.worker.wait_until_idle(15)
    assert fidelities(engine) == pytest.approx([0.5, 0.6, 0.65, 0.55, 0.7, 0.0, 1.0])
    session.apply_settings(StudioSettings(upscale=1, prefetch=False))
    session.set_fidelity(0.3)
    assert session.worker.wait_until_idle(15)
    assert fidelities(engine)[-1] == pytest.approx(0.3)
    assert doc.result_fidelity == pytest.approx(0.3)


def test_closing_or_reanalysing_a_photo_drops_its_cached_results(qtbot, sessions):
    engine = ScriptedEngine(faces=1)
    session = sessions(engine)
    doc = analysed(qtbot, session)
    assert len(session.worker.cache) == 7
    session.retry(doc)  # analysed again
    qtbot.waitUntil(lambda: doc.status is Status.READY, timeout=15000)
    assert session.worker.wait_until_idle(15)
    assert len(session.worker.cache) == 7  # the new analysis's, the old ones were dropped
    session.remove(doc)
    assert len(session.worker.cache) == 0


def test_exports_render_exactly_and_never_read_the_cache(qtbot, sessions, tmp_path):
    engine = ScriptedEngine(faces=1)
    session = sessions(engine)
    doc = analysed(qtbot, session)
    session.set_fidelity(0.55)  # cached
    assert session.worker.wait_until_idle(15)
    with qtbot.waitSignal(session.worker.export_finished, timeout=15000) as blocker:
        session.export([session.export_target(doc, tmp_path / "out.png")])
    assert blocker.args[0].written == (tmp_path / "out.png",)
    assert fidelities(engine, exact=True) == pytest.approx([0.55])


def test_closing_the_window_while_prefetching_is_clean(qtbot, window_factory):  # noqa: F811
    engine = ScriptedEngine(faces=20, render_face_seconds=0.05)
    window = window_factory(
        lambda _s: lambda: engine, settings=StudioSettings(upscale=1, fidelity=0.5)
    )
    session = window.session
    doc = session.open_photo(synthetic_photo(), "closing.png")
    qtbot.waitUntil(lambda: doc.result_fidelity is not None, timeout=20000)
    qtbot.waitUntil(lambda: 0.55 in fidelities(engine), timeout=10000)  # prefetching
    started = time.monotonic()
    window.close()
    assert time.monotonic() - started < 2.0  # cancelled between faces
    assert not session.worker.running
    assert engine.calls_of("render")[-1].cancelled
    assert doc.result_fidelity == pytest.approx(0.5)


def test_a_face_decoded_before_is_only_pasted(qtbot, sessions):
    """Switching one face off renders the photo again, but the other face, decoded at that
    fidelity before, is pasted as it was (no decode); so is a face whose own fidelity equals a
    value seen before."""
    engine = ScriptedEngine(faces=2, render_face_seconds=0.05)
    session = sessions(engine, prefetch=False)
    doc = analysed(qtbot, session)
    assert [c.decoded for c in engine.calls_of("render")] == [()]
    session.set_face_options(doc, 1, FaceChoice(enabled=False))
    assert session.worker.wait_until_idle(15)
    assert engine.calls_of("render")[-1].decoded == (0,)
    session.set_fidelity(0.8)
    assert session.worker.wait_until_idle(15)
    assert engine.calls_of("render")[-1].decoded == ()  # a new value decodes
    session.set_face_options(doc, 1, FaceChoice(enabled=True, fidelity=0.5))
    assert session.worker.wait_until_idle(15)
    assert engine.calls_of("render")[-1].decoded == (0, 1)  # 0 at 0.8, 1 at its own 0.5
    assert doc.result_fidelity == pytest.approx(0.8)


class DecodingEngine(ScriptedEngine):
    """A scripted engine that can also decode faces alone (as the real one does), so the idle
    worker fills every step of the slider."""

    def decode_faces(self, analysis, fidelity, indices, *, cancel=None):
        call = self._record(Call("decode", fidelity=fidelity))
        crops = {}
        for face in analysis.faces:
            if face.index in indices:
                self._sleep(self.render_face_seconds, cancel, call)
                crops[face.index] = np.full_like(face.crop, round(255 * fidelity))
        return crops


def test_idle_worker_fills_every_step_of_the_slider_and_a_landing_only_pastes(qtbot, sessions):
    engine = DecodingEngine(faces=2)
    session = sessions(engine)
    doc = analysed(qtbot, session)
    rendered = {0.5, *PLAN_AT_HALF}  # the value on screen and the whole-photo prefetch
    decoded = [c.fidelity for c in engine.calls_of("decode")]
    steps = [round(i * 0.05, 2) for i in range(21)]
    nearest = sorted(steps, key=lambda v: (round(abs(v - 0.5), 6), v))  # ties: the lower first
    expected = [v for v in nearest if v not in rendered]
    assert decoded == pytest.approx([v for v in expected for _ in range(2)])  # nearest first
    assert len(session.worker.face_cache) == 2 * 21
    before = len(engine.calls_of("render"))
    session.set_fidelity(0.25)  # a step no whole photo was rendered for
    qtbot.waitUntil(lambda: doc.result_fidelity == pytest.approx(0.25), timeout=5000)
    landing = engine.calls_of("render")[before]
    assert landing.fidelity == pytest.approx(0.25) and landing.decoded == (0, 1)
    assert session.worker.wait_until_idle(15)


def test_filling_the_slider_follows_the_prefetch_switch(qtbot, sessions):
    engine = DecodingEngine(faces=1, render_face_seconds=0.02)
    session = sessions(engine, prefetch=False)
    analysed(qtbot, session)
    assert engine.calls_of("decode") == []  # the switch turns the fill off too
    session.worker.set_prefetch(True)
    session.set_fidelity(0.7)
    assert session.worker.wait_until_idle(15)
    # all but the values rendered whole: 0.5 before, then 0.7 and its six prefetched values
    assert len(engine.calls_of("decode")) == 21 - 8
