"""The inference worker and the session's scheduling: newest request wins, stale results are
dropped, cancel works between faces, the GUI thread keeps turning, shutdown is clean."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from PySide6.QtCore import QTimer

from core.choices import FaceChoice
from core.errors import ImageReadError
from desktop.document import Status
from desktop.images import qimage_from_rgb, rgb_from_qimage
from desktop.session import Session
from tests.desktop_support import ScriptedEngine, make_session, synthetic_photo

pytestmark = pytest.mark.qt


@pytest.fixture
def sessions(qtbot):
    made: list[Session] = []

    def make(engine: ScriptedEngine) -> Session:
        session = make_session(engine)
        made.append(session)
        return session

    yield make
    for session in made:
        session.shutdown()


def analysed(qtbot, session: Session, engine: ScriptedEngine):
    doc = session.open_photo(synthetic_photo(), "test.png")
    qtbot.waitUntil(lambda: doc.status is Status.READY, timeout=15000)
    assert session.worker.wait_until_idle(10)
    return doc


def shown_fidelity(doc) -> float:
    rgb, _ = rgb_from_qimage(doc.result)
    return float(rgb[0, 0, 0]) / 255


def test_qimage_round_trip_owns_its_pixels():
    rgb = np.arange(5 * 7 * 3, dtype=np.uint8).reshape(5, 7, 3)  # odd width: stride != 3 * w
    image = qimage_from_rgb(rgb[:, ::1])
    rgb[:] = 0  # the QImage must not share this buffer
    back, alpha = rgb_from_qimage(image)
    assert alpha is None
    assert np.array_equal(back, np.arange(5 * 7 * 3, dtype=np.uint8).reshape(5, 7, 3))
    with_alpha = qimage_from_rgb(back, np.full((5, 7), 9, np.uint8))
    back2, alpha2 = rgb_from_qimage(with_alpha)
    assert np.array_equal(back2, back) and alpha2 is not None and int(alpha2[0, 0]) == 9


def test_analysis_runs_once_in_the_worker_thread_and_renders(qtbot, sessions):
    engine = ScriptedEngine(faces=2)
    session = sessions(engine)
    doc = analysed(qtbot, session, engine)
    assert len(doc.faces) == 2
    assert doc.result is not None and doc.result_fidelity == pytest.approx(0.5)
    assert len(engine.calls_of("analyze")) == 1
    assert all(c.thread != threading.current_thread().name for c in engine.calls)
    session.set_fidelity(0.8)
    assert session.worker.wait_until_idle(10)
    assert len(engine.calls_of("analyze")) == 1  # a new fidelity never analyses again
    assert doc.result_fidelity == pytest.approx(0.8)
    assert shown_fidelity(doc) == pytest.approx(0.8, abs=1 / 255)


def test_newest_request_wins_and_stale_results_are_dropped(qtbot, sessions):
    engine = ScriptedEngine(faces=3, render_face_seconds=0.02)
    session = sessions(engine)
    doc = analysed(qtbot, session, engine)
    shown: list[float] = []
    session.result_changed.connect(lambda d: shown.append(d.result_fidelity))
    values = [round(0.01 * i, 2) for i in range(1, 60)]
    for value in values:
        session.set_fidelity(value)
        qtbot.wait(3)
    assert session.worker.wait_until_idle(15)
    renders = engine.calls_of("render")
    assert doc.result_fidelity == pytest.approx(values[-1])
    assert shown_fidelity(doc) == pytest.approx(values[-1], abs=1 / 255)
    assert shown and shown[-1] == pytest.approx(values[-1])
    # Results only ever move forward: what is shown is always the newest finished request.
    assert shown == sorted(shown)
    # Far fewer renders than requests: queued requests were replaced, running ones cancelled.
    assert len(renders) < len(values)
    assert any(c.cancelled for c in renders)


def test_a_response_to_a_request_no_longer_waited_for_is_dropped(qtbot, sessions):
    from desktop.inference.requests import Render
    from desktop.inference.responses import Rendered

    engine = ScriptedEngine(faces=1)
    session = sessions(engine)
    doc = analysed(qtbot, session, engine)
    before = session.stale_results_dropped
    old_result = doc.result
    session.set_fidelity(0.9)
    assert doc.render_pending
    # A result for an earlier request of the same picture arrives after a newer one was made.
    earlier = Render(doc_id=doc.doc_id, picture=doc.task.pending.picture.at(0.1))
    stale = Rendered(
        request=earlier,
        picture=earlier.picture,
        fidelity=0.1,
        image=qimage_from_rgb(np.zeros((4, 4, 3), np.uint8)),
        faces={},
        seconds=0.0,
        finished_at=time.time(),
    )
    session._on_rendered(stale)
    assert session.stale_results_dropped == before + 1
    assert doc.result is old_result and doc.render_pending
    assert session.worker.wait_until_idle(10)
    assert doc.result_fidelity == pytest.approx(0.9)


def test_event_loop_keeps_turning_during_analysis(qtbot, sessions):
    engine = ScriptedEngine(faces=4, face_seconds=0.15)
    session = sessions(engine)
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    doc = session.open_photo(synthetic_photo(), "slow.png")
    qtbot.waitUntil(lambda: doc.status is Status.ANALYSING, timeout=10000)
    started = time.monotonic()
    qtbot.waitUntil(lambda: doc.status is Status.READY, timeout=15000)
    timer.stop()
    during = [t for t in ticks if t >= started]
    assert time.monotonic() - started >= 0.4
    assert len(during) >= 10, f"the GUI thread stalled: {len(during)} ticks"
    assert max(np.diff(during)) < 0.25


def test_face_choices_reach_the_engine(qtbot, sessions):
    engine = ScriptedEngine(faces=2)
    session = sessions(engine)
    doc = analysed(qtbot, session, engine)
    session.set_face_options(doc, 1, FaceChoice(enabled=False))
    session.set_face_options(doc, 0, FaceChoice(enabled=True, fidelity=0.2))
    assert session.worker.wait_until_idle(10)
    last = engine.calls_of("render")[-1]
    assert not last.choices[1].enabled
    assert last.choices[0].enabled and last.choices[0].fidelity == pytest.approx(0.2)


def test_switching_photos_drops_queued_renders_of_the_other(qtbot, sessions):
    engine = ScriptedEngine(faces=1)
    session = sessions(engine)
    first = analysed(qtbot, session, engine)
    second = session.open_photo(synthetic_photo(seed=1), "second.png")
    qtbot.waitUntil(lambda: second.status is Status.READY, timeout=10000)
    assert session.worker.wait_until_idle(10)
    session.set_current(first)
    session.worker.wait_until_idle(10)
    engine.render_face_seconds = 0.2
    session.set_fidelity(0.3)  # renders `first`
    session.set_current(second)  # `second` needs a render at 0.3 too
    assert session.worker.wait_until_idle(10)
    assert second.result_fidelity == pytest.approx(0.3)
    assert not first.render_pending


def test_errors_become_problems_with_a_fix(qtbot, sessions):
    engine = ScriptedEngine(fail_with=type("OutOfMemoryError", (RuntimeError,), {})("CUDA oom"))
    session = sessions(engine)
    problems = []
    session.problem.connect(lambda p, d: problems.append((p, d)))
    doc = session.open_photo(synthetic_photo(), "big.png")
    qtbot.waitUntil(lambda: doc.status is Status.FAILED, timeout=10000)
    assert problems and problems[-1][0].kind == "out_of_memory"
    assert "Preferences" in problems[-1][0].fix_label
    engine.fail_with = ImageReadError("broken.jpg: not an image")
    session.retry(doc)
    qtbot.waitUntil(lambda: problems[-1][0].kind == "unreadable", timeout=10000)
    assert problems[-1][0].fix_label == "Remove photo"


def test_missing_weights_are_reported(qtbot, sessions):
    engine = ScriptedEngine(missing=("codeformer.pth",))
    session = sessions(engine)
    with qtbot.waitSignal(session.weights_needed, timeout=10000) as blocker:
        doc = session.open_photo(synthetic_photo(), "a.png")
    assert blocker.args[0].files == ("codeformer.pth",)
    qtbot.waitUntil(lambda: doc.status is Status.NEEDS_WEIGHTS, timeout=10000)
    engine.missing = ()
    session.weights_installed()
    qtbot.waitUntil(lambda: doc.status is Status.READY, timeout=10000)


def test_shutdown_during_work_is_prompt_and_clean(qtbot, sessions):
    engine = ScriptedEngine(faces=50, face_seconds=0.1)
    session = sessions(engine)
    doc = session.open_photo(synthetic_photo(), "long.png")
    qtbot.waitUntil(lambda: doc.status is Status.ANALYSING, timeout=10000)
    started = time.monotonic()
    session.shutdown()
    assert time.monotonic() - started < 2.0  # cancelled between faces, not after 5 s
    assert not session.worker.running
    assert engine.calls_of("analyze")[0].cancelled
